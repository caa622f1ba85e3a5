// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/store/memory_store.h"

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "validation.h"

namespace parley::store {
namespace {

Status no_account() {
  return Status::error(ErrorCode::kNotFound, "no such account");
}

// A mailbox entry: the envelope, or (payload left empty) a reference to a shared payload.
struct Entry {
  StoredEnvelope envelope;
  std::optional<std::uint64_t> shared;  // id in State::shared_payloads
};

struct Mailbox {
  std::uint64_t next_seq = 1;
  std::map<std::uint64_t, Entry> messages;
};

struct SharedPayload {
  Bytes payload;
  std::uint64_t references = 0;  // mailbox entries that refer to it
};

struct DedupeRecord {
  std::int64_t created_ms = 0;
  std::vector<DeliveredCopy> copies;
};

}  // namespace

struct MemoryStore::State {
  mutable std::mutex mutex;
  std::map<AccountId, Account> accounts;
  std::map<std::string, AccountId, std::less<>> usernames;
  std::map<Bytes, AccountId> identity_keys;
  std::map<DeviceAddress, Device> devices;
  std::map<DeviceAddress, SignedPrekey> signed_prekeys;
  std::map<DeviceAddress, std::map<std::uint32_t, Bytes>> one_time_prekeys;
  std::map<DeviceAddress, Mailbox> mailboxes;
  std::map<Bytes, DedupeRecord> dedupe;
  std::map<std::uint64_t, SharedPayload> shared_payloads;
  std::uint64_t next_shared_id = 1;
  StoreStats stats;

  // Drops an entry's reference to its shared payload (if any), deleting the payload with the last
  // one. Caller holds the mutex and erases the entry.
  void release(const Entry& entry) {
    if (!entry.shared) return;
    auto it = shared_payloads.find(*entry.shared);
    if (it == shared_payloads.end()) return;
    if (--it->second.references == 0) shared_payloads.erase(it);
  }

  // Removes everything a device owns. Caller holds the mutex.
  void erase_device(const DeviceAddress& address) {
    devices.erase(address);
    signed_prekeys.erase(address);
    one_time_prekeys.erase(address);
    if (auto it = mailboxes.find(address); it != mailboxes.end()) {
      for (const auto& [seq, entry] : it->second.messages) release(entry);
      mailboxes.erase(it);
    }
  }

  // Devices of an account as a [begin, end) range of `devices`.
  auto device_range(const AccountId& id) const {
    return std::make_pair(devices.lower_bound(DeviceAddress{id, 0}),
                          devices.upper_bound(DeviceAddress{id, UINT32_MAX}));
  }
};

MemoryStore::MemoryStore() : state_(std::make_unique<State>()) {}
MemoryStore::~MemoryStore() = default;

// ---- Accounts ----------------------------------------------------------------------------------

Status MemoryStore::create_account(const Account& account) {
  PARLEY_RETURN_IF_ERROR(validate_new_account(account));
  std::lock_guard lock(state_->mutex);
  if (state_->accounts.contains(account.id)) {
    return Status::error(ErrorCode::kAlreadyExists, "account id exists");
  }
  if (state_->identity_keys.contains(account.identity_key)) {
    return Status::error(ErrorCode::kAlreadyExists, "identity key is registered");
  }
  if (account.username && state_->usernames.contains(*account.username)) {
    return Status::error(ErrorCode::kAlreadyExists, "username is taken");
  }
  state_->accounts.emplace(account.id, account);
  state_->identity_keys.emplace(account.identity_key, account.id);
  if (account.username) state_->usernames.emplace(*account.username, account.id);
  ++state_->stats.mutations;
  return {};
}

Result<Account> MemoryStore::get_account(const AccountId& id) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->accounts.find(id);
  if (it == state_->accounts.end()) return no_account();
  return it->second;
}

Result<Account> MemoryStore::find_account_by_username(std::string_view username) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->usernames.find(username);
  if (it == state_->usernames.end()) return no_account();
  return state_->accounts.at(it->second);
}

