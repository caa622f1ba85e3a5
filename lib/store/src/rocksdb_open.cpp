// SPDX-License-Identifier: AGPL-3.0-or-later
// RocksDbStore: opening, the shared helpers of Impl, and statistics.

#include <rocksdb/cache.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/table.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <vector>

#include "rocksdb_impl.h"
#include "rocksdb_keys.h"

namespace parley::store {
namespace {

// 2 added shared payloads (mailbox entries that refer to one). A version-1 store is readable as
// is and is marked 2 at open, so an older binary refuses it instead of misreading references.
constexpr std::uint32_t kFormatVersion = 2;
constexpr std::uint32_t kOldestReadableFormatVersion = 1;

constexpr std::array<const char*, static_cast<std::size_t>(Cf::kCount)> kCfNames = {
    "default",  // rocksdb::kDefaultColumnFamilyName
    "accounts",  "usernames", "identity_keys", "devices",         "prekeys",
    "mailboxes", "dedupe",    "meta",          "shared_payloads",
};

Status check_format_version(RocksDbStore::Impl& impl) {
  PARLEY_ASSIGN_OR_RETURN(auto stored, impl.get(Cf::kMeta, keys::kFormatVersionKey));
  if (stored) {
    if (stored->size() != 4) {
      return Status::error(ErrorCode::kStorageCorrupt, "unreadable format version");
    }
    std::uint32_t version = keys::get_u32(*stored, 0);
    if (version < kOldestReadableFormatVersion || version > kFormatVersion) {
      return Status::error(ErrorCode::kUnsupportedVersion, "store written by an unknown format");
    }
    if (version == kFormatVersion) return {};
  }
  std::string value;
  keys::put_u32(value, kFormatVersion);
  rocksdb::WriteBatch batch;
  batch.Put(impl.cf(Cf::kMeta), keys::kFormatVersionKey, value);
  return impl.write(batch, "writing format version");
}

// Counts the live shared payloads (by their small reference-count records) and finds the highest
// id, so new ids never collide with a stored one.
// Shared-payload reference counts: the stored value is the count, each merge operand a number of
// references released (both codec::encode_reference_count). Clamped at 0 rather than failing: a
// count can only go below 0 through a bug, and a failed merge would stop compactions of the whole
// store, not just this payload.
class ReferenceCountMerge final : public rocksdb::MergeOperator {
 public:
  bool FullMergeV2(const MergeOperationInput& input, MergeOperationOutput* output) const override {
    std::uint64_t count = 0;
    if (input.existing_value != nullptr) count = decoded(*input.existing_value);
    for (const rocksdb::Slice& operand : input.operand_list) {
      const std::uint64_t dropped = decoded(operand);
      count = dropped >= count ? 0 : count - dropped;
    }
    output->new_value = codec::encode_reference_count(count);
    return true;
  }

  bool PartialMergeMulti(const rocksdb::Slice&, const std::deque<rocksdb::Slice>& operands,
                         std::string* new_value, rocksdb::Logger*) const override {
    std::uint64_t dropped = 0;
    for (const rocksdb::Slice& operand : operands) dropped += decoded(operand);
    *new_value = codec::encode_reference_count(dropped);
    return true;
  }

  const char* Name() const override { return "parley.ReferenceCountRelease"; }

