// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// ShardedStore: one Store over several (cluster mode: one PgStore per PostgreSQL primary).
//
// Every account lives on one backend, with its devices, keys and mailboxes: its logical shard is
// a fixed hash of its id (shard_of(), 1024 shards, frozen forever: changing it would strand
// every account), and the ShardMap says which backend holds each logical shard. Moving a shard
// means copying its accounts to another server and then changing the map: move_shards() in
// pg_shard_move.h (`parleyd move-shards`), with the nodes stopped.
//
// What is NOT the same as on one backend (see also the tests):
//  - Usernames and identity keys are unique per backend by constraint, and across backends only
//    by a check before the write: two concurrent create_account()/set_username() calls with the
//    same value on accounts of different backends can both succeed.
//  - An append whose recipients live on several backends is one atomic write PER BACKEND. If one
//    backend fails after another committed, the call fails but the committed part stays; a retry
//    with the same dedupe key completes the rest and returns the original seqs for the part
//    already written. Unknown devices and full mailboxes are checked on every backend before
//    anything is written (the usual error, naming the lowest address), but that check is not
//    atomic with the writes.
//  - A shared payload is stored once per backend that holds one of its recipients, so
//    stats().shared_payloads_written / _live count one per backend involved.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "parley/store/store.h"

namespace parley::store {

inline constexpr std::uint32_t kLogicalShards = 1024;

// Logical shard `first`..`last` (inclusive) are held by backend number `backend`.
struct ShardRange {
  std::uint32_t first = 0;
  std::uint32_t last = 0;
  std::size_t backend = 0;
};

class ShardMap {
 public:
  // kInvalidArgument unless the ranges cover every logical shard exactly once and name only
  // backends below `backends`.
  static Result<ShardMap> from_ranges(const std::vector<ShardRange>& ranges, std::size_t backends);
  // Equal consecutive ranges, one per backend.
  static ShardMap evenly(std::size_t backends);

  // FNV-1a (64 bit) of the 16 id bytes, modulo kLogicalShards. Frozen: see the header comment.
  static std::uint32_t shard_of(const AccountId& id);

  std::size_t backend_of(const AccountId& id) const { return backends_[shard_of(id)]; }
  std::size_t backend_count() const { return backend_count_; }

 private:
  std::vector<std::size_t> backends_;  // logical shard → backend
  std::size_t backend_count_ = 0;
};

class ShardedStore final : public Store {
 public:
  // `backends` must hold map.backend_count() stores.
  ShardedStore(std::vector<std::unique_ptr<Store>> backends, ShardMap map);
  ~ShardedStore() override;

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

  // The sum over the backends.
  StoreStats stats() const override;

 private:
  Store& home(const AccountId& id) const { return *backends_[map_.backend_of(id)]; }
  // The first backend answer other than kNotFound (a found account or a real error).
  template <typename Lookup>
  Result<Account> find_anywhere(const Lookup& lookup) const;
  // kAlreadyExists if an account other than `self` holds the username on any backend.
  Status check_username_free(std::string_view username, const AccountId& self) const;

  std::vector<std::unique_ptr<Store>> backends_;
  ShardMap map_;
};

}  // namespace parley::store