Result<Account> MemoryStore::find_account_by_identity_key(ByteView identity_key) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->identity_keys.find(Bytes(identity_key.begin(), identity_key.end()));
  if (it == state_->identity_keys.end()) return no_account();
  return state_->accounts.at(it->second);
}

Status MemoryStore::set_username(const AccountId& id, std::optional<std::string_view> username) {
  if (username) PARLEY_RETURN_IF_ERROR(validate_username(*username));
  std::lock_guard lock(state_->mutex);
  auto it = state_->accounts.find(id);
  if (it == state_->accounts.end()) return no_account();
  Account& account = it->second;
  if (username) {
    auto holder = state_->usernames.find(*username);
    if (holder != state_->usernames.end() && holder->second != id) {
      return Status::error(ErrorCode::kAlreadyExists, "username is taken");
    }
  }
  if (account.username) state_->usernames.erase(*account.username);
  if (username) {
    account.username = std::string(*username);
    state_->usernames[*account.username] = id;
  } else {
    account.username.reset();
  }
  ++state_->stats.mutations;
  return {};
}

Status MemoryStore::set_signed_device_list(const AccountId& id, ByteView signed_device_list) {
  std::lock_guard lock(state_->mutex);
  auto it = state_->accounts.find(id);
  if (it == state_->accounts.end()) return no_account();
  it->second.signed_device_list.assign(signed_device_list.begin(), signed_device_list.end());
  ++state_->stats.mutations;
  return {};
}

Status MemoryStore::delete_account(const AccountId& id) {
  std::lock_guard lock(state_->mutex);
  auto it = state_->accounts.find(id);
  if (it == state_->accounts.end()) return no_account();
  std::vector<DeviceAddress> addresses;
  auto [begin, end] = state_->device_range(id);
  for (auto d = begin; d != end; ++d) addresses.push_back(d->first);
  for (const DeviceAddress& address : addresses) state_->erase_device(address);
  if (it->second.username) state_->usernames.erase(*it->second.username);
  state_->identity_keys.erase(it->second.identity_key);
  state_->accounts.erase(it);
  ++state_->stats.mutations;
  return {};
}

// ---- Devices -----------------------------------------------------------------------------------

Status MemoryStore::add_device(const Device& device, std::uint32_t max_devices) {
  PARLEY_RETURN_IF_ERROR(validate_new_device(device));
  std::lock_guard lock(state_->mutex);
  if (!state_->accounts.contains(device.account_id)) return no_account();
  if (state_->devices.contains(device.address())) {
    return Status::error(ErrorCode::kAlreadyExists, "device id is taken");
  }
  auto [begin, end] = state_->device_range(device.account_id);
  if (static_cast<std::uint64_t>(std::distance(begin, end)) >= max_devices) {
    return Status::error(ErrorCode::kResourceExhausted, "account has its maximum of devices");
  }
  state_->devices.emplace(device.address(), device);
  ++state_->stats.mutations;
  return {};
}

Result<Device> MemoryStore::get_device(const DeviceAddress& address) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->devices.find(address);
  if (it == state_->devices.end()) return unknown_device_error(address);
  return it->second;
}

Result<std::vector<Device>> MemoryStore::list_devices(const AccountId& id) const {
  std::lock_guard lock(state_->mutex);
  if (!state_->accounts.contains(id)) return no_account();
  std::vector<Device> out;
  auto [begin, end] = state_->device_range(id);
  for (auto it = begin; it != end; ++it) out.push_back(it->second);
  return out;
}

Status MemoryStore::touch_device(const DeviceAddress& address, std::int64_t last_seen_ms) {
  std::lock_guard lock(state_->mutex);
  auto it = state_->devices.find(address);
  if (it == state_->devices.end()) return unknown_device_error(address);
  it->second.last_seen_ms = last_seen_ms;
  ++state_->stats.mutations;
  return {};
}

Status MemoryStore::remove_device(const DeviceAddress& address) {
  std::lock_guard lock(state_->mutex);
  if (!state_->devices.contains(address)) return unknown_device_error(address);
  state_->erase_device(address);
  ++state_->stats.mutations;
  return {};
}

