// SPDX-License-Identifier: AGPL-3.0-or-later
// The Signal protocol stores over the local database. Records are kept in their own serialized
// form (the crypto layer's storage schema), so this file knows nothing of their insides.
#include <utility>

#include "local_store_impl.h"

namespace parley::client {
namespace {

// A record that no longer parses is damage to the store, not bad input from a peer.
Status corrupt(const Status& status, std::string_view what) {
  return Status::error(ErrorCode::kStorageCorrupt, std::string("stored ") + std::string(what) +
                                                       " does not parse: " + status.message());
}

template <typename Record>
Result<Record> parse_record(const SecretBytes& bytes, std::string_view what) {
  Result<Record> record = Record::parse(bytes.view());
  if (!record.ok()) return corrupt(record.status(), what);
  return record;
}

std::int64_t device(const crypto::ProtocolAddress& address) {
  return std::int64_t{address.device_id};
}

}  // namespace

// Sessions.

Result<std::optional<crypto::SessionRecord>> SqliteSessionStore::load_session(
    const crypto::ProtocolAddress& address) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("SELECT record FROM sessions WHERE name = ?1 AND device_id = ?2"));
  stmt.bind(1, address.name).bind(2, device(address));
  PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::optional<crypto::SessionRecord>();
  PARLEY_ASSIGN_OR_RETURN(crypto::SessionRecord record,
                          parse_record<crypto::SessionRecord>(stmt.secret_column(0), "session"));
  return std::optional<crypto::SessionRecord>(std::move(record));
}

Status SqliteSessionStore::store_session(const crypto::ProtocolAddress& address,
                                         const crypto::SessionRecord& record) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("INSERT OR REPLACE INTO sessions (name, device_id, record) VALUES (?1, ?2, ?3)"));
  stmt.bind(1, address.name).bind(2, device(address)).bind(3, record.serialize());
  return stmt.run();
}

Result<bool> SqliteSessionStore::contains_session(const crypto::ProtocolAddress& address) {
  // A record may hold only archived states (after a reset); that is not a usable session.
  PARLEY_ASSIGN_OR_RETURN(std::optional<crypto::SessionRecord> record, load_session(address));
  return record.has_value() && record->has_current_state();
}

Status SqliteSessionStore::delete_session(const crypto::ProtocolAddress& address) {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare("DELETE FROM sessions WHERE name = ?1 AND device_id = ?2"));
  stmt.bind(1, address.name).bind(2, device(address));
  return stmt.run();
}

Result<std::vector<std::uint32_t>> SqliteSessionStore::device_ids(const std::string& name) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("SELECT device_id FROM sessions WHERE name = ?1 ORDER BY device_id"));
  stmt.bind(1, name);
  std::vector<std::uint32_t> ids;
  for (;;) {
    PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    ids.push_back(static_cast<std::uint32_t>(stmt.int_column(0)));
  }
  return ids;
}

// One-time prekeys.

Result<crypto::PreKeyRecord> SqlitePreKeyStore::load_pre_key(std::uint32_t id) {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare("SELECT record FROM prekeys WHERE id = ?1"));
  stmt.bind(1, std::int64_t{id});
  PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return Status::error(ErrorCode::kNotFound, "no such prekey");
  return parse_record<crypto::PreKeyRecord>(stmt.secret_column(0), "prekey");
}

Status SqlitePreKeyStore::store_pre_key(const crypto::PreKeyRecord& record) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("INSERT OR REPLACE INTO prekeys (id, record) VALUES (?1, ?2)"));
  stmt.bind(1, std::int64_t{record.id}).bind(2, record.serialize());
  return stmt.run();
}

Result<bool> SqlitePreKeyStore::contains_pre_key(std::uint32_t id) {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare("SELECT 1 FROM prekeys WHERE id = ?1"));
  stmt.bind(1, std::int64_t{id});
  return stmt.step();
}

Status SqlitePreKeyStore::remove_pre_key(std::uint32_t id) {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt, db_.prepare("DELETE FROM prekeys WHERE id = ?1"));
  stmt.bind(1, std::int64_t{id});
  return stmt.run();
}

// Signed prekeys.

Result<crypto::SignedPreKeyRecord> SqliteSignedPreKeyStore::load_signed_pre_key(std::uint32_t id) {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare("SELECT record FROM signed_prekeys WHERE id = ?1"));
  stmt.bind(1, std::int64_t{id});
  PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return Status::error(ErrorCode::kNotFound, "no such signed prekey");
  return parse_record<crypto::SignedPreKeyRecord>(stmt.secret_column(0), "signed prekey");
}

Status SqliteSignedPreKeyStore::store_signed_pre_key(const crypto::SignedPreKeyRecord& record) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("INSERT OR REPLACE INTO signed_prekeys (id, record) VALUES (?1, ?2)"));
  stmt.bind(1, std::int64_t{record.id}).bind(2, record.serialize());
  return stmt.run();
}

