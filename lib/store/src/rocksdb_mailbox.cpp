// SPDX-License-Identifier: AGPL-3.0-or-later
// RocksDbStore: mailboxes, deduplication and retention.
//
// Each device's mailbox state (next seq, message count) lives in the meta column family and is
// updated in the same batch as the messages, so sequence numbers continue after a restart and are
// never reused even when the mailbox was empty. Mutations of a mailbox hold its device stripe.

#include <algorithm>
#include <map>
#include <set>

#include "rocksdb_impl.h"
#include "rocksdb_keys.h"
#include "validation.h"

namespace parley::store {
namespace {

// Messages deleted per write by the retention purge: bounds batch size and lock hold time.
constexpr std::size_t kPurgeChunk = 1000;

// Deletes those of `seqs` that are present (and, with a cutoff, older than it) in one write under
// the device lock, keeping the mailbox count and the shared payloads' reference counts in step
// (a payload goes in the same write as its last entry). Returns how many were deleted.
Result<std::uint64_t> delete_mailbox_messages(RocksDbStore::Impl& impl,
                                              const DeviceAddress& address,
                                              std::span<const std::uint64_t> seqs,
                                              std::optional<std::int64_t> cutoff_ms) {
  auto device_lock = impl.device_locks.lock(keys::device(address));
  rocksdb::WriteBatch batch;
  std::uint64_t deleted = 0;
  std::set<std::uint64_t> seen;  // an ack may list a seq twice; count it once
  SharedReleases released;
  for (std::uint64_t seq : seqs) {
    if (!seen.insert(seq).second) continue;
    std::string key = keys::message(address, seq);
    PARLEY_ASSIGN_OR_RETURN(auto value, impl.get(Cf::kMailboxes, key));
    if (!value) continue;
    if (cutoff_ms) {
      // Re-checked under the lock: the device may have been re-created and reused this seq.
      PARLEY_ASSIGN_OR_RETURN(std::int64_t timestamp_ms, codec::decode_envelope_timestamp(*value));
      if (timestamp_ms >= *cutoff_ms) continue;
    }
    PARLEY_ASSIGN_OR_RETURN(auto shared, codec::decode_shared_reference(*value));
    if (shared) ++released[*shared];
    batch.Delete(impl.cf(Cf::kMailboxes), key);
    ++deleted;
  }
  if (deleted == 0) return deleted;
  PARLEY_ASSIGN_OR_RETURN(codec::MailboxState state, impl.read_mailbox_state(address));
  state.count = state.count >= deleted ? state.count - deleted : 0;
  batch.Put(impl.cf(Cf::kMeta), keys::mailbox_state(address), codec::encode_mailbox_state(state));
  PARLEY_ASSIGN_OR_RETURN(auto plan, impl.plan_releases(batch, released));
  PARLEY_RETURN_IF_ERROR(impl.write(batch, "deleting messages"));
  impl.commit_releases(plan);
  return deleted;
}

}  // namespace

Result<AppendResult> RocksDbStore::append_messages(const AppendRequest& request) {
  PARLEY_RETURN_IF_ERROR(validate_append(request));
  const bool dedupe = !request.dedupe_key.empty();
  std::string_view dedupe_key = as_string_view(request.dedupe_key);
  // Holding the dedupe key's stripe until our write is done makes a concurrent retry wait and
  // then find our record.
  StripedMutex::Guard dedupe_lock;
  if (dedupe) {
    dedupe_lock = impl_->dedupe_locks.lock(dedupe_key);
    PARLEY_ASSIGN_OR_RETURN(auto previous, impl_->get(Cf::kDedupe, dedupe_key));
    if (previous) {
      PARLEY_ASSIGN_OR_RETURN(codec::DedupeRecord record, codec::decode_dedupe(*previous));
      impl_->duplicate_appends.fetch_add(1, std::memory_order_relaxed);
      return AppendResult{std::move(record.copies), true};
    }
  }

  std::map<DeviceAddress, std::uint64_t> added;  // recipient → copies in this request
  for (const NewEnvelope& envelope : request.envelopes) ++added[envelope.recipient];
  std::vector<std::string> device_keys;
  for (const auto& entry : added) device_keys.push_back(keys::device(entry.first));
  auto device_lock = impl_->device_locks.lock(
      std::vector<std::string_view>(device_keys.begin(), device_keys.end()));

  // Check every recipient before writing anything: the batch is all or nothing.
  // Unknown devices are reported before full mailboxes, as every backend does.
  for (const auto& entry : added) {
    PARLEY_ASSIGN_OR_RETURN(bool exists, impl_->exists(Cf::kDevices, keys::device(entry.first)));
    if (!exists) return unknown_device_error(entry.first);
  }
  std::map<DeviceAddress, codec::MailboxState> states;
  for (const auto& [address, count] : added) {
    PARLEY_ASSIGN_OR_RETURN(codec::MailboxState state, impl_->read_mailbox_state(address));
    if (request.max_queue_per_device != 0 && state.count + count > request.max_queue_per_device) {
      return queue_full_error(address, request.max_queue_per_device);
    }
    states.emplace(address, state);
  }

  rocksdb::WriteBatch batch;
  // The shared payload, once, with the number of entries that refer to it. Its id is new, so no
  // other caller can touch its count before this batch is written: no payload lock is needed.
  std::optional<std::uint64_t> shared_id;
  if (request.shared_payload) {
    std::uint64_t references = 0;
    for (const NewEnvelope& envelope : request.envelopes) references += envelope.payload.empty();
    if (references > 0) {
      shared_id = impl_->next_shared_payload_id.fetch_add(1);
      batch.Put(impl_->cf(Cf::kSharedPayloads), keys::shared_payload(*shared_id),
                codec::encode_shared_payload(*request.shared_payload));
      batch.Put(impl_->cf(Cf::kSharedPayloads), keys::reference_count(*shared_id),
                codec::encode_reference_count(references));
    }
  }
  AppendResult result;
  result.copies.reserve(request.envelopes.size());
  for (const NewEnvelope& envelope : request.envelopes) {
    codec::MailboxState& state = states.at(envelope.recipient);
    std::uint64_t seq = state.next_seq++;
    ++state.count;
    batch.Put(impl_->cf(Cf::kMailboxes), keys::message(envelope.recipient, seq),
              shared_id && envelope.payload.empty()
                  ? codec::encode_shared_envelope(envelope, *shared_id)
                  : codec::encode_envelope(envelope));
    result.copies.push_back({envelope.recipient, seq});
  }
  for (const auto& [address, state] : states) {
    batch.Put(impl_->cf(Cf::kMeta), keys::mailbox_state(address),
              codec::encode_mailbox_state(state));
  }
  if (dedupe) {
    batch.Put(impl_->cf(Cf::kDedupe), dedupe_key,
              codec::encode_dedupe({request.now_ms, result.copies}));
  }
  PARLEY_RETURN_IF_ERROR(impl_->write(batch, "appending messages"));
  impl_->envelopes_written.fetch_add(request.envelopes.size(), std::memory_order_relaxed);
  if (shared_id) {
    impl_->shared_payloads_written.fetch_add(1, std::memory_order_relaxed);
    impl_->shared_payloads_live.fetch_add(1, std::memory_order_relaxed);
  }
  return result;
}

Result<std::vector<StoredEnvelope>> RocksDbStore::read_messages(const DeviceAddress& address,
                                                                std::uint64_t after_seq,
                                                                std::uint32_t max_count) const {
  std::vector<StoredEnvelope> out;
  if (max_count == 0 || after_seq == UINT64_MAX) return out;
  // One snapshot for the entries and the shared payloads they refer to: an entry acked meanwhile
  // may take its payload with it, but not within the snapshot.
  const rocksdb::Snapshot* snapshot = impl_->db->GetSnapshot();
  struct Release {
    rocksdb::DB* db;
    const rocksdb::Snapshot* snapshot;
    ~Release() { db->ReleaseSnapshot(snapshot); }
  } release{impl_->db.get(), snapshot};
  std::string prefix = keys::device(address);
  std::string end = keys::prefix_end(prefix).value_or(std::string());
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions read_options;
  read_options.snapshot = snapshot;
  if (!end.empty()) read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(read_options, impl_->cf(Cf::kMailboxes)));
  rocksdb::ReadOptions payload_options;
  payload_options.snapshot = snapshot;
  for (it->Seek(keys::message(address, after_seq + 1));
       it->Valid() && it->key().starts_with(prefix) && out.size() < max_count; it->Next()) {
    auto key = keys::parse_message(it->key().ToStringView());
    if (!key) return Status::error(ErrorCode::kStorageCorrupt, "unreadable message key");
    PARLEY_ASSIGN_OR_RETURN(codec::MailboxEntry entry,
                            codec::decode_mailbox_entry(key->seq, it->value().ToStringView()));
    if (entry.shared_payload) {
      std::string value;
      rocksdb::Status status = impl_->db->Get(payload_options, impl_->cf(Cf::kSharedPayloads),
                                              keys::shared_payload(*entry.shared_payload), &value);
      if (status.IsNotFound()) {
        return Status::error(ErrorCode::kStorageCorrupt, "message refers to a missing payload");
      }
      if (!status.ok()) return from_rocksdb(status, "reading shared payload");
      PARLEY_ASSIGN_OR_RETURN(entry.envelope.payload, codec::decode_shared_payload(value));
    }
    out.push_back(std::move(entry.envelope));
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "reading mailbox");
  return out;
}

