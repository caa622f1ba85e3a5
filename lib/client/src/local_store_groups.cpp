// SPDX-License-Identifier: AGPL-3.0-or-later
// Groups in the local database: the accepted admin-signed state of each group, our own sending
// key per group with the devices that hold it, and the keys other devices sent us (docs/client.md
// "Groups"). The Signal sender-key records themselves live in sender_keys, named by distribution
// id (see local_store.h).
#include <utility>

#include "local_store_impl.h"
#include "parley/util/encoding.h"

namespace parley::client {
namespace {

constexpr const char* kGroupColumns =
    "group_id, version, state, previous_state, name, is_member, authored_parent, authored, "
    "updated_ms";

GroupRecord read_group(const sqlite::Statement& stmt) {
  GroupRecord group;
  group.group_id = stmt.blob_column(0);
  group.version = static_cast<std::uint64_t>(stmt.int_column(1));
  group.state = stmt.blob_column(2);
  group.previous_state = stmt.blob_column(3);
  group.name = stmt.text_column(4);
  group.is_member = stmt.int_column(5) != 0;
  group.authored_parent = stmt.blob_column(6);
  group.authored = stmt.blob_column(7);
  group.updated_ms = stmt.int_column(8);
  return group;
}

constexpr const char* kReceivedKeyColumns =
    "sender_account, sender_device, distribution_id, group_id, received_ms";

ReceivedSenderKey read_received_key(const sqlite::Statement& stmt) {
  ReceivedSenderKey key;
  key.sender_account = stmt.blob_column(0);
  key.sender_device = static_cast<std::uint32_t>(stmt.int_column(1));
  key.distribution_id = stmt.blob_column(2);
  key.group_id = stmt.blob_column(3);
  key.received_ms = stmt.int_column(4);
  return key;
}

}  // namespace

Result<std::optional<GroupRecord>> SqliteLocalStore::group(ByteView group_id) {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare(std::string("SELECT ") + kGroupColumns +
                                      " FROM chat_groups WHERE group_id = ?1"));
  stmt.bind(1, group_id);
  PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::optional<GroupRecord>();
  return std::optional<GroupRecord>(read_group(stmt));
}

Result<std::vector<GroupRecord>> SqliteLocalStore::groups() {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare(std::string("SELECT ") + kGroupColumns +
                                      " FROM chat_groups ORDER BY name, group_id"));
  std::vector<GroupRecord> groups;
  for (;;) {
    PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    groups.push_back(read_group(stmt));
  }
  return groups;
}

Status SqliteLocalStore::save_group(const GroupRecord& group) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare(std::string("INSERT OR REPLACE INTO chat_groups (") + kGroupColumns +
                  ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  stmt.bind(1, group.group_id)
      .bind(2, static_cast<std::int64_t>(group.version))
      .bind(3, group.state)
      .bind(4, group.previous_state)
      .bind(5, group.name)
      .bind(6, std::int64_t{group.is_member})
      .bind(7, group.authored_parent)
      .bind(8, group.authored)
      .bind(9, group.updated_ms);
  return stmt.run();
}

Result<std::optional<OwnSenderKey>> SqliteLocalStore::own_sender_key(ByteView group_id) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("SELECT group_id, distribution_id, created_ms, messages FROM group_own_keys "
                  "WHERE group_id = ?1"));
  stmt.bind(1, group_id);
  PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::optional<OwnSenderKey>();
  OwnSenderKey key;
  key.group_id = stmt.blob_column(0);
  key.distribution_id = stmt.blob_column(1);
  key.created_ms = stmt.int_column(2);
  key.messages = static_cast<std::uint32_t>(stmt.int_column(3));
  return std::optional<OwnSenderKey>(std::move(key));
}

Status SqliteLocalStore::save_own_sender_key(const OwnSenderKey& key) {
  PARLEY_ASSIGN_OR_RETURN(Transaction transaction, begin());
  PARLEY_ASSIGN_OR_RETURN(std::optional<OwnSenderKey> existing, own_sender_key(key.group_id));
  if (existing && existing->distribution_id != key.distribution_id) {
    // Holders of the old key do not hold the new one.
    PARLEY_ASSIGN_OR_RETURN(sqlite::Statement clear,
                            db_.prepare("DELETE FROM group_key_recipients WHERE group_id = ?1"));
    clear.bind(1, key.group_id);
    PARLEY_RETURN_IF_ERROR(clear.run());
  }
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("INSERT OR REPLACE INTO group_own_keys (group_id, distribution_id, created_ms, "
                  "messages) VALUES (?1, ?2, ?3, ?4)"));
  stmt.bind(1, key.group_id)
      .bind(2, key.distribution_id)
      .bind(3, key.created_ms)
      .bind(4, std::int64_t{key.messages});
  PARLEY_RETURN_IF_ERROR(stmt.run());
  return transaction.commit();
}

