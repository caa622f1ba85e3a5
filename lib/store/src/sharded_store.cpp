// SPDX-License-Identifier: AGPL-3.0-or-later
// ShardedStore: the shard map and routing by account (the append is in sharded_append.cpp).

#include "parley/store/sharded_store.h"

#include <string>

namespace parley::store {

// ---- Shard map ---------------------------------------------------------------------------------

std::uint32_t ShardMap::shard_of(const AccountId& id) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (std::uint8_t byte : id) {
    hash ^= byte;
    hash *= 0x100000001b3ULL;
  }
  return static_cast<std::uint32_t>(hash % kLogicalShards);
}

Result<ShardMap> ShardMap::from_ranges(const std::vector<ShardRange>& ranges,
                                       std::size_t backends) {
  constexpr std::size_t kUnset = SIZE_MAX;
  ShardMap map;
  map.backends_.assign(kLogicalShards, kUnset);
  map.backend_count_ = backends;
  for (const ShardRange& range : ranges) {
    if (range.first > range.last || range.last >= kLogicalShards || range.backend >= backends) {
      return Status::error(ErrorCode::kInvalidArgument, "shard range out of bounds");
    }
    for (std::uint32_t shard = range.first; shard <= range.last; ++shard) {
      if (map.backends_[shard] != kUnset) {
        return Status::error(ErrorCode::kInvalidArgument,
                             "shard " + std::to_string(shard) + " is mapped twice");
      }
      map.backends_[shard] = range.backend;
    }
  }
  for (std::uint32_t shard = 0; shard < kLogicalShards; ++shard) {
    if (map.backends_[shard] == kUnset) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "shard " + std::to_string(shard) + " is not mapped");
    }
  }
  return map;
}

ShardMap ShardMap::evenly(std::size_t backends) {
  ShardMap map;
  map.backend_count_ = backends == 0 ? 1 : backends;
  for (std::uint32_t shard = 0; shard < kLogicalShards; ++shard) {
    map.backends_.push_back(shard * map.backend_count_ / kLogicalShards);
  }
  return map;
}

// ---- Routing -----------------------------------------------------------------------------------

ShardedStore::ShardedStore(std::vector<std::unique_ptr<Store>> backends, ShardMap map)
    : backends_(std::move(backends)), map_(std::move(map)) {}
ShardedStore::~ShardedStore() = default;

template <typename Lookup>
Result<Account> ShardedStore::find_anywhere(const Lookup& lookup) const {
  for (const auto& backend : backends_) {
    Result<Account> found = lookup(*backend);
    if (found.ok() || found.status().code() != ErrorCode::kNotFound) return found;
  }
  return Status::error(ErrorCode::kNotFound, "no such account");
}

Status ShardedStore::check_username_free(std::string_view username, const AccountId& self) const {
  Result<Account> holder =
      find_anywhere([&](const Store& s) { return s.find_account_by_username(username); });
  if (holder.ok() && holder->id != self) {
    return Status::error(ErrorCode::kAlreadyExists, "username is taken");
  }
  if (!holder.ok() && holder.status().code() != ErrorCode::kNotFound) return holder.status();
  return {};
}

Status ShardedStore::create_account(const Account& account) {
  // The home backend's constraints decide for its own accounts; the other backends are asked
  // first (not atomically with the write: see the header).
  if (!account.identity_key.empty()) {
    Result<Account> holder = find_account_by_identity_key(account.identity_key);
    if (holder.ok()) return Status::error(ErrorCode::kAlreadyExists, "identity key is registered");
    if (holder.status().code() != ErrorCode::kNotFound) return holder.status();
  }
  if (account.username && !account.username->empty()) {
    Result<Account> holder = find_account_by_username(*account.username);
    if (holder.ok() && holder->id != account.id) {
      return Status::error(ErrorCode::kAlreadyExists, "username is taken");
    }
    if (!holder.ok() && holder.status().code() != ErrorCode::kNotFound) return holder.status();
  }
  return home(account.id).create_account(account);
}

Result<Account> ShardedStore::get_account(const AccountId& id) const {
  return home(id).get_account(id);
}

Result<Account> ShardedStore::find_account_by_username(std::string_view username) const {
  return find_anywhere([&](const Store& s) { return s.find_account_by_username(username); });
}

Result<Account> ShardedStore::find_account_by_identity_key(ByteView identity_key) const {
  return find_anywhere(
      [&](const Store& s) { return s.find_account_by_identity_key(identity_key); });
}