Result<std::uint64_t> RocksDbStore::delete_messages(const DeviceAddress& address,
                                                    std::span<const std::uint64_t> seqs) {
  return delete_mailbox_messages(*impl_, address, seqs, std::nullopt);
}

Result<std::uint64_t> RocksDbStore::count_messages(const DeviceAddress& address) const {
  PARLEY_ASSIGN_OR_RETURN(codec::MailboxState state, impl_->read_mailbox_state(address));
  return state.count;
}

Result<std::uint64_t> RocksDbStore::purge_messages_older_than(std::int64_t cutoff_ms) {
  std::lock_guard purge_lock(impl_->purge_mutex);
  // One pass over all mailboxes (the iterator reads a consistent snapshot, unlocked). Expired
  // seqs are gathered per device and deleted in chunks under that device's lock, re-checked there
  // (the device may have acked them meanwhile), so memory stays bounded by one chunk.
  std::uint64_t purged = 0;
  std::optional<DeviceAddress> current;
  std::vector<std::uint64_t> pending;
  auto flush = [&]() -> Status {
    if (pending.empty()) return {};
    PARLEY_ASSIGN_OR_RETURN(std::uint64_t deleted,
                            delete_mailbox_messages(*impl_, *current, pending, cutoff_ms));
    purged += deleted;
    pending.clear();
    return {};
  };
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf(Cf::kMailboxes)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto key = keys::parse_message(it->key().ToStringView());
    if (!key) return Status::error(ErrorCode::kStorageCorrupt, "unreadable message key");
    PARLEY_ASSIGN_OR_RETURN(std::int64_t timestamp_ms,
                            codec::decode_envelope_timestamp(it->value().ToStringView()));
    if (timestamp_ms >= cutoff_ms) continue;
    if (current != key->address || pending.size() >= kPurgeChunk) {
      PARLEY_RETURN_IF_ERROR(flush());
      current = key->address;
    }
    pending.push_back(key->seq);
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "scanning mailboxes");
  PARLEY_RETURN_IF_ERROR(flush());
  return purged;
}

Result<std::uint64_t> RocksDbStore::purge_dedupe_keys_older_than(std::int64_t cutoff_ms) {
  // Appends only ever write absent dedupe keys and only purges delete them, so with purges
  // serialized a record we read as expired is still the same record when our delete lands.
  std::lock_guard purge_lock(impl_->purge_mutex);
  rocksdb::WriteBatch batch;
  std::uint64_t purged = 0;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf(Cf::kDedupe)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    PARLEY_ASSIGN_OR_RETURN(codec::DedupeRecord record,
                            codec::decode_dedupe(it->value().ToStringView()));
    if (record.created_ms >= cutoff_ms) continue;
    batch.Delete(impl_->cf(Cf::kDedupe), it->key());
    ++purged;
    if (batch.Count() >= static_cast<int>(kPurgeChunk)) {
      PARLEY_RETURN_IF_ERROR(impl_->write(batch, "purging dedupe keys"));
      batch.Clear();
    }
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "scanning dedupe keys");
  if (batch.Count() > 0) PARLEY_RETURN_IF_ERROR(impl_->write(batch, "purging dedupe keys"));
  return purged;
}

}  // namespace parley::store
