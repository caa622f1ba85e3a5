// SPDX-License-Identifier: AGPL-3.0-or-later
// Contacts, conversations, messages and the outbox in the local database.
#include <algorithm>
#include <limits>
#include <utility>

#include "local_store_impl.h"

namespace parley::client {
namespace {

constexpr const char* kMessageColumns =
    "id, peer, direction, sender_device, client_message_id, kind, body, sent_ms, received_ms, "
    "status, expires_at_ms, sender";

Status damaged(std::string_view what) {
  return Status::error(ErrorCode::kStorageCorrupt,
                       "stored " + std::string(what) + " has an unknown value");
}

Result<MessageRecord> read_message(const sqlite::Statement& stmt) {
  MessageRecord message;
  message.id = stmt.int_column(0);
  message.peer = stmt.blob_column(1);
  std::int64_t direction = stmt.int_column(2);
  if (direction < 0 || direction > static_cast<std::int64_t>(MessageDirection::kOutgoing)) {
    return damaged("message direction");
  }
  message.direction = static_cast<MessageDirection>(direction);
  message.sender_device = static_cast<std::uint32_t>(stmt.int_column(3));
  message.client_message_id = stmt.blob_column(4);
  std::int64_t kind = stmt.int_column(5);
  if (kind < 0 || kind > static_cast<std::int64_t>(MessageKind::kSystem)) {
    return damaged("message kind");
  }
  message.kind = static_cast<MessageKind>(kind);
  message.body = stmt.text_column(6);
  message.sent_ms = stmt.int_column(7);
  message.received_ms = stmt.int_column(8);
  std::int64_t status = stmt.int_column(9);
  if (status < 0 || status > static_cast<std::int64_t>(MessageStatus::kFailed)) {
    return damaged("message status");
  }
  message.status = static_cast<MessageStatus>(status);
  message.expires_at_ms = stmt.int_column(10);
  message.sender = stmt.blob_column(11);
  return message;
}

Result<std::vector<MessageRecord>> read_messages(sqlite::Statement& stmt) {
  std::vector<MessageRecord> messages;
  for (;;) {
    PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    PARLEY_ASSIGN_OR_RETURN(MessageRecord message, read_message(stmt));
    messages.push_back(std::move(message));
  }
  return messages;
}

Contact read_contact(const sqlite::Statement& stmt) {
  Contact contact;
  contact.account_id = stmt.blob_column(0);
  contact.username = stmt.text_column(1);
  contact.identity_key = stmt.blob_column(2);
  contact.verified = stmt.int_column(3) != 0;
  contact.identity_changed = stmt.int_column(4) != 0;
  contact.signed_device_list = stmt.blob_column(5);
  contact.updated_ms = stmt.int_column(6);
  return contact;
}

constexpr const char* kContactColumns =
    "account_id, username, identity_key, verified, identity_changed, signed_device_list, "
    "updated_ms";

Conversation read_conversation(const sqlite::Statement& stmt) {
  Conversation conversation;
  conversation.peer = stmt.blob_column(0);
  conversation.disappearing_seconds = stmt.int_column(1);
  conversation.last_activity_ms = stmt.int_column(2);
  conversation.unread = static_cast<std::uint32_t>(stmt.int_column(3));
  conversation.is_group = stmt.int_column(4) != 0;
  return conversation;
}

constexpr const char* kConversationColumns =
    "peer, disappearing_seconds, last_activity_ms, unread, is_group";

std::int64_t as_int(MessageDirection direction) {
  return static_cast<std::int64_t>(direction);
}

}  // namespace

// Contacts.

Result<std::optional<Contact>> SqliteLocalStore::contact(ByteView account_id) {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare(std::string("SELECT ") + kContactColumns +
                                      " FROM contacts WHERE account_id = ?1"));
  stmt.bind(1, account_id);
  PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::optional<Contact>();
  return std::optional<Contact>(read_contact(stmt));
}

Result<std::optional<Contact>> SqliteLocalStore::contact_by_username(std::string_view username) {
  if (username.empty()) return std::optional<Contact>();  // "no username" matches nobody
  // Two accounts can only share a username over time (one released it); the newest wins.
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare(std::string("SELECT ") + kContactColumns +
                                      " FROM contacts WHERE username = ?1 "
                                      "ORDER BY updated_ms DESC LIMIT 1"));
  stmt.bind(1, username);
  PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::optional<Contact>();
  return std::optional<Contact>(read_contact(stmt));
}

Status SqliteLocalStore::save_contact(const Contact& contact) {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare(std::string("INSERT OR REPLACE INTO contacts (") +
                                      kContactColumns + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  stmt.bind(1, contact.account_id)
      .bind(2, contact.username)
      .bind(3, contact.identity_key)
      .bind(4, std::int64_t{contact.verified})
      .bind(5, std::int64_t{contact.identity_changed})
      .bind(6, contact.signed_device_list)
      .bind(7, contact.updated_ms);
  return stmt.run();
}

Result<std::vector<Contact>> SqliteLocalStore::contacts() {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare(std::string("SELECT ") + kContactColumns +
                                      " FROM contacts ORDER BY username, account_id"));
  std::vector<Contact> contacts;
  for (;;) {
    PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    contacts.push_back(read_contact(stmt));
  }
  return contacts;
}

