// SPDX-License-Identifier: AGPL-3.0-or-later
//
// The outbox: every outgoing thing (texts, transcripts for our other devices, receipts, typing,
// timers) is first written here, then sent in order. Exactly once rests on three rules:
//   1. a message is encrypted once, and its ciphertexts are saved in the same transaction as the
//      ratchet state that made them — a crash can never reuse a message key or lose a message;
//   2. a retry resends the same bytes with the same client message id, which the server stores
//      once (dedupe by sender device + id);
//   3. the entry is deleted only after the server acknowledged it.
// A device-set mismatch (503) is the one case that re-encrypts: the server stored nothing.

#include <algorithm>

#include "client_impl.h"
#include "parley/crypto/padding.h"
#include "parley/crypto/random.h"

namespace parley::client {

namespace {

// Errors that will not go away by retrying the same message. An untrusted identity (a verified
// contact changed, or the server swapped a key) must never be "retried" into the wrong hands.
bool is_permanent(ErrorCode code) {
  return code == ErrorCode::kNotFound || code == ErrorCode::kTooLarge ||
         code == ErrorCode::kMalformedInput || code == ErrorCode::kInvalidArgument ||
         code == ErrorCode::kUntrustedIdentity;
}

}  // namespace

Status Client::Impl::queue_content(ByteView recipient, const content::Content& content) {
  content::Content filled = content;
  if (filled.client_message_id().empty()) {
    Bytes id = crypto::random_bytes(kClientMessageIdSize);
    filled.set_client_message_id(id.data(), id.size());
  }
  if (filled.sent_ms() == 0) filled.set_sent_ms(now_ms());
  filled.set_sender_username(account->username);
  std::string serialized = filled.SerializeAsString();
  OutboxEntry entry;
  entry.recipient = Bytes(recipient.begin(), recipient.end());
  // The wire id is always fresh: the server dedupes by (sender device, id) across recipients,
  // so a transcript to our own devices must not reuse the text's id.
  entry.client_message_id = crypto::random_bytes(kClientMessageIdSize);
  entry.content = SecretBytes(as_bytes(serialized));
  entry.created_ms = now_ms();
  return store->add_outbox(entry);
}

Status Client::Impl::record_outgoing_text(ByteView peer, content::Content& content) {
  std::int64_t now = now_ms();
  PARLEY_ASSIGN_OR_RETURN(auto existing, store->conversation(peer));
  Conversation conversation =
      existing.value_or(Conversation{Bytes(peer.begin(), peer.end()), 0, 0, 0});
  if (content.client_message_id().empty()) {
    Bytes id = crypto::random_bytes(kClientMessageIdSize);
    content.set_client_message_id(id.data(), id.size());
  }
  content.set_sent_ms(now);
  content.mutable_text()->set_expire_seconds(conversation.disappearing_seconds);

  MessageRecord message;
  message.peer = Bytes(peer.begin(), peer.end());
  message.direction = MessageDirection::kOutgoing;
  message.sender_device = account->device_id;
  message.client_message_id = to_bytes(content.client_message_id());
  message.kind = MessageKind::kText;
  message.body = content.text().body();
  message.sent_ms = now;
  message.status = MessageStatus::kPending;
  if (conversation.disappearing_seconds > 0) {
    message.expires_at_ms = now + conversation.disappearing_seconds * 1000;
  }
  PARLEY_ASSIGN_OR_RETURN(bool inserted, store->insert_message(message));
  (void)inserted;  // a fresh random id cannot collide
  conversation.last_activity_ms = now;
  return store->save_conversation(conversation);
}

Status Client::Impl::queue_direct_text(ByteView recipient, const content::Content& content) {
  PARLEY_RETURN_IF_ERROR(queue_content(recipient, content));
  content::Content transcript;
  transcript.set_client_message_id(content.client_message_id());
  transcript.set_sent_ms(content.sent_ms());
  auto* sent = transcript.mutable_sent();
  sent->set_recipient_account_id(recipient.data(), recipient.size());
  *sent->mutable_text() = content.text();
  return queue_content(account->account_id, transcript);
}

Result<Bytes> Client::Impl::queue_text_to(const Contact& contact, const std::string& text) {
  PARLEY_ASSIGN_OR_RETURN(auto tx, store->begin());
  content::Content content;
  content.mutable_text()->set_body(text);
  PARLEY_RETURN_IF_ERROR(record_outgoing_text(contact.account_id, content));
  PARLEY_RETURN_IF_ERROR(queue_direct_text(contact.account_id, content));
  PARLEY_RETURN_IF_ERROR(tx.commit());
  return to_bytes(content.client_message_id());
}

Status Client::Impl::queue_receipt(ByteView recipient, content::Receipt::Type type,
                                   const std::vector<Bytes>& client_message_ids) {
  content::Content content;
  content.mutable_receipt()->set_type(type);
  for (const auto& id : client_message_ids) {
    content.mutable_receipt()->add_client_message_ids(id.data(), id.size());
  }
  return queue_content(recipient, content);
}

Status Client::Impl::send_entry(OutboxEntry& entry) {
  bool own = same_bytes(entry.recipient, account->account_id);
  if (!own) {
    // Receipts, typing and timers are queued without the check queue_text() makes.
    PARLEY_ASSIGN_OR_RETURN(auto contact, store->contact(entry.recipient));
    if (contact && contact->verified && contact->identity_changed) {
      return Status::error(ErrorCode::kUntrustedIdentity,
                           display_name(entry.recipient) +
                               " changed identity since you verified them: verify again first");
    }
  }
  for (int attempt = 0; attempt <= kMaxDeviceMismatchRetries; ++attempt) {
    if (entry.request.empty()) {
      PARLEY_ASSIGN_OR_RETURN(DeviceSet devices, device_set(entry.recipient, attempt > 0));
      if (own) devices.devices.erase(account->device_id);
      if (devices.devices.empty()) {
        // Only this device in our own account: nobody to tell.
        return store->remove_outbox(entry.id);
      }
      PARLEY_ASSIGN_OR_RETURN(SecretBytes padded, crypto::pad_message(entry.content.view()));
      PARLEY_RETURN_IF_ERROR(prepare_sessions(devices));
      PARLEY_ASSIGN_OR_RETURN(auto tx, store->begin());
      PARLEY_ASSIGN_OR_RETURN(wire::SendMessageRequest request,
                              encrypt_for(devices, padded.view(), entry.client_message_id));
      entry.request = to_bytes(request.SerializeAsString());
      PARLEY_RETURN_IF_ERROR(store->update_outbox(entry));
      PARLEY_RETURN_IF_ERROR(tx.commit());
    }
    wire::Request request;
    if (!request.mutable_send_message()->ParseFromArray(entry.request.data(),
                                                        static_cast<int>(entry.request.size()))) {
      return Status::error(ErrorCode::kStorageCorrupt, "an outbox entry does not parse");
    }
    auto response = call_raw(std::move(request));
    if (!response.ok()) return response.status();
    Status status = response_status(*response);
    if (status.code() == ErrorCode::kDeviceMismatch) {
      entry.request.clear();  // nothing was stored: encrypt again for the current devices
      PARLEY_RETURN_IF_ERROR(store->update_outbox(entry));
      continue;
    }
    PARLEY_RETURN_IF_ERROR(status);

    content::Content content;
    content.ParseFromArray(entry.content.data(), static_cast<int>(entry.content.size()));
    PARLEY_ASSIGN_OR_RETURN(auto tx, store->begin());
    PARLEY_RETURN_IF_ERROR(store->remove_outbox(entry.id));
    PARLEY_RETURN_IF_ERROR(note_sender_key_delivered(entry, content));  // groups
    bool text_to_peer = !own && content.has_text();
    if (text_to_peer) {
      auto advanced = store->advance_status(entry.recipient, MessageDirection::kOutgoing,
                                            as_bytes(content.client_message_id()),
                                            MessageStatus::kSent, now_ms());
      if (!advanced.ok() && advanced.status().code() != ErrorCode::kNotFound) {
        return advanced.status();  // kNotFound: the message disappeared meanwhile
      }
    }
    PARLEY_RETURN_IF_ERROR(tx.commit());
    if (text_to_peer) {
      Event event;
      event.kind = Event::Kind::kSent;
      event.peer_account_hex = hex_id(entry.recipient);
      event.peer_username = display_name(entry.recipient);
      event.outgoing = true;
      event.client_message_id_hex = hex_id(as_bytes(content.client_message_id()));
      event.sent_ms = content.sent_ms();
      emit(event);
    }
    return Status();
  }
  return Status::error(ErrorCode::kDeviceMismatch,
                       display_name(entry.recipient) +
                           "'s devices kept changing while sending; the message stays queued");
}

Status Client::Impl::flush_outbox() {
  outbox_sent_early.clear();
  PARLEY_ASSIGN_OR_RETURN(auto entries, store->outbox());
  for (auto& entry : entries) {
    if (outbox_sent_early.contains(entry.id)) continue;     // a group key sent before its message
    if (entry.next_attempt_ms > now_ms()) return Status();  // later entries wait: keep order
    Status sent = entry.kind == OutboxKind::kGroup       ? send_group_entry(entry)
                  : entry.kind == OutboxKind::kSenderKey ? send_sender_key_entry(entry)
                                                         : send_entry(entry);
    if (sent.ok()) continue;
    if (is_network_error(sent.code())) return sent;
    content::Content content;
    content.ParseFromArray(entry.content.data(), static_cast<int>(entry.content.size()));
    Event warning;
    warning.kind = Event::Kind::kWarning;
    warning.peer_account_hex = hex_id(entry.recipient);
    warning.peer_username = display_name(entry.recipient);
    warning.code = sent.code();
    warning.client_message_id_hex = hex_id(as_bytes(content.client_message_id()));
    if (entry.kind == OutboxKind::kGroup) {
      warning.peer_account_hex.clear(), warning.peer_username.clear();
      warning.group_id_hex = hex_id(entry.recipient);
    }
    if (is_permanent(sent.code())) {
      // Give up on this one message, keep the rest moving.
      PARLEY_ASSIGN_OR_RETURN(auto tx, store->begin());
      PARLEY_RETURN_IF_ERROR(store->remove_outbox(entry.id));
      if (content.has_text()) {
        auto failed = store->advance_status(entry.recipient, MessageDirection::kOutgoing,
                                            as_bytes(content.client_message_id()),
                                            MessageStatus::kFailed, now_ms());
        if (!failed.ok() && failed.status().code() != ErrorCode::kNotFound) {
          return failed.status();
        }
      }
      PARLEY_RETURN_IF_ERROR(tx.commit());
      warning.body = "a message could not be sent and was given up: " + sent.message();
      emit(warning);
      continue;
    }
    // Transient (device list not confirmed yet, mailbox full, server storage): back off.
    entry.attempts += 1;
    std::int64_t backoff_ms =
        std::min<std::int64_t>(60'000, 1000LL << std::min(entry.attempts, 6u));
    entry.next_attempt_ms = now_ms() + backoff_ms;
    PARLEY_RETURN_IF_ERROR(store->update_outbox(entry));
    warning.body = "a message stays queued: " + sent.message();
    emit(warning);
    return Status();
  }
  return Status();
}

}  // namespace parley::client
