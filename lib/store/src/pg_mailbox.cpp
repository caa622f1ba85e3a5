// SPDX-License-Identifier: AGPL-3.0-or-later
// PgStore: reading and deleting mailbox entries, releasing their shared payloads (group fan-out
// by reference), retention. Appending is in pg_append.cpp.

#include "pg_impl.h"

namespace parley::store {
namespace pg {

// Deletes the entries chosen by the WHERE clause and drops one reference per deleted entry from
// its shared payload. The UPDATE locks each payload row, so concurrent releases of one payload
// (many devices acking at once) queue on it and the count stays exact. Returns the number of
// entries deleted and, as an array literal, the payloads whose count reached zero.
#define PARLEY_RELEASE(where)                                                           \
  "WITH gone AS (DELETE FROM messages WHERE " where                                     \
  " RETURNING shared_id),"                                                              \
  " released AS (SELECT shared_id, count(*) AS n FROM gone WHERE shared_id IS NOT NULL" \
  " GROUP BY shared_id),"                                                               \
  " updated AS (UPDATE shared_payloads p SET refs = p.refs - r.n FROM released r"       \
  " WHERE p.id = r.shared_id RETURNING p.id, p.refs)"                                   \
  " SELECT (SELECT count(*) FROM gone), ARRAY(SELECT id FROM updated WHERE refs = 0)::text"

const Statement kDeleteDeviceEntries{"release_device_entries",
                                     PARLEY_RELEASE("account_id = $1 AND device_id = $2")};
const Statement kDeleteAccountEntries{"release_account_entries", PARLEY_RELEASE("account_id = $1")};
namespace {
const Statement kDeleteAcked{
    "release_acked_entries",
    PARLEY_RELEASE("account_id = $1 AND device_id = $2 AND seq = ANY ($3::bigint[])")};
// Retention in chunks: several short transactions instead of one that locks every old row.
const Statement kDeleteOldChunk{
    "release_old_entries",
    PARLEY_RELEASE("(account_id, device_id, seq) IN (SELECT account_id, device_id, seq FROM"
                   " messages WHERE timestamp_ms < $1 LIMIT 1000)")};
const Statement kFreePayloads{
    "free_payloads", "DELETE FROM shared_payloads WHERE id = ANY ($1::bigint[]) AND refs = 0"};
}  // namespace

std::uint64_t free_unreferenced_payloads(Session& db, const std::string& freed_ids) {
  if (freed_ids == "{}") return 0;
  return db.exec(kFreePayloads, freed_ids).affected_rows();
}

}  // namespace pg

namespace {

using pg::bin;
using pg::Session;
using pg::Statement;

const Statement kReadEntries{
    "read_entries",
    "SELECT m.seq, m.sender_account, m.sender_device, m.timestamp_ms,"
    " coalesce(m.payload, p.payload) FROM messages m"
    " LEFT JOIN shared_payloads p ON p.id = m.shared_id"
    " WHERE m.account_id = $1 AND m.device_id = $2 AND m.seq > $3 ORDER BY m.seq LIMIT $4"};
const Statement kCountEntries{
    "count_entries", "SELECT count(*) FROM messages WHERE account_id = $1 AND device_id = $2"};
const Statement kPurgeDedupe{"purge_dedupe", "DELETE FROM dedupe WHERE created_ms < $1"};

}  // namespace

Result<std::vector<StoredEnvelope>> PgStore::read_messages(const DeviceAddress& address,
                                                           std::uint64_t after_seq,
                                                           std::uint32_t max_count) const {
  std::vector<StoredEnvelope> out;
  PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) {
    out.clear();
    for (const pqxx::row& row :
         db.exec(kReadEntries, bin(address.account_id), std::int64_t{address.device_id},
                 pg::to_bigint(after_seq), std::int64_t{max_count})) {
      StoredEnvelope envelope;
      envelope.seq = row[0].as<std::uint64_t>();
      if (!row[1].is_null()) {
        envelope.sender = DeviceAddress{pg::account_id_of(row[1]), row[2].as<DeviceId>()};
      }
      envelope.timestamp_ms = row[3].as<std::int64_t>();
      envelope.payload = pg::bytes_of(row[4]);
      out.push_back(std::move(envelope));
    }
    return Status{};
  }));
  return out;
}

Result<std::uint64_t> PgStore::delete_messages(const DeviceAddress& address,
                                               std::span<const std::uint64_t> seqs) {
  pg::ArrayLiteral listed;
  for (std::uint64_t seq : seqs) listed.add_int(pg::to_bigint(seq));
  std::uint64_t deleted = 0;
  PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) {
    deleted = pg::delete_entries(db, pg::kDeleteAcked, bin(address.account_id),
                                 std::int64_t{address.device_id}, listed.str());
    return Status{};
  }));
  if (deleted > 0) ++impl_->mutations;
  return deleted;
}

Result<std::uint64_t> PgStore::count_messages(const DeviceAddress& address) const {
  std::uint64_t count = 0;
  PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) {
    count = db.exec(kCountEntries, bin(address.account_id), std::int64_t{address.device_id})
                .at(0)[0]
                .as<std::uint64_t>();
    return Status{};
  }));
  return count;
}

Result<std::uint64_t> PgStore::purge_messages_older_than(std::int64_t cutoff_ms) {
  std::uint64_t purged = 0;
  while (true) {
    std::uint64_t chunk = 0;
    PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) {
      chunk = pg::delete_entries(db, pg::kDeleteOldChunk, cutoff_ms);
      return Status{};
    }));
    if (chunk == 0) break;
    purged += chunk;
    ++impl_->mutations;
  }
  return purged;
}

Result<std::uint64_t> PgStore::purge_dedupe_keys_older_than(std::int64_t cutoff_ms) {
  std::uint64_t purged = 0;
  PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) {
    purged = db.exec(kPurgeDedupe, cutoff_ms).affected_rows();
    return Status{};
  }));
  if (purged > 0) ++impl_->mutations;
  return purged;
}

}  // namespace parley::store
