// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// A thin RAII layer over the SQLCipher C API for the local store: one connection, prepared
// statements with chained binds, and SQLite result codes mapped to Parley error codes. Private to
// parley_client; <sqlite3.h> must come from SQLCipher's include directory.

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "parley/util/bytes.h"
#include "parley/util/secret_bytes.h"
#include "parley/util/status.h"

namespace parley::client::sqlite {

// kAlreadyExists for constraint violations, kStorageFull, kStorageCorrupt, kWrongDatabaseKey for
// SQLITE_NOTADB, else kStorageIo. `what` says what was being done; SQLite's own message is added.
Status error_status(sqlite3* db, int rc, std::string_view what);

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQL. Values are copied, so temporaries are fine; the first bind
  // error is reported by step()/run().
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, ByteView blob);
  Statement& bind(int index, const SecretBytes& blob) { return bind(index, blob.view()); }

  // true: a row is ready to read; false: done.
  Result<bool> step();
  // Steps a statement that returns no rows.
  Status run();

  std::int64_t int_column(int index) const;
  std::string text_column(int index) const;
  Bytes blob_column(int index) const;
  SecretBytes secret_column(int index) const;
  bool is_null(int index) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  Status bind_status_;
};

class Database {
 public:
  Database() = default;
  Database(Database&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  ~Database();

  // Opens (creating if needed) without keying. The file is created 0600.
  static Result<Database> open(const std::filesystem::path& file);

  Result<Statement> prepare(std::string_view sql);
  // Runs one or more statements that return nothing of interest.
  Status exec(const char* sql);
  // The first column of the first row as an integer (e.g. PRAGMA user_version).
  Result<std::int64_t> query_int(std::string_view sql);
  // The first column of the first row as text; empty when there is no row.
  Result<std::string> query_text(std::string_view sql);

  int changes() const { return sqlite3_changes(db_); }
  std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  sqlite3* handle() const { return db_; }

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

}  // namespace parley::client::sqlite
