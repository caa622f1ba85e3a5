// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/store/pg_blob_store.h"

#include <algorithm>
#include <string>

#include "pg_migrations.h"
#include "pg_pool.h"
#include "pg_sql.h"
#include "validation.h"

namespace parley::store {
namespace {

using pg::bin;
using pg::Session;
using pg::Statement;

#define PARLEY_BLOB_COLUMNS "owner, size, received, created_ms, expires_ms"

const Statement kBlob{"blob", "SELECT " PARLEY_BLOB_COLUMNS " FROM blobs WHERE id = $1"};
const Statement kLockBlob{"lock_blob",
                          "SELECT " PARLEY_BLOB_COLUMNS " FROM blobs WHERE id = $1 FOR UPDATE"};
const Statement kTombstone{"blob_tombstone", "SELECT 1 FROM blob_tombstones WHERE id = $1"};
// Creates of one owner queue on this lock, so the quota is checked against every committed blob.
const Statement kLockOwner{"lock_blob_owner", "SELECT pg_advisory_xact_lock($1)"};
const Statement kOwnerUsage{
    "blob_owner_usage",
    "SELECT coalesce(sum(size), 0), count(*) FILTER (WHERE received < size) FROM blobs"
    " WHERE owner = $1 AND expires_ms > $2"};
const Statement kInsertBlob{"insert_blob", "INSERT INTO blobs (id, " PARLEY_BLOB_COLUMNS
                                           ") VALUES ($1, $2, $3, 0, $4, $5)"};
const Statement kInsertChunk{"insert_blob_chunk",
                             "INSERT INTO blob_chunks (blob_id, start, data) VALUES ($1, $2, $3)"};
const Statement kSetReceived{"set_blob_received", "UPDATE blobs SET received = $2 WHERE id = $1"};
// The chunks overlapping [$2, $3), in order.
const Statement kChunks{"blob_chunks",
                        "SELECT start, data FROM blob_chunks WHERE blob_id = $1 AND start < $3"
                        " AND start + length(data) > $2 ORDER BY start"};
const Statement kPurge{
    "purge_blobs",
    "WITH gone AS (DELETE FROM blobs WHERE expires_ms <= $1 RETURNING id, expires_ms),"
    " remembered AS (INSERT INTO blob_tombstones (id, expires_ms) SELECT id, expires_ms FROM gone"
    " ON CONFLICT (id) DO UPDATE SET expires_ms = EXCLUDED.expires_ms)"
    " SELECT count(*) FROM gone"};
const Statement kForgetTombstones{"forget_blob_tombstones",
                                  "DELETE FROM blob_tombstones WHERE expires_ms <= $1"};
const Statement kStats{"blob_stats",
                       "SELECT count(*), coalesce(sum(size), 0), coalesce(sum(received), 0)"
                       " FROM blobs"};

Status expired_error() {
  return Status::error(ErrorCode::kExpired, "blob expired and was deleted");
}

BlobInfo info_of(const pqxx::row& row) {
  return BlobInfo{pg::account_id_of(row[0]), row[1].as<std::uint64_t>(), row[2].as<std::uint64_t>(),
                  row[3].as<std::int64_t>(), row[4].as<std::int64_t>()};
}

// The blob's row (locked for a chunk) or the error a missing or expired blob gets.
Result<BlobInfo> find(Session& db, const BlobId& id, std::int64_t now_ms, bool lock) {
  pqxx::result rows = db.exec(lock ? kLockBlob : kBlob, bin(id));
  if (rows.empty()) {
    if (!db.exec(kTombstone, bin(id)).empty()) return expired_error();
    return Status::error(ErrorCode::kNotFound, "no such blob");
  }
  BlobInfo info = info_of(rows[0]);
  if (info.expires_ms <= now_ms) return expired_error();
  return info;
}

// pg_advisory_xact_lock's key for an owner: FNV-1a of the account id (a collision only makes two
// owners' creates queue on each other).
std::int64_t owner_lock_key(const AccountId& owner) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (std::uint8_t byte : owner) hash = (hash ^ byte) * 0x100000001b3ULL;
  return static_cast<std::int64_t>(hash);
}

}  // namespace

struct PgBlobStore::Impl {
  explicit Impl(const PgStoreOptions& options)
      : pool(options.conninfo, options.max_connections, options.connect_timeout_s) {}
  pg::Pool pool;
};

PgBlobStore::PgBlobStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PgBlobStore::~PgBlobStore() = default;

Result<std::unique_ptr<PgBlobStore>> PgBlobStore::open(const PgStoreOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  PARLEY_RETURN_IF_ERROR(impl->pool.run([](Session& db) { return pg::migrate(db.work()); }));
  return std::unique_ptr<PgBlobStore>(new PgBlobStore(std::move(impl)));
}

