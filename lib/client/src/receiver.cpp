// SPDX-License-Identifier: AGPL-3.0-or-later
//
// What the server pushes: envelopes are decrypted and applied in one local transaction together
// with the ratchet state and the "last processed seq" mark, then acknowledged. A crash before
// the commit replays the envelope from the server with the old ratchet state; a crash after it
// but before the ack makes the server push it again, and the seq mark skips it. So every
// message is applied exactly once.

#include <algorithm>

#include "client_impl.h"
#include "parley/crypto/padding.h"

namespace parley::client {

namespace {

constexpr std::string_view kLastSeq = "last_processed_seq";

std::string describe_timer(std::int64_t seconds) {
  if (seconds == 0) return "off";
  if (seconds % 86400 == 0) return std::to_string(seconds / 86400) + "d";
  if (seconds % 3600 == 0) return std::to_string(seconds / 3600) + "h";
  if (seconds % 60 == 0) return std::to_string(seconds / 60) + "m";
  return std::to_string(seconds) + "s";
}

Event warning_event(std::string text, ErrorCode code) {
  Event event;
  event.kind = Event::Kind::kWarning;
  event.body = std::move(text);
  event.code = code;
  return event;
}

}  // namespace

Status Client::Impl::handle_push(const wire::Push& push) {
  switch (push.body_case()) {
    case wire::Push::kMessage:
      return handle_envelope(push.message());
    case wire::Push::kQueueEmpty:
      queue_empty_seen = true;
      return Status();
    case wire::Push::kPrekeysLow: {
      Status topped = upload_prekeys(false, options.prekey_batch);
      if (!topped.ok() && !is_storage_error(topped.code())) {
        emit(warning_event("could not top up prekeys: " + topped.message(), topped.code()));
        return Status();
      }
      return topped;
    }
    case wire::Push::kDeviceListChanged: {
      Status changed = handle_device_list_changed();
      if (!changed.ok()) {
        emit(warning_event("could not update the device list: " + changed.message(),
                           changed.code()));
      }
      return Status();
    }
    case wire::Push::BODY_NOT_SET:
      break;
  }
  return Status();  // a push this client does not know yet
}

Status Client::Impl::handle_envelope(const wire::Envelope& envelope) {
  PARLEY_ASSIGN_OR_RETURN(auto last, store->meta(kLastSeq));
  if (envelope.seq() <= static_cast<std::uint64_t>(last.value_or(0))) {
    pending_acks.push_back(envelope.seq());  // applied before; the ack was lost
    return Status();
  }
  ByteView sender = as_bytes(envelope.sender_account_id());
  ByteView ciphertext = as_bytes(envelope.ciphertext());
  auto warn = [&](const Status& why, const std::string& what) {
    Event event;
    event.kind = Event::Kind::kWarning;
    event.peer_account_hex = hex_id(sender);
    event.peer_username = display_name(sender);
    event.device_id = envelope.sender_device_id();
    event.code = why.code();
    event.body = what + ": " + why.message();
    emit(event);
  };

  Status applied;
  if (!ciphertext.empty() && ciphertext[0] == static_cast<std::uint8_t>(EnvelopeType::kLinkProof)) {
    applied = handle_link_proof(sender, envelope.sender_device_id(), ciphertext.subspan(1));
    if (!applied.ok()) warn(applied, "a device link attempt was refused");
    PARLEY_ASSIGN_OR_RETURN(auto tx, store->begin());
    PARLEY_RETURN_IF_ERROR(store->set_meta(kLastSeq, static_cast<std::int64_t>(envelope.seq())));
    PARLEY_RETURN_IF_ERROR(tx.commit());
    pending_acks.push_back(envelope.seq());
    return Status();
  }

  // Group messages are Sender Key envelopes: no pairwise session to prepare (group_receive.cpp).
  bool group_message =
      !ciphertext.empty() && ciphertext[0] == static_cast<std::uint8_t>(EnvelopeType::kSenderKey);
  Status prepared =
      group_message ? Status() : prepare_decrypt(sender, envelope.sender_device_id(), ciphertext);
  if (!prepared.ok() && (is_storage_error(prepared.code()) || is_network_error(prepared.code()))) {
    return prepared;  // not applied, not acked: it comes again
  }
  PARLEY_ASSIGN_OR_RETURN(auto tx, store->begin());
  if (!prepared.ok()) {
    warn(prepared, "a message was dropped");
  } else {
    auto plaintext = group_message ? decrypt_group(sender, envelope.sender_device_id(), ciphertext)
                                   : decrypt(sender, envelope.sender_device_id(), ciphertext);
    if (!plaintext.ok()) {
      if (is_storage_error(plaintext.status().code())) return plaintext.status();
      warn(plaintext.status(), "a message could not be decrypted");
    } else {
      auto unpadded = crypto::unpad_message(plaintext->view());
      content::Content content;
      if (!unpadded.ok() ||
          !content.ParseFromArray(unpadded->data(), static_cast<int>(unpadded->size()))) {
        warn(Status::error(ErrorCode::kMalformedInput, "the decrypted content does not parse"),
             "a message was dropped");
      } else {
        Status done = apply_content(envelope, content);
        if (!done.ok()) {
          if (is_storage_error(done.code()) || is_network_error(done.code())) {
            return done;  // rolled back with the ratchet state; it comes again
          }
          warn(done, "a message was dropped");
        }
      }
    }
  }
  PARLEY_RETURN_IF_ERROR(store->set_meta(kLastSeq, static_cast<std::int64_t>(envelope.seq())));
  PARLEY_RETURN_IF_ERROR(tx.commit());
  pending_acks.push_back(envelope.seq());
  return Status();
}

Status Client::Impl::apply_content(const wire::Envelope& envelope,
                                   const content::Content& content) {
  ByteView sender = as_bytes(envelope.sender_account_id());
  bool own = same_bytes(sender, account->account_id);
  std::int64_t now = now_ms();
  PARLEY_ASSIGN_OR_RETURN(Contact contact, contact_for_account(sender));
  if (!own && contact.username.empty() && !content.sender_username().empty()) {
    // The name is only the sender's claim: believe it when the server maps it to this account.
    auto claimed = contact_for_username(content.sender_username(), true);
    if (claimed.ok() && same_bytes(claimed->account_id, sender)) contact = std::move(*claimed);
  }
  if (!content.group_id().empty() || content.has_group_update() || content.has_sender_key() ||
      (!envelope.ciphertext().empty() && static_cast<std::uint8_t>(envelope.ciphertext()[0]) ==
                                             static_cast<std::uint8_t>(EnvelopeType::kSenderKey))) {
    return apply_group_content(envelope, content);  // groups: group_receive.cpp
  }
  Event event;
  event.peer_account_hex = hex_id(sender);
  event.peer_username = contact.username;
  event.device_id = envelope.sender_device_id();
  event.client_message_id_hex = hex_id(as_bytes(content.client_message_id()));
  event.sent_ms = content.sent_ms();

  auto conversation_of = [&](ByteView peer) -> Result<Conversation> {
    PARLEY_ASSIGN_OR_RETURN(auto existing, store->conversation(peer));
    return existing.value_or(Conversation{Bytes(peer.begin(), peer.end()), 0, 0, 0});
  };
  auto set_timer = [&](ByteView peer, std::int64_t seconds, bool outgoing) -> Status {
    PARLEY_ASSIGN_OR_RETURN(Conversation conversation, conversation_of(peer));
    conversation.disappearing_seconds = seconds;
    conversation.last_activity_ms = now;
    PARLEY_RETURN_IF_ERROR(store->save_conversation(conversation));
    MessageRecord note;
    note.peer = Bytes(peer.begin(), peer.end());
    note.direction = outgoing ? MessageDirection::kOutgoing : MessageDirection::kIncoming;
    note.sender_device = envelope.sender_device_id();
    note.client_message_id = to_bytes(content.client_message_id());
    note.kind = MessageKind::kSystem;
    note.body = "disappearing messages: " + describe_timer(seconds);
    note.sent_ms = content.sent_ms();
    note.received_ms = now;
    note.status = outgoing ? MessageStatus::kSent : MessageStatus::kRead;
    PARLEY_RETURN_IF_ERROR(store->insert_message(note));
    Event changed = event;
    changed.kind = Event::Kind::kTimerChanged;
    changed.outgoing = outgoing;
    changed.value = seconds;
    if (outgoing)
      changed.peer_username = display_name(peer), changed.peer_account_hex = hex_id(peer);
    emit(changed);
    return Status();
  };
  auto store_text = [&](ByteView peer, const content::Text& text, bool outgoing) -> Status {
    PARLEY_ASSIGN_OR_RETURN(Conversation conversation, conversation_of(peer));
    MessageRecord message;
    message.peer = Bytes(peer.begin(), peer.end());
    message.direction = outgoing ? MessageDirection::kOutgoing : MessageDirection::kIncoming;
    message.sender_device = envelope.sender_device_id();
    message.client_message_id = to_bytes(content.client_message_id());
    message.kind = MessageKind::kText;
    message.body = text.body();
    message.sent_ms = content.sent_ms();
    message.received_ms = now;
    message.status = MessageStatus::kSent;  // stored by the server (ours) / received (theirs)
    if (text.expire_seconds() > 0) message.expires_at_ms = now + text.expire_seconds() * 1000;
    PARLEY_ASSIGN_OR_RETURN(bool inserted, store->insert_message(message));
    if (!inserted) return Status();  // the same message again
    conversation.last_activity_ms = now;
    if (!outgoing) conversation.unread += 1;
    PARLEY_RETURN_IF_ERROR(store->save_conversation(conversation));
    Event arrived = event;
    arrived.kind = Event::Kind::kMessage;
    arrived.outgoing = outgoing;
    arrived.body = text.body();
    if (outgoing)
      arrived.peer_username = display_name(peer), arrived.peer_account_hex = hex_id(peer);
    PARLEY_RETURN_IF_ERROR(record_received_attachment(message, text, arrived));  // attachments
    emit(arrived);
    if (!outgoing) {
      return queue_receipt(peer, content::Receipt::DELIVERED,
                           {to_bytes(content.client_message_id())});
    }
    return Status();
  };

  switch (content.body_case()) {
    case content::Content::kText:
      if (own) return Status();  // our own texts arrive as transcripts
      return store_text(sender, content.text(), false);
    case content::Content::kReceipt: {
      if (own) return Status();
      bool read = content.receipt().type() == content::Receipt::READ;
      for (const auto& id : content.receipt().client_message_ids()) {
        auto advanced =
            store->advance_status(sender, MessageDirection::kOutgoing, as_bytes(id),
                                  read ? MessageStatus::kRead : MessageStatus::kDelivered, now);
        if (!advanced.ok()) {
          if (advanced.status().code() == ErrorCode::kNotFound) continue;  // deleted meanwhile
          return advanced.status();
        }
        if (*advanced) {
          Event receipt = event;
          receipt.kind = read ? Event::Kind::kRead : Event::Kind::kDelivered;
          receipt.client_message_id_hex = hex_id(as_bytes(id));
          receipt.outgoing = true;
          emit(receipt);
        }
      }
      return Status();
    }
    case content::Content::kTyping: {
      if (own) return Status();
      Event typing = event;
      typing.kind = Event::Kind::kTyping;
      typing.value = content.typing().started() ? 1 : 0;
      emit(typing);
      return Status();
    }
    case content::Content::kSent: {
      if (!own) {
        return Status::error(ErrorCode::kProtocolViolation,
                             "a transcript from another account was ignored");
      }
      const auto& sent = content.sent();
      ByteView recipient = as_bytes(sent.recipient_account_id());
      if (recipient.size() != 16) {
        return Status::error(ErrorCode::kMalformedInput, "a transcript without a recipient");
      }
      PARLEY_RETURN_IF_ERROR(contact_for_account(recipient));
      if (sent.has_text()) return store_text(recipient, sent.text(), true);
      if (sent.has_timer()) return set_timer(recipient, sent.timer().seconds(), true);
      return Status();
    }
    case content::Content::kTimer:
      if (own) return Status();
      return set_timer(sender, content.timer().seconds(), false);
    case content::Content::kGroupUpdate:
    case content::Content::kSenderKey:
      return apply_group_content(envelope, content);  // (dispatched above already)
    case content::Content::BODY_NOT_SET:
      break;
  }
  return Status();  // a kind of content this version does not know
}

wire::Request ack_request(const std::vector<std::uint64_t>& seqs, std::size_t& count) {
  count = std::min(seqs.size(), kMaxAcksPerRequest);
  wire::Request request;
  for (std::size_t i = 0; i < count; ++i) request.mutable_ack_messages()->add_seqs(seqs[i]);
  return request;
}

Status Client::Impl::flush_acks() {
  while (!pending_acks.empty()) {
    if (!connection || connection->broken()) {
      pending_acks.clear();  // the server pushes them again on the next sign-in
      return Status::error(ErrorCode::kConnectionClosed, "not connected to the server");
    }
    std::size_t count = 0;
    auto acked = connection->call(ack_request(pending_acks, count));
    if (!acked.ok()) {
      if (connection->broken()) drop_connection();
      return acked.status();
    }
    pending_acks.erase(pending_acks.begin(), pending_acks.begin() + static_cast<long>(count));
  }
  return Status();
}

Status Client::Impl::drain_pushes(std::chrono::milliseconds idle) {
  for (;;) {
    auto push = connection->next_push(idle);
    if (!push.ok()) {
      if (push.status().code() == ErrorCode::kTimeout) return Status();
      drop_connection();
      return push.status();
    }
    PARLEY_RETURN_IF_ERROR(handle_push(*push));
    if (pending_acks.size() >= 64) PARLEY_RETURN_IF_ERROR(flush_acks());
  }
}

}  // namespace parley::client
