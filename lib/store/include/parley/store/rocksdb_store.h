// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// RocksDbStore: the embedded, single-node Store on RocksDB.
//
// Layout: one column family per kind of record (accounts, usernames, identity_keys, devices,
// prekeys, mailboxes, dedupe, meta) with big-endian keys, so a device's mailbox is one ordered key
// range `account | device | seq` (see src/rocksdb_keys.h).
//
// Durability: every acknowledged mutation is one WriteBatch written with sync = true. Concurrent
// synced writers are grouped by RocksDB into one WAL append + fsync (the write-group leader syncs
// for the others), so throughput grows with concurrency; stats() exposes the counters to see it.
//
// Concurrency: RocksDB batches are atomic but do not isolate read-check-write sequences, so those
// are serialized by striped mutexes taken in a fixed order (account → name index → dedupe key →
// device). Requests for different accounts/devices rarely share a stripe and run in parallel;
// one-time-prekey claims for one device are serialized, so each key is handed out once.
// A device's lock is held across its synced write so that its sequence numbers become visible in
// order (a reader at `after_seq` never skips a late-landing lower seq); appends to ONE device are
// therefore limited to one fsync each (~3,000/s on an SSD), while appends to different devices
// share fsyncs.
//
// Opening: kStorageCorrupt when RocksDB reports corruption (paranoid checks are on; damage in the
// write-ahead log before its last record counts, since skipping it would drop acknowledged
// writes), kStorageFull when the disk is full, kUnsupportedVersion when the data was written by an
// unknown format.
//
// A write that fails (kStorageFull, kStorageIo) writes nothing; RocksDB then refuses further
// writes until the store is reopened (or it recovers by itself once space is freed), while reads
// keep working. The caller should report unavailability rather than retry in a loop.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "parley/store/store.h"

namespace parley::store {

struct RocksDbOptions {
  std::string path;  // directory; created if missing
  bool create_if_missing = true;
  // Fsync every acknowledged write. Only tests that measure the cost of syncing turn this off.
  bool sync_writes = true;
  std::size_t block_cache_bytes = 64u << 20;
  // Every write is refused with kStorageFull while the file system holding the store has less
  // free space than this, so RocksDB itself never runs out of space mid-write (it then turns
  // read-only until reopened, and Debian's build aborts on the next write to the failed file).
  // Writes resume by themselves once space returns. nullopt: 1/8 of the file system, at most
  // 256 MiB (room for the WAL and the flush of a full memtable).
  std::optional<std::uint64_t> reserved_free_bytes = std::nullopt;
  // Read every table file once at open and fail with kStorageCorrupt on a checksum mismatch, so a
  // damaged file stops the start instead of failing some users' reads later. Costs one read of
  // the live data, which for a messenger (undelivered messages, keys, accounts) stays small.
  bool verify_checksums_at_open = true;
};

class RocksDbStore final : public Store {
 public:
  static Result<std::unique_ptr<RocksDbStore>> open(const RocksDbOptions& options);
  ~RocksDbStore() override;  // flushes nothing extra: every acknowledged write is already synced
  RocksDbStore(const RocksDbStore&) = delete;
  RocksDbStore& operator=(const RocksDbStore&) = delete;

  Status create_account(const Account& account) override;
  Result<Account> get_account(const AccountId& id) const override;
  Result<Account> find_account_by_username(std::string_view username) const override;
  Result<Account> find_account_by_identity_key(ByteView identity_key) const override;
  Status set_username(const AccountId& id, std::optional<std::string_view> username) override;
  Status set_signed_device_list(const AccountId& id, ByteView signed_device_list) override;
  Status delete_account(const AccountId& id) override;

  Status add_device(const Device& device, std::uint32_t max_devices) override;
  Result<Device> get_device(const DeviceAddress& address) const override;
  Result<std::vector<Device>> list_devices(const AccountId& id) const override;
  Status touch_device(const DeviceAddress& address, std::int64_t last_seen_ms) override;
  Status remove_device(const DeviceAddress& address) override;

  Status set_signed_prekey(const DeviceAddress& address, const SignedPrekey& prekey) override;
  Result<SignedPrekey> get_signed_prekey(const DeviceAddress& address) const override;
  Status add_one_time_prekeys(const DeviceAddress& address, std::span<const OneTimePrekey> prekeys,
                              std::uint32_t max_stored) override;
  Result<std::optional<OneTimePrekey>> claim_one_time_prekey(const DeviceAddress& address) override;
  Result<std::uint64_t> count_one_time_prekeys(const DeviceAddress& address) const override;

  Result<AppendResult> append_messages(const AppendRequest& request) override;
  Result<std::vector<StoredEnvelope>> read_messages(const DeviceAddress& address,
                                                    std::uint64_t after_seq,
                                                    std::uint32_t max_count) const override;
  Result<std::uint64_t> delete_messages(const DeviceAddress& address,
                                        std::span<const std::uint64_t> seqs) override;
  Result<std::uint64_t> count_messages(const DeviceAddress& address) const override;
  Result<std::uint64_t> purge_messages_older_than(std::int64_t cutoff_ms) override;
  Result<std::uint64_t> purge_dedupe_keys_older_than(std::int64_t cutoff_ms) override;

  StoreStats stats() const override;

  // Opaque: shared by the library's own source files, which also are the only callers of this
  // constructor (use open()).
  struct Impl;
  explicit RocksDbStore(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::store