// ---- Key directory -----------------------------------------------------------------------------

Status MemoryStore::set_signed_prekey(const DeviceAddress& address, const SignedPrekey& prekey) {
  PARLEY_RETURN_IF_ERROR(validate_signed_prekey(prekey));
  std::lock_guard lock(state_->mutex);
  if (!state_->devices.contains(address)) return unknown_device_error(address);
  state_->signed_prekeys[address] = prekey;
  ++state_->stats.mutations;
  return {};
}

Result<SignedPrekey> MemoryStore::get_signed_prekey(const DeviceAddress& address) const {
  std::lock_guard lock(state_->mutex);
  if (!state_->devices.contains(address)) return unknown_device_error(address);
  auto it = state_->signed_prekeys.find(address);
  if (it == state_->signed_prekeys.end()) {
    return Status::error(ErrorCode::kNotFound, "no signed prekey");
  }
  return it->second;
}

Status MemoryStore::add_one_time_prekeys(const DeviceAddress& address,
                                         std::span<const OneTimePrekey> prekeys,
                                         std::uint32_t max_stored) {
  PARLEY_RETURN_IF_ERROR(validate_one_time_prekeys(prekeys));
  std::lock_guard lock(state_->mutex);
  if (!state_->devices.contains(address)) return unknown_device_error(address);
  auto& stored = state_->one_time_prekeys[address];
  std::uint64_t total = stored.size();
  for (const OneTimePrekey& prekey : prekeys) total += stored.contains(prekey.key_id) ? 0 : 1;
  if (total > max_stored) {
    return Status::error(ErrorCode::kResourceExhausted, "too many one-time prekeys");
  }
  for (const OneTimePrekey& prekey : prekeys) stored[prekey.key_id] = prekey.public_key;
  ++state_->stats.mutations;
  return {};
}

Result<std::optional<OneTimePrekey>> MemoryStore::claim_one_time_prekey(
    const DeviceAddress& address) {
  std::lock_guard lock(state_->mutex);
  if (!state_->devices.contains(address)) return unknown_device_error(address);
  auto it = state_->one_time_prekeys.find(address);
  if (it == state_->one_time_prekeys.end() || it->second.empty()) {
    return std::optional<OneTimePrekey>();
  }
  auto first = it->second.begin();
  OneTimePrekey prekey{first->first, std::move(first->second)};
  it->second.erase(first);
  ++state_->stats.mutations;
  return std::optional<OneTimePrekey>(std::move(prekey));
}

Result<std::uint64_t> MemoryStore::count_one_time_prekeys(const DeviceAddress& address) const {
  std::lock_guard lock(state_->mutex);
  if (!state_->devices.contains(address)) return unknown_device_error(address);
  auto it = state_->one_time_prekeys.find(address);
  return std::uint64_t{it == state_->one_time_prekeys.end() ? 0 : it->second.size()};
}

// ---- Mailboxes ---------------------------------------------------------------------------------

