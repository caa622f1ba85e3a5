// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The SQLCipher implementation of LocalStore. Split by feature: local_store.cpp (open, migrate,
// transactions, account, meta), sqlite_protocol_stores.cpp (the five Signal stores) and
// local_store_messages.cpp (contacts, conversations, messages, outbox), local_store_groups.cpp
// (group states and sender-key bookkeeping).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "parley/client/local_store.h"
#include "sqlite.h"

namespace parley::client {

class SqliteLocalStore;

class SqliteSessionStore final : public crypto::SessionStore {
 public:
  explicit SqliteSessionStore(sqlite::Database& db) : db_(db) {}
  Result<std::optional<crypto::SessionRecord>> load_session(
      const crypto::ProtocolAddress& address) override;
  Status store_session(const crypto::ProtocolAddress& address,
                       const crypto::SessionRecord& record) override;
  Result<bool> contains_session(const crypto::ProtocolAddress& address) override;
  Status delete_session(const crypto::ProtocolAddress& address) override;
  Result<std::vector<std::uint32_t>> device_ids(const std::string& name) override;

 private:
  sqlite::Database& db_;
};

class SqlitePreKeyStore final : public crypto::PreKeyStore {
 public:
  explicit SqlitePreKeyStore(sqlite::Database& db) : db_(db) {}
  Result<crypto::PreKeyRecord> load_pre_key(std::uint32_t id) override;
  Status store_pre_key(const crypto::PreKeyRecord& record) override;
  Result<bool> contains_pre_key(std::uint32_t id) override;
  Status remove_pre_key(std::uint32_t id) override;

 private:
  sqlite::Database& db_;
};

class SqliteSignedPreKeyStore final : public crypto::SignedPreKeyStore {
 public:
  explicit SqliteSignedPreKeyStore(sqlite::Database& db) : db_(db) {}
  Result<crypto::SignedPreKeyRecord> load_signed_pre_key(std::uint32_t id) override;
  Status store_signed_pre_key(const crypto::SignedPreKeyRecord& record) override;
  Result<bool> contains_signed_pre_key(std::uint32_t id) override;
  Status remove_signed_pre_key(std::uint32_t id) override;

 private:
  sqlite::Database& db_;
};

// This device's key pair and registration id come from the account row.
class SqliteIdentityKeyStore final : public crypto::IdentityKeyStore {
 public:
  SqliteIdentityKeyStore(sqlite::Database& db, LocalStore& store) : db_(db), store_(store) {}
  Result<crypto::KeyPair> identity_key_pair() override;
  Result<std::uint32_t> local_registration_id() override;
  Status save_identity(const crypto::ProtocolAddress& address,
                       const crypto::PublicKey& identity) override;
  Result<bool> is_trusted_identity(const crypto::ProtocolAddress& address,
                                   const crypto::PublicKey& identity,
                                   crypto::Direction direction) override;
  Result<std::optional<crypto::PublicKey>> identity(
      const crypto::ProtocolAddress& address) override;

 private:
  sqlite::Database& db_;
  LocalStore& store_;
};

class SqliteSenderKeyStore final : public crypto::SenderKeyStore {
 public:
  explicit SqliteSenderKeyStore(sqlite::Database& db) : db_(db) {}
  Status store_sender_key(const crypto::SenderKeyName& name,
                          const crypto::SenderKeyRecord& record) override;
  Result<std::optional<crypto::SenderKeyRecord>> load_sender_key(
      const crypto::SenderKeyName& name) override;

 private:
  sqlite::Database& db_;
};

class SqliteLocalStore final : public LocalStore {
 public:
  explicit SqliteLocalStore(sqlite::Database db);

  Result<int> schema_version() override;

  Result<std::optional<AccountRecord>> account() override;
  Status save_account(const AccountRecord& account) override;
  Result<std::optional<std::int64_t>> meta(std::string_view name) override;
  Status set_meta(std::string_view name, std::int64_t value) override;
  Result<std::optional<std::string>> setting(std::string_view name) override;
  Status set_setting(std::string_view name, std::string_view value) override;