// Conversations.

Result<std::optional<Conversation>> SqliteLocalStore::conversation(ByteView peer) {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare(std::string("SELECT ") + kConversationColumns +
                                      " FROM conversations WHERE peer = ?1"));
  stmt.bind(1, peer);
  PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::optional<Conversation>();
  return std::optional<Conversation>(read_conversation(stmt));
}

Status SqliteLocalStore::save_conversation(const Conversation& conversation) {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare(std::string("INSERT OR REPLACE INTO conversations (") +
                                      kConversationColumns + ") VALUES (?1, ?2, ?3, ?4, ?5)"));
  stmt.bind(1, conversation.peer)
      .bind(2, conversation.disappearing_seconds)
      .bind(3, conversation.last_activity_ms)
      .bind(4, std::int64_t{conversation.unread})
      .bind(5, std::int64_t{conversation.is_group});
  return stmt.run();
}

Result<std::vector<Conversation>> SqliteLocalStore::conversations() {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare(std::string("SELECT ") + kConversationColumns +
                                      " FROM conversations ORDER BY last_activity_ms DESC, peer"));
  std::vector<Conversation> conversations;
  for (;;) {
    PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    conversations.push_back(read_conversation(stmt));
  }
  return conversations;
}

// Messages.

Result<bool> SqliteLocalStore::insert_message(MessageRecord& message) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("INSERT INTO messages (peer, direction, sender_device, client_message_id, kind, "
                  "body, sent_ms, received_ms, status, expires_at_ms, sender) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
  stmt.bind(1, message.peer)
      .bind(2, as_int(message.direction))
      .bind(3, std::int64_t{message.sender_device})
      .bind(4, message.client_message_id)
      .bind(5, static_cast<std::int64_t>(message.kind))
      .bind(6, message.body)
      .bind(7, message.sent_ms)
      .bind(8, message.received_ms)
      .bind(9, static_cast<std::int64_t>(message.status))
      .bind(10, message.expires_at_ms)
      .bind(11, message.sender);
  Result<bool> row = stmt.step();
  // The UNIQUE (peer, direction, client_message_id) constraint is the duplicate check, so a
  // message delivered twice (a retry, another process) is stored once.
  if (!row.ok() && row.status().code() == ErrorCode::kAlreadyExists) return false;
  PARLEY_RETURN_IF_ERROR(row);
  message.id = db_.last_insert_rowid();
  return true;
}

Result<std::optional<MessageRecord>> SqliteLocalStore::message(ByteView peer,
                                                               MessageDirection direction,
                                                               ByteView client_message_id) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare(std::string("SELECT ") + kMessageColumns +
                  " FROM messages WHERE peer = ?1 AND direction = ?2 AND client_message_id = ?3"));
  stmt.bind(1, peer).bind(2, as_int(direction)).bind(3, client_message_id);
  PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::optional<MessageRecord>();
  PARLEY_ASSIGN_OR_RETURN(MessageRecord message, read_message(stmt));
  return std::optional<MessageRecord>(std::move(message));
}

Result<bool> SqliteLocalStore::advance_status(ByteView peer, MessageDirection direction,
                                              ByteView client_message_id, MessageStatus status,
                                              std::int64_t at_ms) {
  // One statement, so the check and the write cannot interleave with another process. Forward
  // only; kFailed is reachable only from kPending (the server never took the message) and is
  // final. The first status change of a message without a receive time records `at_ms` (for an
  // outgoing message: the server's acknowledgement).
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("UPDATE messages SET status = ?4, "
                  "received_ms = CASE WHEN received_ms = 0 THEN ?5 ELSE received_ms END "
                  "WHERE peer = ?1 AND direction = ?2 AND client_message_id = ?3 "
                  "AND status != 4 AND ((?4 != 4 AND status < ?4) OR (?4 = 4 AND status = 0))"));
  stmt.bind(1, peer)
      .bind(2, as_int(direction))
      .bind(3, client_message_id)
      .bind(4, static_cast<std::int64_t>(status))
      .bind(5, at_ms);
  PARLEY_RETURN_IF_ERROR(stmt.run());
  if (db_.changes() > 0) return true;
  PARLEY_ASSIGN_OR_RETURN(std::optional<MessageRecord> existing,
                          message(peer, direction, client_message_id));
  if (!existing) return Status::error(ErrorCode::kNotFound, "no such message");
  return false;
}