Result<AppendResult> MemoryStore::append_messages(const AppendRequest& request) {
  PARLEY_RETURN_IF_ERROR(validate_append(request));
  std::lock_guard lock(state_->mutex);
  if (!request.dedupe_key.empty()) {
    auto it = state_->dedupe.find(request.dedupe_key);
    if (it != state_->dedupe.end()) {
      ++state_->stats.duplicate_appends;
      return AppendResult{it->second.copies, true};
    }
  }
  // Check every recipient before writing anything: the batch is all or nothing.
  std::map<DeviceAddress, std::uint64_t> added;
  for (const NewEnvelope& envelope : request.envelopes) ++added[envelope.recipient];
  // Unknown devices are reported before full mailboxes, both in address order.
  for (const auto& entry : added) {
    if (!state_->devices.contains(entry.first)) return unknown_device_error(entry.first);
  }
  if (request.max_queue_per_device != 0) {
    for (const auto& [address, count] : added) {
      auto it = state_->mailboxes.find(address);
      std::uint64_t queued = it == state_->mailboxes.end() ? 0 : it->second.messages.size();
      if (queued + count > request.max_queue_per_device) {
        return queue_full_error(address, request.max_queue_per_device);
      }
    }
  }
  std::optional<std::uint64_t> shared;
  if (request.shared_payload) {
    std::uint64_t references = 0;
    for (const NewEnvelope& envelope : request.envelopes) references += envelope.payload.empty();
    if (references > 0) {
      shared = state_->next_shared_id++;
      state_->shared_payloads.emplace(*shared, SharedPayload{*request.shared_payload, references});
      ++state_->stats.shared_payloads_written;
    }
  }
  AppendResult result;
  for (const NewEnvelope& envelope : request.envelopes) {
    Mailbox& mailbox = state_->mailboxes[envelope.recipient];
    std::uint64_t seq = mailbox.next_seq++;
    Entry entry{StoredEnvelope{seq, envelope.sender, envelope.timestamp_ms, envelope.payload},
                std::nullopt};
    if (shared && envelope.payload.empty()) entry.shared = shared;
    mailbox.messages.emplace(seq, std::move(entry));
    result.copies.push_back({envelope.recipient, seq});
  }
  if (!request.dedupe_key.empty()) {
    state_->dedupe[request.dedupe_key] = DedupeRecord{request.now_ms, result.copies};
  }
  ++state_->stats.mutations;
  state_->stats.envelopes_written += request.envelopes.size();
  return result;
}

Result<std::vector<StoredEnvelope>> MemoryStore::read_messages(const DeviceAddress& address,
                                                               std::uint64_t after_seq,
                                                               std::uint32_t max_count) const {
  std::lock_guard lock(state_->mutex);
  std::vector<StoredEnvelope> out;
  auto it = state_->mailboxes.find(address);
  if (it == state_->mailboxes.end()) return out;
  for (auto m = it->second.messages.upper_bound(after_seq);
       m != it->second.messages.end() && out.size() < max_count; ++m) {
    out.push_back(m->second.envelope);
    if (m->second.shared)
      out.back().payload = state_->shared_payloads.at(*m->second.shared).payload;
  }
  return out;
}

Result<std::uint64_t> MemoryStore::delete_messages(const DeviceAddress& address,
                                                   std::span<const std::uint64_t> seqs) {
  std::lock_guard lock(state_->mutex);
  auto it = state_->mailboxes.find(address);
  std::uint64_t deleted = 0;
  if (it != state_->mailboxes.end()) {
    for (std::uint64_t seq : seqs) {
      auto m = it->second.messages.find(seq);
      if (m == it->second.messages.end()) continue;
      state_->release(m->second);
      it->second.messages.erase(m);
      ++deleted;
    }
  }
  if (deleted > 0) ++state_->stats.mutations;
  return deleted;
}

Result<std::uint64_t> MemoryStore::count_messages(const DeviceAddress& address) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->mailboxes.find(address);
  return std::uint64_t{it == state_->mailboxes.end() ? 0 : it->second.messages.size()};
}

Result<std::uint64_t> MemoryStore::purge_messages_older_than(std::int64_t cutoff_ms) {
  std::lock_guard lock(state_->mutex);
  std::uint64_t purged = 0;
  for (auto& [address, mailbox] : state_->mailboxes) {
    purged += std::erase_if(mailbox.messages, [&](const auto& entry) {
      if (entry.second.envelope.timestamp_ms >= cutoff_ms) return false;
      state_->release(entry.second);
      return true;
    });
  }
  if (purged > 0) ++state_->stats.mutations;
  return purged;
}

Result<std::uint64_t> MemoryStore::purge_dedupe_keys_older_than(std::int64_t cutoff_ms) {
  std::lock_guard lock(state_->mutex);
  std::uint64_t purged = std::erase_if(
      state_->dedupe, [&](const auto& entry) { return entry.second.created_ms < cutoff_ms; });
  if (purged > 0) ++state_->stats.mutations;
  return purged;
}

StoreStats MemoryStore::stats() const {
  std::lock_guard lock(state_->mutex);
  StoreStats stats = state_->stats;
  stats.shared_payloads_live = state_->shared_payloads.size();
  return stats;
}

}  // namespace parley::store
