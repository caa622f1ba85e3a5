// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The state shared by RocksDbStore's source files (one per feature). Private to the library.

#include <rocksdb/db.h>
#include <rocksdb/statistics.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "parley/store/rocksdb_store.h"
#include "record_codec.h"
#include "striped_mutex.h"

namespace parley::store {

// Column families, in the order they are opened.
enum class Cf : std::size_t {
  kDefault,  // unused; RocksDB requires it
  kAccounts,
  kUsernames,
  kIdentityKeys,
  kDevices,
  kPrekeys,
  kMailboxes,
  kDedupe,
  kMeta,
  kSharedPayloads,
  kCount,
};

// Shared payload id → references dropped by the mailbox entries a batch deletes.
using SharedReleases = std::map<std::uint64_t, std::uint64_t>;

// RocksDbStore::open() with a given RocksDB Env (nullptr: the default). Tests use it to inject
// file system faults such as a full disk; the Env must outlive the store.
Result<std::unique_ptr<RocksDbStore>> open_rocksdb_store(const RocksDbOptions& options,
                                                         rocksdb::Env* env);

// Maps a RocksDB failure to our codes: no space → kStorageFull, corruption → kStorageCorrupt,
// anything else → kStorageIo. `context` says what we were doing.
Status from_rocksdb(const rocksdb::Status& status, std::string_view context);

struct RocksDbStore::Impl {
  RocksDbOptions options;
  std::unique_ptr<rocksdb::DB> db;
  std::array<rocksdb::ColumnFamilyHandle*, static_cast<std::size_t>(Cf::kCount)> handles{};
  std::shared_ptr<rocksdb::Statistics> statistics;
  rocksdb::WriteOptions write_options;

  // Lock levels, always taken in this order (see rocksdb_store.h).
  StripedMutex account_locks;  // account record and its device set
  StripedMutex index_locks;    // username and identity-key index entries
  StripedMutex dedupe_locks;   // dedupe keys
  StripedMutex device_locks;   // a device's prekeys, mailbox and mailbox state
  StripedMutex payload_locks;  // a shared payload's reference count
  std::mutex purge_mutex;      // one retention purge at a time

  std::atomic<std::uint64_t> mutations{0};
  std::atomic<std::uint64_t> envelopes_written{0};
  std::atomic<std::uint64_t> duplicate_appends{0};
  std::atomic<std::uint64_t> last_write_micros{0};
  std::atomic<std::uint64_t> shared_payloads_written{0};
  std::atomic<std::uint64_t> shared_payloads_live{0};    // counted at open, then kept in step
  std::atomic<std::uint64_t> next_shared_payload_id{1};  // above every stored id
  std::uint64_t reserved_free_bytes = 0;                 // resolved at open; 0 = no check

  ~Impl();

  rocksdb::ColumnFamilyHandle* cf(Cf family) const {
    return handles[static_cast<std::size_t>(family)];
  }

  // One atomic write of `batch`, synced unless options say otherwise; counts it as a mutation.
  Status write(rocksdb::WriteBatch& batch, std::string_view context);

  // The value at `key`, nullopt if absent.
  Result<std::optional<std::string>> get(Cf family, std::string_view key) const;
  Result<bool> exists(Cf family, std::string_view key) const;

  Result<std::optional<Device>> read_device(const DeviceAddress& address) const;
  Result<codec::MailboxState> read_mailbox_state(const DeviceAddress& address) const;

  // Adds deletes of every key starting with `prefix` in `family` to `batch`. Caller holds the locks
  // that keep new keys from appearing under the prefix.
  Status delete_prefix(rocksdb::WriteBatch& batch, Cf family, std::string_view prefix) const;

  // Adds the deletion of everything a device owns (record, prekeys, mailbox, state) to `batch`,
  // and counts the shared-payload references its mailbox entries drop into `released`.
  Status delete_device_data(rocksdb::WriteBatch& batch, const DeviceAddress& address,
                            SharedReleases& released) const;

  // Adds the reference-count updates for `released` to `batch`: a payload whose count reaches 0 is
  // deleted with its count. Returns the payloads' stripe locks, which the caller holds until the
  // batch is written (so concurrent releases of one payload count exactly), and how many payloads
  // the batch deletes (for shared_payloads_live once the write succeeded). Caller holds the locks
  // of the devices whose entries are deleted (the payload level comes after the device level).
  struct ReleasePlan {
    StripedMutex::Guard locks;
    std::uint64_t deleted_payloads = 0;
  };
  Result<ReleasePlan> plan_releases(rocksdb::WriteBatch& batch, const SharedReleases& released);
  // After the batch of a plan was written.
  void commit_releases(const ReleasePlan& plan) {
    shared_payloads_live.fetch_sub(plan.deleted_payloads, std::memory_order_relaxed);
  }
};

}  // namespace parley::store
