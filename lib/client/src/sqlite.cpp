// SPDX-License-Identifier: AGPL-3.0-or-later
#include "sqlite.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <limits>
#include <system_error>
#include <utility>

namespace parley::client::sqlite {
namespace {

// sqlite3_bind_blob() with a null pointer binds NULL, not an empty blob; NOT NULL columns need
// a real (empty) value.
constexpr std::uint8_t kEmpty = 0;

ErrorCode code_for(int rc) {
  // Only a duplicate key means "already exists"; NOT NULL or CHECK failures are our bugs.
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return ErrorCode::kAlreadyExists;
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return ErrorCode::kInternal;
    case SQLITE_FULL:
      return ErrorCode::kStorageFull;
    case SQLITE_CORRUPT:
      return ErrorCode::kStorageCorrupt;
    case SQLITE_NOTADB:
      return ErrorCode::kWrongDatabaseKey;
    case SQLITE_TOOBIG:
      return ErrorCode::kTooLarge;
    case SQLITE_RANGE:
    case SQLITE_MISUSE:
    case SQLITE_ERROR:  // SQL errors: ours, since every statement is a constant
      return ErrorCode::kInternal;
    default:
      return ErrorCode::kStorageIo;
  }
}

}  // namespace

Status error_status(sqlite3* db, int rc, std::string_view what) {
  std::string message(what);
  message += ": ";
  // The database's message describes the last failing call on this connection; fall back to the
  // generic text for the code when there is no connection.
  message += db != nullptr && sqlite3_errcode(db) == rc ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return Status::error(code_for(rc), std::move(message));
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      bind_status_(std::move(other.bind_status_)) {}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_status_.ok()) bind_status_ = error_status(db_, rc, "binding");
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  const char* data = text.empty() ? reinterpret_cast<const char*>(&kEmpty) : text.data();
  int rc = SQLITE_TOOBIG;
  if (text.size() <= static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    rc = sqlite3_bind_text(stmt_, index, data, static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  if (rc != SQLITE_OK && bind_status_.ok()) bind_status_ = error_status(db_, rc, "binding");
  return *this;
}

Statement& Statement::bind(int index, ByteView blob) {
  const void* data = blob.empty() ? &kEmpty : static_cast<const void*>(blob.data());
  int rc = SQLITE_TOOBIG;
  if (blob.size() <= static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    rc = sqlite3_bind_blob(stmt_, index, data, static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  }
  if (rc != SQLITE_OK && bind_status_.ok()) bind_status_ = error_status(db_, rc, "binding");
  return *this;
}

Result<bool> Statement::step() {
  PARLEY_RETURN_IF_ERROR(bind_status_);
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // sqlite3_reset returns the specific code of the failed step.
  return error_status(db_, sqlite3_reset(stmt_), "local database");
}

Status Statement::run() {
  PARLEY_ASSIGN_OR_RETURN(bool row, step());
  if (row) return Status::error(ErrorCode::kInternal, "statement returned rows");
  return Status();
}

std::int64_t Statement::int_column(int index) const {
  return sqlite3_column_int64(stmt_, index);
}

std::string Statement::text_column(int index) const {
  const unsigned char* text = sqlite3_column_text(stmt_, index);
  int size = sqlite3_column_bytes(stmt_, index);
  if (text == nullptr || size <= 0) return std::string();
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

Bytes Statement::blob_column(int index) const {
  const void* blob = sqlite3_column_blob(stmt_, index);
  int size = sqlite3_column_bytes(stmt_, index);
  if (blob == nullptr || size <= 0) return Bytes();
  const auto* begin = static_cast<const std::uint8_t*>(blob);
  return Bytes(begin, begin + size);
}

SecretBytes Statement::secret_column(int index) const {
  const void* blob = sqlite3_column_blob(stmt_, index);
  int size = sqlite3_column_bytes(stmt_, index);
  if (blob == nullptr || size <= 0) return SecretBytes();
  return SecretBytes(
      ByteView(static_cast<const std::uint8_t*>(blob), static_cast<std::size_t>(size)));
}

bool Statement::is_null(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

Database::~Database() {
  // Every Statement is finalized before its Database goes away (they are locals), so close_v2
  // closes at once.
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Result<Database> Database::open(const std::filesystem::path& file) {
  // SQLite would create the file with 0644 (less the umask); the WAL and shared-memory files copy
  // the database file's mode, so creating it 0600 here keeps all three private.
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Status::error(ErrorCode::kStorageIo, "cannot open " + file.string() + ": " +
                                                    std::generic_category().message(errno));
  }
  ::close(fd);

  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  Database database(db);  // closes `db` on every path, even when open failed
  if (rc != SQLITE_OK) return error_status(db, rc, "opening " + file.string());
  sqlite3_extended_result_codes(db, 1);
  return database;
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    if (stmt != nullptr) sqlite3_finalize(stmt);
    return error_status(db_, rc, "preparing a statement");
  }
  return Statement(db_, stmt);
}

Status Database::exec(const char* sql) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return error_status(db_, rc, "local database");
  return Status();
}

Result<std::int64_t> Database::query_int(std::string_view sql) {
  PARLEY_ASSIGN_OR_RETURN(Statement stmt, prepare(sql));
  PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return Status::error(ErrorCode::kInternal, "query returned no row");
  return stmt.int_column(0);
}

Result<std::string> Database::query_text(std::string_view sql) {
  PARLEY_ASSIGN_OR_RETURN(Statement stmt, prepare(sql));
  PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::string();
  return stmt.text_column(0);
}

}  // namespace parley::client::sqlite