Status SqliteLocalStore::delete_own_sender_key(ByteView group_id) {
  PARLEY_ASSIGN_OR_RETURN(Transaction transaction, begin());
  for (const char* sql : {"DELETE FROM group_own_keys WHERE group_id = ?1",
                          "DELETE FROM group_key_recipients WHERE group_id = ?1"}) {
    PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt, db_.prepare(sql));
    stmt.bind(1, group_id);
    PARLEY_RETURN_IF_ERROR(stmt.run());
  }
  return transaction.commit();
}

Result<std::vector<KeyRecipient>> SqliteLocalStore::key_recipients(ByteView group_id) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("SELECT account_id, device_id, device_key FROM group_key_recipients "
                  "WHERE group_id = ?1 ORDER BY account_id, device_id"));
  stmt.bind(1, group_id);
  std::vector<KeyRecipient> recipients;
  for (;;) {
    PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    recipients.push_back(
        {stmt.blob_column(0), static_cast<std::uint32_t>(stmt.int_column(1)), stmt.blob_column(2)});
  }
  return recipients;
}

Status SqliteLocalStore::add_key_recipient(ByteView group_id, const KeyRecipient& recipient) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("INSERT OR REPLACE INTO group_key_recipients (group_id, account_id, device_id, "
                  "device_key) VALUES (?1, ?2, ?3, ?4)"));
  stmt.bind(1, group_id)
      .bind(2, recipient.account_id)
      .bind(3, std::int64_t{recipient.device_id})
      .bind(4, recipient.device_key);
  return stmt.run();
}

Status SqliteLocalStore::save_received_sender_key(const ReceivedSenderKey& key) {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare(std::string("INSERT OR REPLACE INTO group_received_keys (") +
                                      kReceivedKeyColumns + ") VALUES (?1, ?2, ?3, ?4, ?5)"));
  stmt.bind(1, key.sender_account)
      .bind(2, std::int64_t{key.sender_device})
      .bind(3, key.distribution_id)
      .bind(4, key.group_id)
      .bind(5, key.received_ms);
  return stmt.run();
}

Result<std::optional<ReceivedSenderKey>> SqliteLocalStore::received_sender_key(
    ByteView sender_account, std::uint32_t sender_device, ByteView distribution_id) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare(std::string("SELECT ") + kReceivedKeyColumns +
                  " FROM group_received_keys WHERE sender_account = ?1 AND sender_device = ?2 "
                  "AND distribution_id = ?3"));
  stmt.bind(1, sender_account).bind(2, std::int64_t{sender_device}).bind(3, distribution_id);
  PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::optional<ReceivedSenderKey>();
  return std::optional<ReceivedSenderKey>(read_received_key(stmt));
}

Result<std::vector<ReceivedSenderKey>> SqliteLocalStore::received_sender_keys(ByteView group_id) {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare(std::string("SELECT ") + kReceivedKeyColumns +
                                      " FROM group_received_keys WHERE group_id = ?1 "
                                      "ORDER BY sender_account, sender_device, received_ms"));
  stmt.bind(1, group_id);
  std::vector<ReceivedSenderKey> keys;
  for (;;) {
    PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    keys.push_back(read_received_key(stmt));
  }
  return keys;
}

Status SqliteLocalStore::delete_received_sender_key(const ReceivedSenderKey& key) {
  PARLEY_ASSIGN_OR_RETURN(Transaction transaction, begin());
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("DELETE FROM group_received_keys WHERE sender_account = ?1 AND "
                  "sender_device = ?2 AND distribution_id = ?3"));
  stmt.bind(1, key.sender_account)
      .bind(2, std::int64_t{key.sender_device})
      .bind(3, key.distribution_id);
  PARLEY_RETURN_IF_ERROR(stmt.run());
  PARLEY_RETURN_IF_ERROR(delete_sender_key_record(
      {hex_encode(key.distribution_id), {hex_encode(key.sender_account), key.sender_device}}));
  return transaction.commit();
}

Status SqliteLocalStore::delete_sender_key_record(const crypto::SenderKeyName& name) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("DELETE FROM sender_keys WHERE group_id = ?1 AND sender_name = ?2 AND "
                  "sender_device = ?3"));
  stmt.bind(1, name.group_id)
      .bind(2, name.sender.name)
      .bind(3, std::int64_t{name.sender.device_id});
  return stmt.run();
}

}  // namespace parley::client
