// SPDX-License-Identifier: AGPL-3.0-or-later
// Opening, keying and migrating the local database; transactions; the account and meta rows.
#include "parley/client/local_store.h"

#include <array>
#include <limits>
#include <string>
#include <utility>

#include "local_store_impl.h"
#include "local_store_schema.h"

namespace parley::client {
namespace {

constexpr std::size_t kDatabaseKeySize = 32;

// SQLCipher's raw-key form, x'<64 hex digits>': the key is used as is, without SQLCipher's own
// PBKDF2 (the key already comes from Argon2id or from random bytes). Built in wiped memory.
SecretBytes raw_key_literal(const SecretBytes& key) {
  static constexpr std::array<char, 16> kHex = {'0', '1', '2', '3', '4', '5', '6', '7',
                                                '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  SecretBytes literal(3 + 2 * key.size());
  std::size_t at = 0;
  literal[at++] = 'x';
  literal[at++] = '\'';
  for (std::size_t i = 0; i < key.size(); ++i) {
    literal[at++] = static_cast<std::uint8_t>(kHex[key[i] >> 4]);
    literal[at++] = static_cast<std::uint8_t>(kHex[key[i] & 0x0f]);
  }
  literal[at] = '\'';
  return literal;
}

// The cipher settings are SQLCipher 3's defaults (the version Debian 12 ships). SQLCipher 4
// changed them: a build against it must open these files with PRAGMA cipher_compatibility = 3
// (or migrate them with PRAGMA cipher_migrate), or they read as a wrong key.
Status apply_key(sqlite::Database& db, const SecretBytes& key) {
  SecretBytes literal = raw_key_literal(key);
  int rc = sqlite3_key(db.handle(), literal.data(), static_cast<int>(literal.size()));
  if (rc != SQLITE_OK) return sqlite::error_status(db.handle(), rc, "setting the database key");
  // Keying is lazy: the first read of a page decrypts it, so a wrong key shows up here as
  // SQLITE_NOTADB ("file is encrypted or is not a database").
  Result<std::int64_t> tables = db.query_int("SELECT count(*) FROM sqlite_master");
  if (!tables.ok()) {
    if (tables.status().code() == ErrorCode::kWrongDatabaseKey) {
      return Status::error(ErrorCode::kWrongDatabaseKey,
                           "the local database cannot be decrypted with this key (wrong "
                           "passphrase or key file, or not a Parley database)");
    }
    return tables.status();
  }
  return Status();
}

Status configure(sqlite::Database& db) {
  // Several processes (the CLI while a daemon runs) may share the file.
  sqlite3_busy_timeout(db.handle(), 10000);
  PARLEY_ASSIGN_OR_RETURN(std::string mode, db.query_text("PRAGMA journal_mode = WAL"));
  if (mode != "wal") {
    return Status::error(ErrorCode::kStorageIo, "the local database cannot use WAL journaling");
  }
  // A committed outbox row or processed message must survive power loss, not only a crash: the
  // server may already hold (or have deleted) its side.
  PARLEY_RETURN_IF_ERROR(db.exec("PRAGMA synchronous = FULL"));
  PARLEY_RETURN_IF_ERROR(db.exec("PRAGMA foreign_keys = ON"));
  // Deleted messages and keys are overwritten, not just unlinked from the b-tree.
  PARLEY_RETURN_IF_ERROR(db.exec("PRAGMA secure_delete = ON"));
  return Status();
}

Status migrate(sqlite::Database& db, int target_version) {
  // The common case, an up-to-date database, takes no write lock.
  PARLEY_ASSIGN_OR_RETURN(std::int64_t current, db.query_int("PRAGMA user_version"));
  if (current >= target_version) return Status();
  for (const Migration& migration : migrations()) {
    if (migration.version > target_version) break;
    // BEGIN IMMEDIATE takes the write lock first, so two processes opening an old database at the
    // same time migrate it once: the second sees the new user_version inside its transaction.
    PARLEY_RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE"));
    Status status = [&]() -> Status {
      PARLEY_ASSIGN_OR_RETURN(std::int64_t version, db.query_int("PRAGMA user_version"));
      if (version >= migration.version) return Status();
      if (version != migration.version - 1) {
        return Status::error(
            ErrorCode::kStorageCorrupt,
            "local database schema version " + std::to_string(version) + " cannot be migrated");
      }
      PARLEY_RETURN_IF_ERROR(db.exec(migration.sql));
      // PRAGMA takes no bound parameters; the version is our own constant.
      std::string bump = "PRAGMA user_version = " + std::to_string(migration.version);
      PARLEY_RETURN_IF_ERROR(db.exec(bump.c_str()));
      return db.exec("COMMIT");
    }();
    if (!status.ok()) {
      (void)db.exec("ROLLBACK");
      return status.with_context("migrating the local database to version " +
                                 std::to_string(migration.version));
    }
    // A migration already done by someone else leaves the transaction open.
    if (!sqlite3_get_autocommit(db.handle())) PARLEY_RETURN_IF_ERROR(db.exec("COMMIT"));
  }
  return Status();
}

}  // namespace

Result<std::unique_ptr<LocalStore>> LocalStore::open(const std::filesystem::path& file,
                                                     const SecretBytes& key, int target_version) {
  if (key.size() != kDatabaseKeySize) {
    return Status::error(ErrorCode::kInvalidArgument, "the database key must be 32 bytes");
  }
  if (target_version < 1 || target_version > kSchemaVersion) {
    return Status::error(ErrorCode::kInvalidArgument, "no such local database schema version");
  }
  PARLEY_ASSIGN_OR_RETURN(sqlite::Database db, sqlite::Database::open(file));

  // Plain SQLite would accept and ignore the key pragma and write plaintext: refuse to run.
  PARLEY_ASSIGN_OR_RETURN(std::string cipher, db.query_text("PRAGMA cipher_version"));
  if (cipher.empty()) {
    return Status::error(ErrorCode::kInternal,
                         "this build is not built with SQLCipher: the local database would not be "
                         "encrypted");
  }
  PARLEY_RETURN_IF_ERROR(apply_key(db, key));
  PARLEY_RETURN_IF_ERROR(configure(db));

  PARLEY_ASSIGN_OR_RETURN(std::int64_t version, db.query_int("PRAGMA user_version"));
  if (version > kSchemaVersion || version < 0) {
    return Status::error(ErrorCode::kUnsupportedVersion,
                         "the local database has schema version " + std::to_string(version) +
                             ", made by a newer Parley; this one knows up to version " +
                             std::to_string(kSchemaVersion) + ". Upgrade Parley to open it.");
  }
  PARLEY_RETURN_IF_ERROR(migrate(db, target_version));
  return std::unique_ptr<LocalStore>(new SqliteLocalStore(std::move(db)));
}

LocalStore::Transaction::~Transaction() {
  if (store_ != nullptr) store_->rollback_transaction();
}

Status LocalStore::Transaction::commit() {
  if (store_ == nullptr) {
    return Status::error(ErrorCode::kFailedPrecondition, "the transaction is already finished");
  }
  return std::exchange(store_, nullptr)->commit_transaction();
}

Result<LocalStore::Transaction> LocalStore::begin() {
  PARLEY_RETURN_IF_ERROR(begin_transaction());
  return Transaction(this);
}

SqliteLocalStore::SqliteLocalStore(sqlite::Database db) : db_(std::move(db)) {}

Result<int> SqliteLocalStore::schema_version() {
  PARLEY_ASSIGN_OR_RETURN(std::int64_t version, db_.query_int("PRAGMA user_version"));
  return static_cast<int>(version);
}

Status SqliteLocalStore::begin_transaction() {
  if (transaction_depth_ == 0) {
    // IMMEDIATE: take the write lock now rather than fail half-way on a busy database.
    PARLEY_RETURN_IF_ERROR(db_.exec("BEGIN IMMEDIATE"));
  } else {
    std::string savepoint = "SAVEPOINT nested_" + std::to_string(transaction_depth_);
    PARLEY_RETURN_IF_ERROR(db_.exec(savepoint.c_str()));
  }
  ++transaction_depth_;
  return Status();
}

Status SqliteLocalStore::commit_transaction() {
  if (transaction_depth_ == 0) {
    return Status::error(ErrorCode::kInternal, "commit without a transaction");
  }
  --transaction_depth_;
  if (transaction_depth_ > 0) {
    // An inner commit folds its savepoint into the enclosing transaction.
    std::string release = "RELEASE nested_" + std::to_string(transaction_depth_);
    return db_.exec(release.c_str());
  }
  Status status = db_.exec("COMMIT");
  // A failed COMMIT (e.g. disk full) may leave the transaction open: end it so the connection
  // is usable and nothing half-written stays pending.
  if (!status.ok() && !sqlite3_get_autocommit(db_.handle())) (void)db_.exec("ROLLBACK");
  return status;
}

void SqliteLocalStore::rollback_transaction() {
  if (transaction_depth_ == 0) return;
  --transaction_depth_;
  if (transaction_depth_ > 0) {
    // Undo this level's writes only; the enclosing transaction goes on.
    std::string undo = "ROLLBACK TO nested_" + std::to_string(transaction_depth_) +
                       "; RELEASE nested_" + std::to_string(transaction_depth_);
    (void)db_.exec(undo.c_str());
    return;
  }
  // SQLite may already have rolled back on its own (e.g. after SQLITE_FULL).
  if (!sqlite3_get_autocommit(db_.handle())) (void)db_.exec("ROLLBACK");
}

Result<std::optional<AccountRecord>> SqliteLocalStore::account() {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("SELECT account_id, device_id, identity_key, device_private_key, "
                  "device_public_key, registration_id, username, server, server_pin, "
                  "server_ca_file, next_prekey_id, next_signed_prekey_id, created_ms "
                  "FROM account WHERE id = 1"));
  PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::optional<AccountRecord>();
  AccountRecord account;
  account.account_id = stmt.blob_column(0);
  account.device_id = static_cast<std::uint32_t>(stmt.int_column(1));
  account.identity_key = stmt.blob_column(2);
  account.device_private_key = stmt.secret_column(3);
  account.device_public_key = stmt.blob_column(4);
  account.registration_id = static_cast<std::uint32_t>(stmt.int_column(5));
  account.username = stmt.text_column(6);
  account.server = stmt.text_column(7);
  account.server_pin = stmt.text_column(8);
  account.server_ca_file = stmt.text_column(9);
  account.next_prekey_id = static_cast<std::uint32_t>(stmt.int_column(10));
  account.next_signed_prekey_id = static_cast<std::uint32_t>(stmt.int_column(11));
  account.created_ms = stmt.int_column(12);
  return std::optional<AccountRecord>(std::move(account));
}

Status SqliteLocalStore::save_account(const AccountRecord& account) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("INSERT OR REPLACE INTO account (id, account_id, device_id, identity_key, "
                  "device_private_key, device_public_key, registration_id, username, server, "
                  "server_pin, server_ca_file, next_prekey_id, next_signed_prekey_id, "
                  "created_ms) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                  "?13)"));
  stmt.bind(1, account.account_id)
      .bind(2, std::int64_t{account.device_id})
      .bind(3, account.identity_key)
      .bind(4, account.device_private_key)
      .bind(5, account.device_public_key)
      .bind(6, std::int64_t{account.registration_id})
      .bind(7, account.username)
      .bind(8, account.server)
      .bind(9, account.server_pin)
      .bind(10, account.server_ca_file)
      .bind(11, std::int64_t{account.next_prekey_id})
      .bind(12, std::int64_t{account.next_signed_prekey_id})
      .bind(13, account.created_ms);
  return stmt.run();
}

Result<std::optional<std::int64_t>> SqliteLocalStore::meta(std::string_view name) {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare("SELECT value FROM meta WHERE name = ?1"));
  stmt.bind(1, name);
  PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(stmt.int_column(0));
}

Status SqliteLocalStore::set_meta(std::string_view name, std::int64_t value) {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare("INSERT OR REPLACE INTO meta (name, value) VALUES (?1, ?2)"));
  stmt.bind(1, name).bind(2, value);
  return stmt.run();
}

Result<std::optional<std::string>> SqliteLocalStore::setting(std::string_view name) {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare("SELECT value FROM settings WHERE name = ?1"));
  stmt.bind(1, name);
  PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(stmt.text_column(0));
}

Status SqliteLocalStore::set_setting(std::string_view name, std::string_view value) {
  if (value.empty()) {
    PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                            db_.prepare("DELETE FROM settings WHERE name = ?1"));
    stmt.bind(1, name);
    return stmt.run();
  }
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("INSERT OR REPLACE INTO settings (name, value) VALUES (?1, ?2)"));
  stmt.bind(1, name).bind(2, value);
  return stmt.run();
}

}  // namespace parley::client