Result<bool> SqliteSignedPreKeyStore::contains_signed_pre_key(std::uint32_t id) {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare("SELECT 1 FROM signed_prekeys WHERE id = ?1"));
  stmt.bind(1, std::int64_t{id});
  return stmt.step();
}

Status SqliteSignedPreKeyStore::remove_signed_pre_key(std::uint32_t id) {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare("DELETE FROM signed_prekeys WHERE id = ?1"));
  stmt.bind(1, std::int64_t{id});
  return stmt.run();
}

// Identities.

Result<crypto::KeyPair> SqliteIdentityKeyStore::identity_key_pair() {
  PARLEY_ASSIGN_OR_RETURN(std::optional<AccountRecord> account, store_.account());
  if (!account) return Status::error(ErrorCode::kNotInitialized, "no account yet");
  Result<crypto::PrivateKey> key = crypto::PrivateKey::parse(account->device_private_key.view());
  if (!key.ok()) return corrupt(key.status(), "device key");
  return crypto::KeyPair::from_private(std::move(key).value());
}

Result<std::uint32_t> SqliteIdentityKeyStore::local_registration_id() {
  PARLEY_ASSIGN_OR_RETURN(std::optional<AccountRecord> account, store_.account());
  if (!account) return Status::error(ErrorCode::kNotInitialized, "no account yet");
  return account->registration_id;
}

Status SqliteIdentityKeyStore::save_identity(const crypto::ProtocolAddress& address,
                                             const crypto::PublicKey& identity) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("INSERT OR REPLACE INTO identities (name, device_id, identity_key) "
                  "VALUES (?1, ?2, ?3)"));
  stmt.bind(1, address.name).bind(2, device(address)).bind(3, identity.serialize());
  return stmt.run();
}

Result<bool> SqliteIdentityKeyStore::is_trusted_identity(const crypto::ProtocolAddress& address,
                                                         const crypto::PublicKey& identity,
                                                         crypto::Direction /*direction*/) {
  // The client core decides trust from signed device lists before a session is built; here a
  // key is refused only when it differs from the one already saved for this device.
  PARLEY_ASSIGN_OR_RETURN(std::optional<crypto::PublicKey> saved, this->identity(address));
  return !saved.has_value() || *saved == identity;
}

Result<std::optional<crypto::PublicKey>> SqliteIdentityKeyStore::identity(
    const crypto::ProtocolAddress& address) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("SELECT identity_key FROM identities WHERE name = ?1 AND device_id = ?2"));
  stmt.bind(1, address.name).bind(2, device(address));
  PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::optional<crypto::PublicKey>();
  Result<crypto::PublicKey> key = crypto::PublicKey::parse(stmt.blob_column(0));
  if (!key.ok()) return corrupt(key.status(), "identity key");
  return std::optional<crypto::PublicKey>(*key);
}

// Sender keys.

Status SqliteSenderKeyStore::store_sender_key(const crypto::SenderKeyName& name,
                                              const crypto::SenderKeyRecord& record) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("INSERT OR REPLACE INTO sender_keys (group_id, sender_name, sender_device, "
                  "record) VALUES (?1, ?2, ?3, ?4)"));
  stmt.bind(1, name.group_id)
      .bind(2, name.sender.name)
      .bind(3, device(name.sender))
      .bind(4, record.serialize());
  return stmt.run();
}

Result<std::optional<crypto::SenderKeyRecord>> SqliteSenderKeyStore::load_sender_key(
    const crypto::SenderKeyName& name) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("SELECT record FROM sender_keys WHERE group_id = ?1 AND sender_name = ?2 AND "
                  "sender_device = ?3"));
  stmt.bind(1, name.group_id).bind(2, name.sender.name).bind(3, device(name.sender));
  PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::optional<crypto::SenderKeyRecord>();
  PARLEY_ASSIGN_OR_RETURN(crypto::SenderKeyRecord record, parse_record<crypto::SenderKeyRecord>(
                                                              stmt.secret_column(0), "sender key"));
  return std::optional<crypto::SenderKeyRecord>(std::move(record));
}

// Store-wide operations on protocol state.

Result<std::uint32_t> SqliteLocalStore::pre_key_count() {
  PARLEY_ASSIGN_OR_RETURN(std::int64_t count, db_.query_int("SELECT count(*) FROM prekeys"));
  return static_cast<std::uint32_t>(count);
}

Status SqliteLocalStore::delete_sessions_of(std::string_view account_hex) {
  PARLEY_ASSIGN_OR_RETURN(Transaction transaction, begin());
  for (const char* sql :
       {"DELETE FROM sessions WHERE name = ?1", "DELETE FROM identities WHERE name = ?1"}) {
    PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt, db_.prepare(sql));
    stmt.bind(1, account_hex);
    PARLEY_RETURN_IF_ERROR(stmt.run());
  }
  return transaction.commit();
}

}  // namespace parley::client
