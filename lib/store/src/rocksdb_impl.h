// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The state shared by RocksDbStore's source files (one per feature). Private to the library.

#include <rocksdb/db.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/statistics.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/store/rocksdb_store.h"
#include "record_codec.h"
#include "striped_mutex.h"

namespace parley::store {

// Column families, in the order they are opened.
// The merge operator of the shared_payloads column family: releases of references applied to a
// payload's count atomically (RocksDbStore::Impl::plan_releases). Anything that opens a store's
// files must set it on that family (the tests' raw reader does).
std::shared_ptr<rocksdb::MergeOperator> reference_count_merge_operator();

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

  // Releasing shared payloads (acks, device or account removal) in two steps. plan_releases adds
  // to `batch` one merge per payload: "drop N references", applied atomically by RocksDB
  // (reference_count_merge_operator()), so concurrent acks of one group message by its many
  // recipients neither read the count nor lock it, and never wait for each other's fsync — they
  // share one instead. After the batch is written, commit_releases deletes each payload whose
  // count reached 0, under that payload's stripe lock and re-checked there, so exactly one caller
  // does it. A crash (or a failed write) between the two leaves a count of 0 behind: the next
  // open deletes such payloads (load_shared_payload_state). Caller holds the locks of the devices
  // whose entries are deleted.
  struct ReleasePlan {
    std::vector<std::uint64_t> payload_ids;
  };
  Result<ReleasePlan> plan_releases(rocksdb::WriteBatch& batch, const SharedReleases& released);
  void commit_releases(const ReleasePlan& plan);
};

}  // namespace parley::store