 private:
  static std::uint64_t decoded(const rocksdb::Slice& value) {
    auto number = codec::decode_merged_reference_count(value.ToStringView());
    return number.ok() ? *number : 0;
  }
};

}  // namespace

std::shared_ptr<rocksdb::MergeOperator> reference_count_merge_operator() {
  return std::make_shared<ReferenceCountMerge>();
}

namespace {

Status load_shared_payload_state(RocksDbStore::Impl& impl) {
  std::string begin(1, keys::kReferenceCountTag);
  std::string end = *keys::prefix_end(begin);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions read_options;
  read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(
      impl.db->NewIterator(read_options, impl.cf(Cf::kSharedPayloads)));
  std::uint64_t live = 0;
  std::uint64_t highest = 0;
  rocksdb::WriteBatch released;  // payloads whose last reference went just before a crash
  for (it->Seek(begin); it->Valid(); it->Next()) {
    auto id = keys::parse_shared_payload_id(it->key().ToStringView());
    if (!id) return Status::error(ErrorCode::kStorageCorrupt, "unreadable shared payload key");
    highest = std::max(highest, *id);
    PARLEY_ASSIGN_OR_RETURN(std::uint64_t count,
                            codec::decode_merged_reference_count(it->value().ToStringView()));
    if (count == 0) {
      released.Delete(impl.cf(Cf::kSharedPayloads), it->key());
      released.Delete(impl.cf(Cf::kSharedPayloads), keys::shared_payload(*id));
      continue;
    }
    ++live;
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "scanning shared payloads");
  if (released.Count() > 0) {
    PARLEY_RETURN_IF_ERROR(impl.write(released, "deleting released shared payloads"));
  }
  // A payload record without a count cannot exist (both are written and deleted together), but
  // its id must not be reused either way.
  std::unique_ptr<rocksdb::Iterator> last(
      impl.db->NewIterator(rocksdb::ReadOptions(), impl.cf(Cf::kSharedPayloads)));
  last->SeekForPrev(std::string(1, keys::kSharedPayloadTag) + std::string(8, '\xff'));
  if (last->Valid()) {
    auto id = keys::parse_shared_payload_id(last->key().ToStringView());
    if (id && last->key()[0] == keys::kSharedPayloadTag) highest = std::max(highest, *id);
  }
  if (!last->status().ok()) return from_rocksdb(last->status(), "scanning shared payloads");
  impl.shared_payloads_live.store(live);
  impl.next_shared_payload_id.store(highest + 1);
  return {};
}

}  // namespace

Status from_rocksdb(const rocksdb::Status& status, std::string_view context) {
  std::string message = std::string(context) + ": " + status.ToString();
  if (status.IsNoSpace()) return Status::error(ErrorCode::kStorageFull, std::move(message));
  if (status.IsCorruption()) return Status::error(ErrorCode::kStorageCorrupt, std::move(message));
  return Status::error(ErrorCode::kStorageIo, std::move(message));
}

RocksDbStore::Impl::~Impl() {
  for (rocksdb::ColumnFamilyHandle*& handle : handles) {
    if (handle != nullptr && db) db->DestroyColumnFamilyHandle(handle);
    handle = nullptr;
  }
  if (db) db->Close().PermitUncheckedError();
}

Status RocksDbStore::Impl::write(rocksdb::WriteBatch& batch, std::string_view context) {
  if (reserved_free_bytes > 0) {
    struct statvfs disk {};
    if (::statvfs(options.path.c_str(), &disk) == 0 &&
        static_cast<std::uint64_t>(disk.f_bavail) * disk.f_frsize < reserved_free_bytes) {
      return Status::error(ErrorCode::kStorageFull,
                           std::string(context) + ": the server's disk is full (no space left)");
    }
  }
  auto start = std::chrono::steady_clock::now();
  rocksdb::Status status = db->Write(write_options, &batch);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  last_write_micros.store(static_cast<std::uint64_t>(micros.count()), std::memory_order_relaxed);
  if (!status.ok()) return from_rocksdb(status, context);
  mutations.fetch_add(1, std::memory_order_relaxed);
  return {};
}

Result<std::optional<std::string>> RocksDbStore::Impl::get(Cf family, std::string_view key) const {
  std::string value;
  rocksdb::Status status = db->Get(rocksdb::ReadOptions(), cf(family), key, &value);
  if (status.IsNotFound()) return std::optional<std::string>();
  if (!status.ok()) return from_rocksdb(status, "reading");
  return std::optional<std::string>(std::move(value));
}

Result<bool> RocksDbStore::Impl::exists(Cf family, std::string_view key) const {
  PARLEY_ASSIGN_OR_RETURN(auto value, get(family, key));
  return value.has_value();
}

Result<std::optional<Device>> RocksDbStore::Impl::read_device(const DeviceAddress& address) const {
  PARLEY_ASSIGN_OR_RETURN(auto value, get(Cf::kDevices, keys::device(address)));
  if (!value) return std::optional<Device>();
  PARLEY_ASSIGN_OR_RETURN(Device device, codec::decode_device(address, *value));
  return std::optional<Device>(std::move(device));
}

Result<codec::MailboxState> RocksDbStore::Impl::read_mailbox_state(
    const DeviceAddress& address) const {
  PARLEY_ASSIGN_OR_RETURN(auto value, get(Cf::kMeta, keys::mailbox_state(address)));
  if (!value) return codec::MailboxState{};
  return codec::decode_mailbox_state(*value);
}

Status RocksDbStore::Impl::delete_prefix(rocksdb::WriteBatch& batch, Cf family,
                                         std::string_view prefix) const {
  std::optional<std::string> end = keys::prefix_end(prefix);
  std::string end_key = end.value_or(std::string());
  rocksdb::Slice upper(end_key);
  rocksdb::ReadOptions read_options;
  if (end) read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read_options, cf(family)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    batch.Delete(cf(family), it->key());
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "scanning");
  return {};
}