Status ShardedStore::set_username(const AccountId& id, std::optional<std::string_view> username) {
  if (username && !username->empty()) {
    // A missing account is kNotFound before any name check, as on one backend.
    PARLEY_RETURN_IF_ERROR(home(id).get_account(id).status());
    PARLEY_RETURN_IF_ERROR(check_username_free(*username, id));
  }
  return home(id).set_username(id, username);
}

Status ShardedStore::set_signed_device_list(const AccountId& id, ByteView signed_device_list) {
  return home(id).set_signed_device_list(id, signed_device_list);
}

Status ShardedStore::delete_account(const AccountId& id) {
  return home(id).delete_account(id);
}

Status ShardedStore::add_device(const Device& device, std::uint32_t max_devices) {
  return home(device.account_id).add_device(device, max_devices);
}

Result<Device> ShardedStore::get_device(const DeviceAddress& address) const {
  return home(address.account_id).get_device(address);
}

Result<std::vector<Device>> ShardedStore::list_devices(const AccountId& id) const {
  return home(id).list_devices(id);
}

Status ShardedStore::touch_device(const DeviceAddress& address, std::int64_t last_seen_ms) {
  return home(address.account_id).touch_device(address, last_seen_ms);
}

Status ShardedStore::remove_device(const DeviceAddress& address) {
  return home(address.account_id).remove_device(address);
}

Status ShardedStore::set_signed_prekey(const DeviceAddress& address, const SignedPrekey& prekey) {
  return home(address.account_id).set_signed_prekey(address, prekey);
}

Result<SignedPrekey> ShardedStore::get_signed_prekey(const DeviceAddress& address) const {
  return home(address.account_id).get_signed_prekey(address);
}

Status ShardedStore::add_one_time_prekeys(const DeviceAddress& address,
                                          std::span<const OneTimePrekey> prekeys,
                                          std::uint32_t max_stored) {
  return home(address.account_id).add_one_time_prekeys(address, prekeys, max_stored);
}

Result<std::optional<OneTimePrekey>> ShardedStore::claim_one_time_prekey(
    const DeviceAddress& address) {
  return home(address.account_id).claim_one_time_prekey(address);
}

Result<std::uint64_t> ShardedStore::count_one_time_prekeys(const DeviceAddress& address) const {
  return home(address.account_id).count_one_time_prekeys(address);
}

Result<std::vector<StoredEnvelope>> ShardedStore::read_messages(const DeviceAddress& address,
                                                                std::uint64_t after_seq,
                                                                std::uint32_t max_count) const {
  return home(address.account_id).read_messages(address, after_seq, max_count);
}

Result<std::uint64_t> ShardedStore::delete_messages(const DeviceAddress& address,
                                                    std::span<const std::uint64_t> seqs) {
  return home(address.account_id).delete_messages(address, seqs);
}

Result<std::uint64_t> ShardedStore::count_messages(const DeviceAddress& address) const {
  return home(address.account_id).count_messages(address);
}

Result<std::uint64_t> ShardedStore::purge_messages_older_than(std::int64_t cutoff_ms) {
  std::uint64_t purged = 0;
  for (const auto& backend : backends_) {
    PARLEY_ASSIGN_OR_RETURN(std::uint64_t count, backend->purge_messages_older_than(cutoff_ms));
    purged += count;
  }
  return purged;
}

Result<std::uint64_t> ShardedStore::purge_dedupe_keys_older_than(std::int64_t cutoff_ms) {
  std::uint64_t purged = 0;
  for (const auto& backend : backends_) {
    PARLEY_ASSIGN_OR_RETURN(std::uint64_t count, backend->purge_dedupe_keys_older_than(cutoff_ms));
    purged += count;
  }
  return purged;
}

StoreStats ShardedStore::stats() const {
  StoreStats total;
  for (const auto& backend : backends_) {
    StoreStats s = backend->stats();
    total.mutations += s.mutations;
    total.envelopes_written += s.envelopes_written;
    total.duplicate_appends += s.duplicate_appends;
    total.shared_payloads_written += s.shared_payloads_written;
    total.shared_payloads_live += s.shared_payloads_live;
    total.engine_writes += s.engine_writes;
    total.wal_syncs += s.wal_syncs;
    total.wal_bytes += s.wal_bytes;
    total.bytes_written += s.bytes_written;
  }
  return total;
}

}  // namespace parley::store
