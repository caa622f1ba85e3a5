// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Receiving in groups (docs/client.md "Groups"). Pairwise, members send each other group states
// (groups.cpp) and their sending keys (SenderKeyDistribution); a group message is a Sender Key
// envelope: 0x04 || distribution id || SenderKeyMessage. The distribution id and the sending
// device find the key; the key was received over that device's pairwise session, so it proves
// the sender, and the group it was sent for must be the one the message names. A message is
// applied only while we are in the group and its sender is a member of our current state.

#include <algorithm>

#include "client_impl.h"
#include "group_state.h"
#include "parley/crypto/group_cipher.h"
#include "parley/crypto/group_session_builder.h"

namespace parley::client {

namespace {

// Keys of one sending device for one group that are kept: the newest, and the one before it for
// messages that were on their way while it was replaced.
constexpr std::size_t kReceivedKeysPerDevice = 2;

bool is_sender_key_envelope(const wire::Envelope& envelope) {
  return !envelope.ciphertext().empty() && static_cast<std::uint8_t>(envelope.ciphertext()[0]) ==
                                               static_cast<std::uint8_t>(EnvelopeType::kSenderKey);
}

ByteView distribution_id_of(ByteView ciphertext) {
  return ciphertext.subspan(1, groups::kDistributionIdSize);
}

}  // namespace

Result<SecretBytes> Client::Impl::decrypt_group(ByteView sender_account,
                                                std::uint32_t sender_device, ByteView ciphertext) {
  if (ciphertext.size() < 2 + groups::kDistributionIdSize) {
    return Status::error(ErrorCode::kMalformedInput, "a short group message");
  }
  ByteView distribution_id = distribution_id_of(ciphertext);
  PARLEY_ASSIGN_OR_RETURN(
      auto key, store->received_sender_key(sender_account, sender_device, distribution_id));
  if (!key) {
    return Status::error(ErrorCode::kNoSession,
                         "this device has no key for a group message (it was replaced, or this "
                         "device is not in the group)");
  }
  crypto::GroupCipher cipher(store->sender_keys(),
                             {hex_id(distribution_id), {hex_id(sender_account), sender_device}});
  return cipher.decrypt(ciphertext.subspan(1 + groups::kDistributionIdSize));
}

namespace {

Status receive_sender_key(Client::Impl& impl, ByteView sender, std::uint32_t device,
                          const content::SenderKeyDistribution& distribution) {
  ByteView group_id = as_bytes(distribution.group_id());
  ByteView distribution_id = as_bytes(distribution.distribution_id());
  if (group_id.size() != groups::kGroupIdSize ||
      distribution_id.size() != groups::kDistributionIdSize) {
    return Status::error(ErrorCode::kMalformedInput, "a group key with a bad id");
  }
  PARLEY_ASSIGN_OR_RETURN(auto group, impl.store->group(group_id));
  if (group && !group->is_member) return Status();  // we are out: nothing more to read
  // A key for a group we do not know yet is kept: its state may still be on its way from an
  // admin (another sender, so no order between the two). Membership is checked per message.
  PARLEY_ASSIGN_OR_RETURN(
      auto message, crypto::SenderKeyDistributionMessage::parse(as_bytes(distribution.message())));
  PARLEY_ASSIGN_OR_RETURN(auto tx, impl.store->begin());
  PARLEY_RETURN_IF_ERROR(
      crypto::GroupSessionBuilder(impl.store->sender_keys())
          .process({hex_id(distribution_id), {hex_id(sender), device}}, message));
  ReceivedSenderKey key;
  key.sender_account = Bytes(sender.begin(), sender.end());
  key.sender_device = device;
  key.distribution_id = Bytes(distribution_id.begin(), distribution_id.end());
  key.group_id = Bytes(group_id.begin(), group_id.end());
  key.received_ms = impl.now_ms();
  PARLEY_RETURN_IF_ERROR(impl.store->save_received_sender_key(key));
  // The device's older keys for the group are no longer used (it sends its messages in order).
  PARLEY_ASSIGN_OR_RETURN(auto all, impl.store->received_sender_keys(group_id));
  std::vector<ReceivedSenderKey> of_device;
  for (auto& other : all) {
    if (other.sender_account == key.sender_account && other.sender_device == device &&
        other.distribution_id != key.distribution_id) {
      of_device.push_back(std::move(other));
    }
  }
  std::sort(of_device.begin(), of_device.end(),
            [](const auto& a, const auto& b) { return a.received_ms > b.received_ms; });
  for (std::size_t i = kReceivedKeysPerDevice - 1; i < of_device.size(); ++i) {
    PARLEY_RETURN_IF_ERROR(impl.store->delete_received_sender_key(of_device[i]));
  }
  return tx.commit();
}

}  // namespace

Status Client::Impl::apply_group_content(const wire::Envelope& envelope,
                                         const content::Content& content) {
  ByteView sender = as_bytes(envelope.sender_account_id());
  std::uint32_t device = envelope.sender_device_id();
  bool via_sender_key = is_sender_key_envelope(envelope);
  if (content.has_sender_key() || content.has_group_update()) {
    if (via_sender_key) {
      return Status::error(ErrorCode::kProtocolViolation,
                           "group keys and states travel pairwise only");
    }
    if (content.has_sender_key())
      return receive_sender_key(*this, sender, device, content.sender_key());
    return apply_group_state(content.group_update().state());
  }
  if (!via_sender_key) {
    return Status::error(ErrorCode::kProtocolViolation,
                         "a group message came pairwise instead of with the group's keys");
  }
  // The key that opened it was sent for one group: the message must name that group.
  ByteView ciphertext = as_bytes(envelope.ciphertext());
  PARLEY_ASSIGN_OR_RETURN(
      auto key, store->received_sender_key(sender, device, distribution_id_of(ciphertext)));
  ByteView group_id = as_bytes(content.group_id());
  if (!key || !same_bytes(key->group_id, group_id)) {
    return Status::error(ErrorCode::kProtocolViolation,
                         "a group message names another group than its key");
  }
  PARLEY_ASSIGN_OR_RETURN(auto group, store->group(group_id));
  if (!group) {
    return Status::error(ErrorCode::kNotFound,
                         "a message for a group this device does not know yet was dropped");
  }
  if (!group->is_member) {
    return Status::error(ErrorCode::kPermissionDenied,
                         "a message for a group you are no longer in was dropped");
  }
  PARLEY_ASSIGN_OR_RETURN(content::GroupState state, group_state_of(*group));
  if (!groups::is_member(state, sender)) {
    return Status::error(ErrorCode::kPermissionDenied,
                         "a group message from someone who is not a member was dropped");
  }
  if (!content.has_text()) return Status();  // receipts and typing in groups: not used yet

  bool own = same_bytes(sender, account->account_id);
  std::int64_t now = now_ms();
  const content::Text& text = content.text();
  MessageRecord message;
  message.peer = Bytes(group_id.begin(), group_id.end());
  message.direction = own ? MessageDirection::kOutgoing : MessageDirection::kIncoming;
  message.sender_device = device;
  message.client_message_id = to_bytes(content.client_message_id());
  message.kind = MessageKind::kText;
  message.body = text.body();
  message.sent_ms = content.sent_ms();
  message.received_ms = now;
  message.status = MessageStatus::kSent;
  message.sender = Bytes(sender.begin(), sender.end());
  if (text.expire_seconds() > 0) message.expires_at_ms = now + text.expire_seconds() * 1000;
  PARLEY_ASSIGN_OR_RETURN(bool inserted, store->insert_message(message));
  if (!inserted) return Status();  // the same message again
  PARLEY_ASSIGN_OR_RETURN(auto conversation, store->conversation(group_id));
  Conversation updated =
      conversation.value_or(Conversation{Bytes(group_id.begin(), group_id.end()), 0, 0, 0, true});
  updated.is_group = true;
  updated.last_activity_ms = now;
  if (!own) updated.unread += 1;
  PARLEY_RETURN_IF_ERROR(store->save_conversation(updated));

  Event event;
  event.kind = Event::Kind::kMessage;
  event.peer_account_hex = hex_id(sender);
  event.peer_username = own ? account->username : group_member_name(state, sender);
  event.outgoing = own;
  event.device_id = device;
  event.client_message_id_hex = hex_id(as_bytes(content.client_message_id()));
  event.body = text.body();
  event.sent_ms = content.sent_ms();
  event.group_id_hex = hex_id(group_id);
  event.group_name = group->name;
  PARLEY_RETURN_IF_ERROR(record_received_attachment(message, text, event));  // attachments
  emit(event);
  return Status();
}

}  // namespace parley::client