  crypto::SessionStore& sessions() override { return sessions_; }
  crypto::PreKeyStore& pre_keys() override { return pre_keys_; }
  crypto::SignedPreKeyStore& signed_pre_keys() override { return signed_pre_keys_; }
  crypto::IdentityKeyStore& identities() override { return identities_; }
  crypto::SenderKeyStore& sender_keys() override { return sender_keys_; }
  Result<std::uint32_t> pre_key_count() override;
  Status delete_sessions_of(std::string_view account_hex) override;

  Result<std::optional<Contact>> contact(ByteView account_id) override;
  Result<std::optional<Contact>> contact_by_username(std::string_view username) override;
  Status save_contact(const Contact& contact) override;
  Result<std::vector<Contact>> contacts() override;

  Result<std::optional<Conversation>> conversation(ByteView peer) override;
  Status save_conversation(const Conversation& conversation) override;
  Result<std::vector<Conversation>> conversations() override;

  Result<bool> insert_message(MessageRecord& message) override;
  Result<std::optional<MessageRecord>> message(ByteView peer, MessageDirection direction,
                                               ByteView client_message_id) override;
  Result<bool> advance_status(ByteView peer, MessageDirection direction, ByteView client_message_id,
                              MessageStatus status, std::int64_t at_ms) override;
  Result<std::vector<MessageRecord>> history(ByteView peer, std::size_t limit) override;
  Result<std::vector<MessageRecord>> unread(ByteView peer) override;
  Result<std::size_t> delete_expired_messages(std::int64_t now_ms) override;
  Status set_expiry(ByteView peer, std::int64_t seconds, std::int64_t from_ms) override;

  Status add_outbox(OutboxEntry& entry) override;
  Result<std::vector<OutboxEntry>> outbox() override;
  Status update_outbox(const OutboxEntry& entry) override;
  Status remove_outbox(std::int64_t id) override;

  // Groups (local_store_groups.cpp).
  Result<std::optional<GroupRecord>> group(ByteView group_id) override;
  Result<std::vector<GroupRecord>> groups() override;
  Status save_group(const GroupRecord& group) override;
  Result<std::optional<OwnSenderKey>> own_sender_key(ByteView group_id) override;
  Status save_own_sender_key(const OwnSenderKey& key) override;
  Status delete_own_sender_key(ByteView group_id) override;
  Result<std::vector<KeyRecipient>> key_recipients(ByteView group_id) override;
  Status add_key_recipient(ByteView group_id, const KeyRecipient& recipient) override;
  Status save_received_sender_key(const ReceivedSenderKey& key) override;
  Result<std::optional<ReceivedSenderKey>> received_sender_key(ByteView sender_account,
                                                               std::uint32_t sender_device,
                                                               ByteView distribution_id) override;
  Result<std::vector<ReceivedSenderKey>> received_sender_keys(ByteView group_id) override;
  Status delete_received_sender_key(const ReceivedSenderKey& key) override;
  Status delete_sender_key_record(const crypto::SenderKeyName& name) override;

  // Attachments (local_store_attachments.cpp).
  Status add_attachment(AttachmentRecord& record) override;
  Result<std::optional<AttachmentRecord>> attachment(ByteView peer, MessageDirection direction,
                                                     ByteView client_message_id) override;
  Status update_attachment(const AttachmentRecord& record) override;
  Result<std::vector<AttachmentRecord>> pending_downloads() override;
  Status add_upload(AttachmentUpload& upload) override;
  Result<std::vector<AttachmentUpload>> uploads() override;
  Status update_upload(const AttachmentUpload& upload) override;
  Status remove_upload(std::int64_t id) override;

 protected:
  Status begin_transaction() override;
  Status commit_transaction() override;
  void rollback_transaction() override;

 private:
  sqlite::Database db_;
  int transaction_depth_ = 0;  // 1: BEGIN IMMEDIATE; deeper levels are savepoints
  SqliteSessionStore sessions_{db_};
  SqlitePreKeyStore pre_keys_{db_};
  SqliteSignedPreKeyStore signed_pre_keys_{db_};
  SqliteIdentityKeyStore identities_{db_, *this};
  SqliteSenderKeyStore sender_keys_{db_};
};

}  // namespace parley::client
