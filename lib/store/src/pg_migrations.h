// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Schema migrations: the numbered SQL files of lib/store/pg/migrations, compiled in (see the
// generated pg_migrations_sql.h), applied in order and recorded in schema_migrations.

#include <cstdint>
#include <pqxx/transaction>

#include "parley/util/status.h"

namespace parley::store::pg {

struct Migration {
  std::int64_t version;
  const char* sql;
};

// The newest version compiled in.
std::int64_t latest_schema_version();

// Inside the caller's transaction (committed by the caller), under an advisory lock so that nodes
// starting together migrate once: creates schema_migrations if needed, refuses a database newer
// than this binary (kFailedPrecondition), applies every missing migration and records it.
// Throws libpqxx exceptions; Pool::run maps them.
Status migrate(pqxx::work& work);

}  // namespace parley::store::pg
