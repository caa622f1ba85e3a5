// SPDX-License-Identifier: AGPL-3.0-or-later
#include "pg_migrations.h"

#include <algorithm>
#include <string>

#include "pg_migrations_sql.h"

namespace parley::store::pg {
namespace {

// Any fixed number shared by every parleyd: pg_advisory_xact_lock's key for "migrating".
constexpr std::int64_t kMigrationLockKey = 0x7061726c6579'01;  // "parley" 01

}  // namespace

std::int64_t latest_schema_version() {
  std::int64_t latest = 0;
  for (const Migration& migration : kMigrations) latest = std::max(latest, migration.version);
  return latest;
}

Status migrate(pqxx::work& work) {
  work.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLockKey);
  work.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version bigint PRIMARY KEY,"
      " applied_at timestamptz NOT NULL DEFAULT now())");
  auto current = work.exec1("SELECT coalesce(max(version), 0) FROM schema_migrations");
  const std::int64_t version = current[0].as<std::int64_t>();
  if (version > latest_schema_version()) {
    return Status::error(ErrorCode::kFailedPrecondition,
                         "database schema version " + std::to_string(version) +
                             " is newer than this parleyd supports (" +
                             std::to_string(latest_schema_version()) + "); upgrade parleyd");
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version <= version) continue;
    work.exec(migration.sql);
    work.exec_params("INSERT INTO schema_migrations (version) VALUES ($1)", migration.version);
  }
  return {};
}

}  // namespace parley::store::pg
