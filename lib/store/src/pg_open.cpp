// SPDX-License-Identifier: AGPL-3.0-or-later
// PgStore: opening (connect + migrate) and stats.

#include "pg_impl.h"
#include "pg_migrations.h"

namespace parley::store {
namespace {

const pg::Statement kCountSharedPayloads{"count_shared_payloads",
                                         "SELECT count(*) FROM shared_payloads"};

}  // namespace

PgStore::PgStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PgStore::~PgStore() = default;

std::int64_t PgStore::latest_schema_version() {
  return pg::latest_schema_version();
}

Result<std::unique_ptr<PgStore>> PgStore::open(const PgStoreOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  // The migration runs on a pooled connection, so open() also proves the server is reachable.
  PARLEY_RETURN_IF_ERROR(impl->pool.run([](pg::Session& db) { return pg::migrate(db.work()); }));
  return std::unique_ptr<PgStore>(new PgStore(std::move(impl)));
}

StoreStats PgStore::stats() const {
  StoreStats stats;
  stats.mutations = impl_->mutations.load();
  stats.envelopes_written = impl_->envelopes_written.load();
  stats.duplicate_appends = impl_->duplicate_appends.load();
  stats.shared_payloads_written = impl_->shared_payloads_written.load();
  // Group commit in PgStore terms: transactions that carried several appends (leaders) and the
  // appends that rode in them.
  stats.writes_done_by_leader = impl_->appends.batches();
  stats.writes_done_by_other = impl_->appends.coalesced() - stats.writes_done_by_leader;
  // Live payloads are shared by every node, so they are counted where they are: in the database.
  std::uint64_t live = 0;
  Status status = impl_->pool.run([&](pg::Session& db) {
    live = db.exec(kCountSharedPayloads).at(0)[0].as<std::uint64_t>();
    return Status{};
  });
  if (status.ok()) stats.shared_payloads_live = live;
  return stats;
}

}  // namespace parley::store