Result<std::vector<MessageRecord>> SqliteLocalStore::history(ByteView peer, std::size_t limit) {
  // Local arrival order (row id), not the senders' clocks, which may be wrong or hostile.
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare(std::string("SELECT * FROM (SELECT ") + kMessageColumns +
                  " FROM messages WHERE peer = ?1 ORDER BY id DESC LIMIT ?2) ORDER BY id"));
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  stmt.bind(1, peer).bind(2, static_cast<std::int64_t>(std::min(limit, kMax)));
  return read_messages(stmt);
}

Result<std::vector<MessageRecord>> SqliteLocalStore::unread(ByteView peer) {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare(std::string("SELECT ") + kMessageColumns +
                                      " FROM messages WHERE peer = ?1 AND direction = ?2 "
                                      "AND status < ?3 ORDER BY id"));
  stmt.bind(1, peer)
      .bind(2, as_int(MessageDirection::kIncoming))
      .bind(3, static_cast<std::int64_t>(MessageStatus::kRead));
  return read_messages(stmt);
}

Result<std::size_t> SqliteLocalStore::delete_expired_messages(std::int64_t now_ms) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("DELETE FROM messages WHERE expires_at_ms > 0 AND expires_at_ms <= ?1"));
  stmt.bind(1, now_ms);
  PARLEY_RETURN_IF_ERROR(stmt.run());
  return static_cast<std::size_t>(db_.changes());
}

Status SqliteLocalStore::set_expiry(ByteView peer, std::int64_t seconds, std::int64_t from_ms) {
  // A timer of 0 (or less) means messages stay: nothing gets a deadline.
  if (seconds <= 0) return Status();
  constexpr std::int64_t kMaxSeconds = std::numeric_limits<std::int64_t>::max() / 1000;
  if (seconds > kMaxSeconds ||
      from_ms > std::numeric_limits<std::int64_t>::max() - seconds * 1000) {
    return Status::error(ErrorCode::kOutOfRange, "disappearing-message timer is too long");
  }
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("UPDATE messages SET expires_at_ms = ?2 WHERE peer = ?1 AND expires_at_ms = 0"));
  stmt.bind(1, peer).bind(2, from_ms + seconds * 1000);
  return stmt.run();
}

// Outbox.

Status SqliteLocalStore::add_outbox(OutboxEntry& entry) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("INSERT INTO outbox (recipient, client_message_id, content, request, attempts, "
                  "next_attempt_ms, created_ms, kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  stmt.bind(1, entry.recipient)
      .bind(2, entry.client_message_id)
      .bind(3, entry.content)
      .bind(4, entry.request)
      .bind(5, std::int64_t{entry.attempts})
      .bind(6, entry.next_attempt_ms)
      .bind(7, entry.created_ms)
      .bind(8, static_cast<std::int64_t>(entry.kind));
  Status status = stmt.run();
  if (status.code() == ErrorCode::kAlreadyExists) {
    return Status::error(ErrorCode::kAlreadyExists, "this message is already in the outbox");
  }
  PARLEY_RETURN_IF_ERROR(status);
  entry.id = db_.last_insert_rowid();
  return Status();
}

Result<std::vector<OutboxEntry>> SqliteLocalStore::outbox() {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("SELECT id, recipient, client_message_id, content, request, attempts, "
                  "next_attempt_ms, created_ms, kind FROM outbox ORDER BY id"));
  std::vector<OutboxEntry> entries;
  for (;;) {
    PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    OutboxEntry entry;
    entry.id = stmt.int_column(0);
    entry.recipient = stmt.blob_column(1);
    entry.client_message_id = stmt.blob_column(2);
    entry.content = stmt.secret_column(3);
    entry.request = stmt.blob_column(4);
    entry.attempts = static_cast<std::uint32_t>(stmt.int_column(5));
    entry.next_attempt_ms = stmt.int_column(6);
    entry.created_ms = stmt.int_column(7);
    std::int64_t kind = stmt.int_column(8);
    if (kind < 0 || kind > static_cast<std::int64_t>(OutboxKind::kSenderKey)) {
      return damaged("outbox kind");
    }
    entry.kind = static_cast<OutboxKind>(kind);
    entries.push_back(std::move(entry));
  }
  return entries;
}

Status SqliteLocalStore::update_outbox(const OutboxEntry& entry) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("UPDATE outbox SET request = ?2, attempts = ?3, next_attempt_ms = ?4 "
                  "WHERE id = ?1"));
  stmt.bind(1, entry.id)
      .bind(2, entry.request)
      .bind(3, std::int64_t{entry.attempts})
      .bind(4, entry.next_attempt_ms);
  PARLEY_RETURN_IF_ERROR(stmt.run());
  if (db_.changes() == 0) return Status::error(ErrorCode::kNotFound, "no such outbox entry");
  return Status();
}

Status SqliteLocalStore::remove_outbox(std::int64_t id) {
  // Removing an entry that is already gone is fine: a retry after a crash may do it twice.
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt, db_.prepare("DELETE FROM outbox WHERE id = ?1"));
  stmt.bind(1, id);
  return stmt.run();
}

}  // namespace parley::client
