// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// PgStore's insides, shared by its files: pg_open (open, stats), pg_accounts (accounts and
// devices), pg_prekeys (key directory), pg_mailbox (mailboxes and shared payloads).

#include <atomic>
#include <cstdint>

#include "parley/store/pg_store.h"
#include "pg_append.h"
#include "pg_pool.h"
#include "pg_sql.h"

namespace parley::store {

struct PgStore::Impl {
  explicit Impl(const PgStoreOptions& options)
      : pool(options.conninfo, options.max_connections, options.connect_timeout_s),
        appends(pool, options.max_append_batch, options.max_connections) {}

  pg::Pool pool;
  pg::AppendBatcher appends;

  // Process-local counters for StoreStats (each node counts what it did).
  std::atomic<std::uint64_t> mutations{0};
  std::atomic<std::uint64_t> envelopes_written{0};
  std::atomic<std::uint64_t> duplicate_appends{0};
  std::atomic<std::uint64_t> shared_payloads_written{0};
};

namespace pg {

// Frees the shared payloads listed in `freed_ids` (an array literal) whose count is zero.
std::uint64_t free_unreferenced_payloads(Session& db, const std::string& freed_ids);

// Deletes the mailbox entries chosen by `statement` (one of the PARLEY_RELEASE statements of
// pg_mailbox.cpp) and frees every shared payload whose last reference went with them, in the
// caller's transaction. Returns how many entries were deleted.
template <typename... Args>
std::uint64_t delete_entries(Session& db, const Statement& statement, Args&&... args) {
  pqxx::row row = db.exec(statement, std::forward<Args>(args)...).at(0);
  free_unreferenced_payloads(db, row[1].as<std::string>());
  return row[0].as<std::uint64_t>();
}

// The entry-deleting statements (each returns: deleted count, ids of payloads now unreferenced).
extern const Statement kDeleteDeviceEntries;   // $1 account, $2 device
extern const Statement kDeleteAccountEntries;  // $1 account

}  // namespace pg
}  // namespace parley::store
