// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Group messages in the outbox (docs/client.md "Groups"). Each device has its own sending key
// (a Signal sender-key chain) per group, named by a random distribution id. A group message is
// encrypted ONCE with it and sent as one SendGroupMessageRequest listing every member device; the
// server stores the ciphertext once and fans it out by reference.
//
// Before a message goes out, every recipient device that does not hold our current key gets it
// over its pairwise session (an outbox row of kind kSenderKey, sent right then, so it reaches the
// device before the message: the server keeps each mailbox in order). The key is replaced when a
// member leaves or is removed (groups.cpp), when a member's signed device list lost a device
// that held it, and after kSenderKeyMaxAgeMs or kSenderKeyMaxMessages.
//
// The exactly-once rules of outbox.cpp hold: the ciphertext is saved with the chain state that
// made it, the same bytes are resent until acknowledged, and only a 503 (nothing stored)
// re-encrypts.

#include <algorithm>
#include <map>
#include <set>

#include "client_impl.h"
#include "group_state.h"
#include "parley/crypto/group_cipher.h"
#include "parley/crypto/group_session_builder.h"
#include "parley/crypto/padding.h"
#include "parley/crypto/random.h"

namespace parley::client {

namespace {

// A member this message skips, with the reason, after which the others still get it.
struct Skipped {
  Bytes account_id;
  Status why;
};

}  // namespace

Status Client::Impl::queue_group_content(ByteView group_id, const content::Content& content) {
  PARLEY_ASSIGN_OR_RETURN(GroupRecord record, load_group(group_id));
  if (!record.is_member) {
    return Status::error(ErrorCode::kPermissionDenied, "you are no longer a member of this group");
  }
  content::Content filled = content;
  filled.set_group_id(group_id.data(), group_id.size());
  if (filled.client_message_id().empty()) {
    Bytes id = crypto::random_bytes(kClientMessageIdSize);
    filled.set_client_message_id(id.data(), id.size());
  }
  if (filled.sent_ms() == 0) filled.set_sent_ms(now_ms());
  filled.set_sender_username(account->username);
  std::string serialized = filled.SerializeAsString();
  OutboxEntry entry;
  entry.kind = OutboxKind::kGroup;
  entry.recipient = Bytes(group_id.begin(), group_id.end());
  entry.client_message_id = crypto::random_bytes(kClientMessageIdSize);
  entry.content = SecretBytes(as_bytes(serialized));
  entry.created_ms = now_ms();
  return store->add_outbox(entry);
}

namespace {

crypto::SenderKeyName own_key_name(const AccountRecord& account, ByteView distribution_id) {
  return {hex_id(distribution_id), {hex_id(account.account_id), account.device_id}};
}

}  // namespace

Status Client::Impl::forget_own_sender_key(ByteView group_id) {
  PARLEY_ASSIGN_OR_RETURN(auto key, store->own_sender_key(group_id));
  if (!key) return Status();
  PARLEY_ASSIGN_OR_RETURN(auto tx, store->begin());
  PARLEY_RETURN_IF_ERROR(
      store->delete_sender_key_record(own_key_name(*account, key->distribution_id)));
  PARLEY_RETURN_IF_ERROR(store->delete_own_sender_key(group_id));
  return tx.commit();
}

Status Client::Impl::note_sender_key_delivered(const OutboxEntry& entry,
                                               const content::Content& content) {
  if (entry.kind != OutboxKind::kSenderKey || !content.has_sender_key()) return Status();
  ByteView group_id = as_bytes(content.sender_key().group_id());
  PARLEY_ASSIGN_OR_RETURN(auto key, store->own_sender_key(group_id));
  if (!key || !same_bytes(key->distribution_id, as_bytes(content.sender_key().distribution_id()))) {
    return Status();  // replaced meanwhile: the holders of the new key are counted from zero
  }
  wire::SendMessageRequest request;
  if (!request.ParseFromArray(entry.request.data(), static_cast<int>(entry.request.size()))) {
    return Status::error(ErrorCode::kStorageCorrupt, "an outbox entry does not parse");
  }
  for (const auto& copy : request.copies()) {
    // The key the copy was encrypted to (sessions.cpp saved it from the signed device list).
    PARLEY_ASSIGN_OR_RETURN(
        auto device_key, store->identities().identity({hex_id(entry.recipient), copy.device_id()}));
    if (!device_key) continue;
    PARLEY_RETURN_IF_ERROR(store->add_key_recipient(
        group_id, {entry.recipient, copy.device_id(), device_key->serialize()}));
  }
  return Status();
}

Status Client::Impl::send_sender_key_entry(OutboxEntry& entry) {
  content::Content content;
  if (!content.ParseFromArray(entry.content.data(), static_cast<int>(entry.content.size()))) {
    return Status::error(ErrorCode::kStorageCorrupt, "an outbox entry does not parse");
  }
  PARLEY_ASSIGN_OR_RETURN(auto key,
                          store->own_sender_key(as_bytes(content.sender_key().group_id())));
  if (!key || !same_bytes(key->distribution_id, as_bytes(content.sender_key().distribution_id()))) {
    return store->remove_outbox(entry.id);
  }
  return send_entry(entry);
}

namespace {

// Everything one group send needs to know, made fresh for each encryption.
struct GroupTarget {
  Bytes account_id;
  std::map<std::uint32_t, Bytes> devices;  // device id -> device key, from the signed list
};

}  // namespace

// Our current key for the group: made (and saved) when there is none or the old one is due.
static Result<OwnSenderKey> current_sender_key(Client::Impl& impl, ByteView group_id) {
  PARLEY_ASSIGN_OR_RETURN(auto key, impl.store->own_sender_key(group_id));
  std::int64_t now = impl.now_ms();
  if (key && now - key->created_ms < groups::kSenderKeyMaxAgeMs &&
      key->messages < groups::kSenderKeyMaxMessages) {
    return std::move(*key);
  }
  PARLEY_ASSIGN_OR_RETURN(auto tx, impl.store->begin());
  PARLEY_RETURN_IF_ERROR(impl.forget_own_sender_key(group_id));
  OwnSenderKey fresh;
  fresh.group_id = Bytes(group_id.begin(), group_id.end());
  fresh.distribution_id = crypto::random_bytes(groups::kDistributionIdSize);
  fresh.created_ms = now;
  PARLEY_RETURN_IF_ERROR(impl.store->save_own_sender_key(fresh));
  PARLEY_RETURN_IF_ERROR(crypto::GroupSessionBuilder(impl.store->sender_keys())
                             .create(own_key_name(*impl.account, fresh.distribution_id))
                             .status());
  PARLEY_RETURN_IF_ERROR(tx.commit());
  return fresh;
}

// Sends our key to an account's devices now (they must have it before the message). A row made
// by an earlier attempt that did not get through is sent again instead of a new one.
static Status distribute_sender_key(Client::Impl& impl, const OwnSenderKey& key,
                                    ByteView account_id, std::map<Bytes, OutboxEntry>& pending) {
  auto found = pending.find(Bytes(account_id.begin(), account_id.end()));
  OutboxEntry entry;
  if (found != pending.end()) {
    entry = std::move(found->second);
    pending.erase(found);
  } else {
    PARLEY_ASSIGN_OR_RETURN(auto distribution,
                            crypto::GroupSessionBuilder(impl.store->sender_keys())
                                .create(own_key_name(*impl.account, key.distribution_id)));
    Bytes message = distribution.serialize();
    content::Content content;
    Bytes id = crypto::random_bytes(kClientMessageIdSize);
    content.set_client_message_id(id.data(), id.size());
    content.set_sent_ms(impl.now_ms());
    content.set_sender_username(impl.account->username);
    content.set_group_id(key.group_id.data(), key.group_id.size());
    auto* body = content.mutable_sender_key();
    body->set_group_id(key.group_id.data(), key.group_id.size());
    body->set_distribution_id(key.distribution_id.data(), key.distribution_id.size());
    body->set_message(message.data(), message.size());
    std::string serialized = content.SerializeAsString();
    entry.kind = OutboxKind::kSenderKey;
    entry.recipient = Bytes(account_id.begin(), account_id.end());
    entry.client_message_id = crypto::random_bytes(kClientMessageIdSize);
    entry.content = SecretBytes(as_bytes(serialized));
    entry.created_ms = impl.now_ms();
    PARLEY_RETURN_IF_ERROR(impl.store->add_outbox(entry));
  }
  impl.outbox_sent_early.insert(entry.id);
  return impl.send_entry(entry);  // marks the holders once the server took it
}

// Builds and saves the encrypted request of a group entry. Returns false when nobody else is
// left to receive it.
static Result<bool> encrypt_group_entry(Client::Impl& impl, OutboxEntry& entry,
                                        const std::set<Bytes>& refresh, std::set<Bytes>& gone) {
  ByteView group_id = entry.recipient;
  PARLEY_ASSIGN_OR_RETURN(GroupRecord record, impl.load_group(group_id));
  PARLEY_ASSIGN_OR_RETURN(content::GroupState state, impl.group_state_of(record));
  const AccountRecord& self = *impl.account;
  std::vector<Skipped> skipped;

  // Who receives it: every verified device of every member (of ours: the other ones).
  std::vector<GroupTarget> targets;
  for (const auto& member : state.members()) {
    Bytes id = to_bytes(member.account_id());
    if (gone.contains(id)) continue;
    bool own = same_bytes(id, self.account_id);
    if (!own) {
      PARLEY_ASSIGN_OR_RETURN(auto contact, impl.store->contact(id));
      if (contact && contact->verified && contact->identity_changed) {
        skipped.push_back({id, Status::error(ErrorCode::kUntrustedIdentity,
                                             "their identity changed since you verified them")});
        continue;
      }
    }
    auto devices = impl.device_set(id, refresh.contains(id));
    if (!devices.ok()) {
      ErrorCode code = devices.status().code();
      if (is_network_error(code) || is_storage_error(code)) return devices.status();
      if (code == ErrorCode::kNotFound) {
        gone.insert(id);  // the account no longer exists
        continue;
      }
      skipped.push_back({id, devices.status()});
      continue;
    }
    GroupTarget target{id, {}};
    for (const auto& [device_id, device_key] : devices->devices) {
      if (!(own && device_id == self.device_id)) target.devices[device_id] = device_key.serialize();
    }
    if (!target.devices.empty()) targets.push_back(std::move(target));
  }

  // A device that held our key and is no longer on its account's signed list may have taken the
  // key with it: what follows gets a new one.
  PARLEY_ASSIGN_OR_RETURN(OwnSenderKey key, current_sender_key(impl, group_id));
  PARLEY_ASSIGN_OR_RETURN(std::vector<KeyRecipient> holders, impl.store->key_recipients(group_id));
  std::map<Bytes, const GroupTarget*> by_account;
  for (const auto& target : targets) by_account.emplace(target.account_id, &target);
  bool lost_device = false;
  for (const auto& holder : holders) {
    auto target = by_account.find(holder.account_id);
    if (target != by_account.end()) {
      auto device = target->second->devices.find(holder.device_id);
      // Gone, or the same id with another key (another device): either may keep the key.
      if (device == target->second->devices.end() || device->second != holder.device_key) {
        lost_device = true;
      }
    }
    if (!groups::is_member(state, holder.account_id)) lost_device = true;
  }
  if (lost_device) {
    PARLEY_RETURN_IF_ERROR(impl.forget_own_sender_key(group_id));
    PARLEY_ASSIGN_OR_RETURN(key, current_sender_key(impl, group_id));
    holders.clear();
  }

  // Our key to every device without it, first.
  std::map<Bytes, OutboxEntry> pending;
  PARLEY_ASSIGN_OR_RETURN(std::vector<OutboxEntry> waiting, impl.store->outbox());
  for (auto& row : waiting) {
    if (row.kind != OutboxKind::kSenderKey) continue;
    content::Content content;
    if (!content.ParseFromArray(row.content.data(), static_cast<int>(row.content.size()))) continue;
    if (same_bytes(as_bytes(content.sender_key().group_id()), group_id) &&
        same_bytes(as_bytes(content.sender_key().distribution_id()), key.distribution_id)) {
      pending.emplace(row.recipient, std::move(row));
    }
  }
  auto held_by = [](const std::vector<KeyRecipient>& all, const GroupTarget& target) {
    std::map<std::uint32_t, Bytes> held;
    auto first =
        std::lower_bound(all.begin(), all.end(), target.account_id,
                         [](const KeyRecipient& h, const Bytes& id) { return h.account_id < id; });
    for (auto h = first; h != all.end() && h->account_id == target.account_id; ++h) {
      held[h->device_id] = h->device_key;
    }
    return std::all_of(target.devices.begin(), target.devices.end(), [&](const auto& device) {
      auto found = held.find(device.first);
      return found != held.end() && found->second == device.second;
    });
  };
  std::vector<GroupTarget> ready;
  bool distributed = false;
  for (auto& target : targets) {
    if (held_by(holders, target)) {
      ready.push_back(std::move(target));
      continue;
    }
    Status sent = distribute_sender_key(impl, key, target.account_id, pending);
    if (!sent.ok()) {
      if (is_network_error(sent.code()) || is_storage_error(sent.code())) return sent;
      skipped.push_back({target.account_id, sent});
      continue;
    }
    distributed = true;
    ready.push_back(std::move(target));
  }
  if (distributed) {
    // The pairwise send may have refreshed a device list (a 503): send to exactly the devices
    // that hold the key now, which is what the account's current list says.
    PARLEY_ASSIGN_OR_RETURN(holders, impl.store->key_recipients(group_id));
    std::vector<GroupTarget> checked;
    for (auto& target : ready) {
      bool own = same_bytes(target.account_id, self.account_id);
      PARLEY_ASSIGN_OR_RETURN(DeviceSet devices, impl.device_set(target.account_id, false));
      target.devices.clear();
      for (const auto& [device_id, device_key] : devices.devices) {
        if (!(own && device_id == self.device_id)) {
          target.devices[device_id] = device_key.serialize();
        }
      }
      if (target.devices.empty()) continue;
      if (!held_by(holders, target)) {
        skipped.push_back({target.account_id,
                           Status::error(ErrorCode::kDeviceMismatch,
                                         "their devices changed while the group key was sent")});
        continue;
      }
      checked.push_back(std::move(target));
    }
    ready = std::move(checked);
  }

  for (const auto& skip : skipped) {
    Event warning;
    warning.kind = Event::Kind::kWarning;
    warning.peer_account_hex = hex_id(skip.account_id);
    warning.peer_username = impl.group_member_name(state, skip.account_id);
    warning.group_id_hex = hex_id(group_id);
    warning.group_name = record.name;
    warning.code = skip.why.code();
    warning.body = "a group message was not sent to this member: " + skip.why.message();
    impl.emit(warning);
  }
  if (ready.empty()) return false;

  // Encrypt once; the ciphertext is saved with the chain state that made it.
  PARLEY_ASSIGN_OR_RETURN(SecretBytes padded, crypto::pad_message(entry.content.view()));
  PARLEY_ASSIGN_OR_RETURN(auto tx, impl.store->begin());
  crypto::GroupCipher cipher(impl.store->sender_keys(), own_key_name(self, key.distribution_id));
  PARLEY_ASSIGN_OR_RETURN(crypto::SenderKeyMessage message, cipher.encrypt(padded.view()));
  Bytes ciphertext{static_cast<std::uint8_t>(EnvelopeType::kSenderKey)};
  append(ciphertext, key.distribution_id);
  append(ciphertext, message.serialize());
  wire::SendGroupMessageRequest request;
  request.set_client_message_id(entry.client_message_id.data(), entry.client_message_id.size());
  request.set_ciphertext(ciphertext.data(), ciphertext.size());
  for (const auto& target : ready) {
    auto* recipient = request.add_recipients();
    recipient->set_account_id(target.account_id.data(), target.account_id.size());
    for (const auto& [device, device_key] : target.devices) recipient->add_device_ids(device);
  }
  entry.request = to_bytes(request.SerializeAsString());
  PARLEY_RETURN_IF_ERROR(impl.store->update_outbox(entry));
  key.messages += 1;
  PARLEY_RETURN_IF_ERROR(impl.store->save_own_sender_key(key));
  PARLEY_RETURN_IF_ERROR(tx.commit());
  return true;
}

Status Client::Impl::send_group_entry(OutboxEntry& entry) {
  content::Content content;
  if (!content.ParseFromArray(entry.content.data(), static_cast<int>(entry.content.size()))) {
    return Status::error(ErrorCode::kStorageCorrupt, "an outbox entry does not parse");
  }
  ByteView group_id = entry.recipient;
  auto finish = [&](MessageStatus status, const std::string& warning) -> Status {
    PARLEY_ASSIGN_OR_RETURN(auto tx, store->begin());
    PARLEY_RETURN_IF_ERROR(store->remove_outbox(entry.id));
    auto advanced = store->advance_status(group_id, MessageDirection::kOutgoing,
                                          as_bytes(content.client_message_id()), status, now_ms());
    if (!advanced.ok() && advanced.status().code() != ErrorCode::kNotFound) {
      return advanced.status();
    }
    PARLEY_RETURN_IF_ERROR(tx.commit());
    PARLEY_ASSIGN_OR_RETURN(auto record, store->group(group_id));
    Event event;
    event.kind = warning.empty() ? Event::Kind::kSent : Event::Kind::kWarning;
    event.outgoing = true;
    event.client_message_id_hex = hex_id(as_bytes(content.client_message_id()));
    event.sent_ms = content.sent_ms();
    event.group_id_hex = hex_id(group_id);
    if (record) event.group_name = record->name;
    if (!warning.empty()) {
      event.code = ErrorCode::kPermissionDenied;
      event.body = warning;
    }
    if (content.has_text() || !warning.empty()) emit(event);
    return Status();
  };

  PARLEY_ASSIGN_OR_RETURN(auto record, store->group(group_id));
  if (!record || !record->is_member) {
    return finish(MessageStatus::kFailed,
                  "a group message was not sent: you are no longer a member of the group");
  }
  std::set<Bytes> refresh;  // accounts whose device list the server disputed
  std::set<Bytes> gone;     // accounts that no longer exist
  for (int attempt = 0; attempt <= kMaxDeviceMismatchRetries; ++attempt) {
    if (entry.request.empty()) {
      PARLEY_ASSIGN_OR_RETURN(bool anyone, encrypt_group_entry(*this, entry, refresh, gone));
      if (!anyone) return finish(MessageStatus::kSent, "");  // nobody else to tell
    }
    wire::Request request;
    if (!request.mutable_send_group_message()->ParseFromArray(
            entry.request.data(), static_cast<int>(entry.request.size()))) {
      return Status::error(ErrorCode::kStorageCorrupt, "an outbox entry does not parse");
    }
    auto response = call_raw(std::move(request));
    if (!response.ok()) return response.status();
    Status status = response_status(*response);
    if (status.code() == ErrorCode::kDeviceMismatch) {
      // Nothing was stored: learn the named accounts' devices again and encrypt anew.
      refresh.clear();
      for (const auto& mismatch : response->group_device_mismatch().accounts()) {
        Bytes id = to_bytes(mismatch.account_id());
        if (mismatch.account_gone()) {
          gone.insert(id);
        } else {
          refresh.insert(id);
        }
      }
      entry.request.clear();
      PARLEY_RETURN_IF_ERROR(store->update_outbox(entry));
      continue;
    }
    PARLEY_RETURN_IF_ERROR(status);
    return finish(MessageStatus::kSent, "");
  }
  return Status::error(ErrorCode::kDeviceMismatch,
                       "the group's devices kept changing while sending; the message stays queued");
}

}  // namespace parley::client