Status PgBlobStore::create(const BlobId& id, const AccountId& owner, std::uint64_t size,
                           std::int64_t now_ms, std::int64_t expires_ms, const BlobLimits& limits) {
  PARLEY_RETURN_IF_ERROR(validate_new_blob(size, now_ms, expires_ms, limits));
  return impl_->pool.run([&](Session& db) -> Status {
    db.exec(kLockOwner, owner_lock_key(owner));
    if (!db.exec(kBlob, bin(id)).empty() || !db.exec(kTombstone, bin(id)).empty()) {
      return Status::error(ErrorCode::kAlreadyExists, "blob id exists");
    }
    pqxx::row usage = db.exec(kOwnerUsage, bin(owner), now_ms).at(0);
    const auto used = usage[0].as<std::uint64_t>();
    const auto incomplete = usage[1].as<std::uint64_t>();
    PARLEY_RETURN_IF_ERROR(admit_new_blob(used, incomplete, size, limits));
    db.exec(kInsertBlob, bin(id), bin(owner), pg::to_bigint(size), now_ms, expires_ms);
    return Status{};
  });
}

Result<BlobInfo> PgBlobStore::append(const BlobId& id, const AccountId& owner, std::uint64_t offset,
                                     ByteView data, std::int64_t now_ms) {
  if (data.empty()) return Status::error(ErrorCode::kInvalidArgument, "empty chunk");
  BlobInfo info;
  PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) -> Status {
    // The row lock makes chunks of one blob apply one at a time, whichever node receives them.
    PARLEY_ASSIGN_OR_RETURN(info, find(db, id, now_ms, /*lock=*/true));
    if (info.owner != owner) {
      return Status::error(ErrorCode::kPermissionDenied,
                           "only the account that created the blob may upload to it");
    }
    if (offset != info.received) {
      return Status::error(ErrorCode::kFailedPrecondition,
                           "chunk offset " + std::to_string(offset) + " is not the " +
                               std::to_string(info.received) + " bytes received");
    }
    if (data.size() > info.size - info.received) {
      return Status::error(ErrorCode::kOutOfRange, "chunk goes past the blob's declared size");
    }
    db.exec(kInsertChunk, bin(id), pg::to_bigint(offset), bin(data));
    info.received += data.size();
    db.exec(kSetReceived, bin(id), pg::to_bigint(info.received));
    return Status{};
  }));
  return info;
}

Result<BlobInfo> PgBlobStore::status(const BlobId& id, std::int64_t now_ms) const {
  BlobInfo info;
  PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) -> Status {
    PARLEY_ASSIGN_OR_RETURN(info, find(db, id, now_ms, /*lock=*/false));
    return Status{};
  }));
  return info;
}

Result<Bytes> PgBlobStore::read(const BlobId& id, std::uint64_t offset, std::uint64_t max_bytes,
                                std::int64_t now_ms) const {
  Bytes out;
  PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) -> Status {
    out.clear();
    PARLEY_ASSIGN_OR_RETURN(BlobInfo info, find(db, id, now_ms, /*lock=*/false));
    if (info.received != info.size) {
      return Status::error(ErrorCode::kFailedPrecondition, "blob upload is not complete");
    }
    if (offset > info.size)
      return Status::error(ErrorCode::kOutOfRange, "read offset past the end");
    const std::uint64_t end = offset + std::min(max_bytes, info.size - offset);
    if (end == offset) return Status{};
    for (const pqxx::row& row :
         db.exec(kChunks, bin(id), pg::to_bigint(offset), pg::to_bigint(end))) {
      const auto start = row[0].as<std::uint64_t>();
      Bytes chunk = pg::bytes_of(row[1]);
      const std::uint64_t from = std::max(start, offset);
      const std::uint64_t to = std::min(start + chunk.size(), end);
      out.insert(out.end(), chunk.begin() + static_cast<std::ptrdiff_t>(from - start),
                 chunk.begin() + static_cast<std::ptrdiff_t>(to - start));
    }
    if (out.size() != end - offset) {
      return Status::error(ErrorCode::kStorageCorrupt, "blob chunks are missing");
    }
    return Status{};
  }));
  return out;
}

Result<std::uint64_t> PgBlobStore::purge_expired(std::int64_t now_ms) {
  std::uint64_t purged = 0;
  PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) -> Status {
    purged = db.exec(kPurge, now_ms).at(0)[0].as<std::uint64_t>();
    db.exec(kForgetTombstones, now_ms - kBlobTombstoneMs);
    return Status{};
  }));
  return purged;
}

BlobStats PgBlobStore::stats() const {
  BlobStats stats;
  Status status = impl_->pool.run([&](Session& db) {
    pqxx::row row = db.exec(kStats).at(0);
    stats.blobs = row[0].as<std::uint64_t>();
    stats.bytes_declared = row[1].as<std::uint64_t>();
    stats.bytes_received = row[2].as<std::uint64_t>();
    return Status{};
  });
  return status.ok() ? stats : BlobStats{};
}

}  // namespace parley::store