Status RocksDbStore::Impl::delete_device_data(rocksdb::WriteBatch& batch,
                                              const DeviceAddress& address,
                                              SharedReleases& released) const {
  std::string device_key = keys::device(address);
  batch.Delete(cf(Cf::kDevices), device_key);
  PARLEY_RETURN_IF_ERROR(delete_prefix(batch, Cf::kPrekeys, device_key));
  // The mailbox, noting the shared payloads its entries refer to.
  std::string end = keys::prefix_end(device_key).value_or(std::string());
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions read_options;
  if (!end.empty()) read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read_options, cf(Cf::kMailboxes)));
  for (it->Seek(device_key); it->Valid() && it->key().starts_with(device_key); it->Next()) {
    batch.Delete(cf(Cf::kMailboxes), it->key());
    PARLEY_ASSIGN_OR_RETURN(auto shared,
                            codec::decode_shared_reference(it->value().ToStringView()));
    if (shared) ++released[*shared];
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "scanning mailbox");
  batch.Delete(cf(Cf::kMeta), keys::mailbox_state(address));
  return {};
}

Result<RocksDbStore::Impl::ReleasePlan> RocksDbStore::Impl::plan_releases(
    rocksdb::WriteBatch& batch, const SharedReleases& released) {
  ReleasePlan plan;
  plan.payload_ids.reserve(released.size());
  for (const auto& [id, dropped] : released) {
    batch.Merge(cf(Cf::kSharedPayloads), keys::reference_count(id),
                codec::encode_reference_count(dropped));
    plan.payload_ids.push_back(id);
  }
  return plan;
}

void RocksDbStore::Impl::commit_releases(const ReleasePlan& plan) {
  // The count of a payload that still has references: most releases stop at the first read.
  auto reached_zero = [this](const std::string& count_key) {
    auto value = get(Cf::kSharedPayloads, count_key);
    if (!value.ok() || !*value) return false;  // gone: another release deleted it
    auto count = codec::decode_merged_reference_count(**value);
    return count.ok() && *count == 0;
  };
  for (std::uint64_t id : plan.payload_ids) {
    const std::string count_key = keys::reference_count(id);
    if (!reached_zero(count_key)) continue;
    auto lock = payload_locks.lock(count_key);
    if (!reached_zero(count_key)) continue;
    rocksdb::WriteBatch batch;
    batch.Delete(cf(Cf::kSharedPayloads), count_key);
    batch.Delete(cf(Cf::kSharedPayloads), keys::shared_payload(id));
    // On failure the count stays 0 and the next open deletes the payload; the release itself
    // (the caller's write) already succeeded, so it is not reported.
    if (write(batch, "deleting a released shared payload").ok()) {
      shared_payloads_live.fetch_sub(1, std::memory_order_relaxed);
    }
  }
}

RocksDbStore::RocksDbStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RocksDbStore::~RocksDbStore() = default;

Result<std::unique_ptr<RocksDbStore>> RocksDbStore::open(const RocksDbOptions& options) {
  return open_rocksdb_store(options, nullptr);
}

