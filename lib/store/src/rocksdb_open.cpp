// SPDX-License-Identifier: AGPL-3.0-or-later
// RocksDbStore: opening, the shared helpers of Impl, and statistics.

#include <rocksdb/cache.h>
#include <rocksdb/table.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <chrono>
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
  for (it->Seek(begin); it->Valid(); it->Next()) {
    auto id = keys::parse_shared_payload_id(it->key().ToStringView());
    if (!id) return Status::error(ErrorCode::kStorageCorrupt, "unreadable shared payload key");
    ++live;
    highest = std::max(highest, *id);
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "scanning shared payloads");
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
  if (released.empty()) return plan;
  std::vector<std::string> count_keys;
  count_keys.reserve(released.size());
  for (const auto& entry : released) count_keys.push_back(keys::reference_count(entry.first));
  plan.locks =
      payload_locks.lock(std::vector<std::string_view>(count_keys.begin(), count_keys.end()));
  std::size_t i = 0;
  for (const auto& [id, dropped] : released) {
    const std::string& count_key = count_keys[i++];
    PARLEY_ASSIGN_OR_RETURN(auto value, get(Cf::kSharedPayloads, count_key));
    // The entries and the count are written together, so an entry we are deleting (read under its
    // device lock) always finds its count.
    if (!value) return Status::error(ErrorCode::kStorageCorrupt, "shared payload without count");
    PARLEY_ASSIGN_OR_RETURN(std::uint64_t count, codec::decode_reference_count(*value));
    if (dropped > count) {
      return Status::error(ErrorCode::kStorageCorrupt, "shared payload count too low");
    }
    if (dropped == count) {
      batch.Delete(cf(Cf::kSharedPayloads), count_key);
      batch.Delete(cf(Cf::kSharedPayloads), keys::shared_payload(id));
      ++plan.deleted_payloads;
    } else {
      batch.Put(cf(Cf::kSharedPayloads), count_key, codec::encode_reference_count(count - dropped));
    }
  }
  return plan;
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