Result<std::unique_ptr<RocksDbStore>> open_rocksdb_store(const RocksDbOptions& options,
                                                         rocksdb::Env* env) {
  if (options.path.empty()) return Status::error(ErrorCode::kInvalidArgument, "empty store path");
  auto impl = std::make_unique<RocksDbStore::Impl>();
  impl->options = options;
  impl->statistics = rocksdb::CreateDBStatistics();
  impl->write_options.sync = options.sync_writes;

  rocksdb::Options db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.paranoid_checks = true;  // surface corruption at open instead of serving bad data
  db_options.statistics = impl->statistics;
  if (env != nullptr) db_options.env = env;
  // A torn record at the very end of the WAL is a write cut off by a crash before it was synced,
  // so never acknowledged: tolerate it. Damage anywhere else would silently drop acknowledged
  // writes (kPointInTimeRecovery would stop there), so it fails the open as corruption instead.
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;

  rocksdb::BlockBasedTableOptions table_options;
  table_options.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options));

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const char* name : kCfNames) descriptors.emplace_back(name, cf_options);
  descriptors[static_cast<std::size_t>(Cf::kSharedPayloads)].options.merge_operator =
      reference_count_merge_operator();
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(rocksdb::DBOptions(db_options), options.path,
                                             descriptors, &handles, &raw_db);
  if (!status.ok()) return from_rocksdb(status, "opening store");
  impl->db.reset(raw_db);
  if (options.reserved_free_bytes) {
    impl->reserved_free_bytes = *options.reserved_free_bytes;
  } else if (struct statvfs disk{}; ::statvfs(options.path.c_str(), &disk) == 0) {
    constexpr std::uint64_t kMaxReserve = 256u << 20;
    impl->reserved_free_bytes =
        std::min(kMaxReserve, static_cast<std::uint64_t>(disk.f_blocks) * disk.f_frsize / 8);
  }
  std::copy(handles.begin(), handles.end(), impl->handles.begin());
  if (options.verify_checksums_at_open) {
    rocksdb::Status verified = impl->db->VerifyChecksum();
    if (!verified.ok()) return from_rocksdb(verified, "verifying the store's checksums");
  }
  PARLEY_RETURN_IF_ERROR(check_format_version(*impl));
  PARLEY_RETURN_IF_ERROR(load_shared_payload_state(*impl));
  return std::make_unique<RocksDbStore>(std::move(impl));
}

StoreStats RocksDbStore::stats() const {
  StoreStats stats;
  stats.mutations = impl_->mutations.load(std::memory_order_relaxed);
  stats.envelopes_written = impl_->envelopes_written.load(std::memory_order_relaxed);
  stats.duplicate_appends = impl_->duplicate_appends.load(std::memory_order_relaxed);
  stats.shared_payloads_written = impl_->shared_payloads_written.load(std::memory_order_relaxed);
  stats.shared_payloads_live = impl_->shared_payloads_live.load(std::memory_order_relaxed);
  stats.last_write_micros = impl_->last_write_micros.load(std::memory_order_relaxed);
  rocksdb::Statistics& s = *impl_->statistics;
  stats.engine_writes = s.getTickerCount(rocksdb::WRITE_WITH_WAL);
  stats.writes_done_by_leader = s.getTickerCount(rocksdb::WRITE_DONE_BY_SELF);
  stats.writes_done_by_other = s.getTickerCount(rocksdb::WRITE_DONE_BY_OTHER);
  stats.wal_syncs = s.getTickerCount(rocksdb::WAL_FILE_SYNCED);
  stats.wal_bytes = s.getTickerCount(rocksdb::WAL_FILE_BYTES);
  stats.bytes_written = s.getTickerCount(rocksdb::BYTES_WRITTEN);
  rocksdb::HistogramData sync_micros;
  s.histogramData(rocksdb::WAL_FILE_SYNC_MICROS, &sync_micros);
  stats.wal_sync_micros_median = sync_micros.median;
  stats.wal_sync_micros_p99 = sync_micros.percentile99;
  stats.wal_sync_micros_max = sync_micros.max;
  return stats;
}

}  // namespace parley::store
