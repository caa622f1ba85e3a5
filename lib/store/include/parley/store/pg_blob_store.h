// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// PgBlobStore: attachments in PostgreSQL (cluster mode: every node sees every blob). Same
// database, pool rules, migrations and error mapping as PgStore (pg_store.h); each chunk is
// committed (synchronous_commit on) before append() returns, so an acknowledged chunk survives a
// crash and an upload resumes from status().received on any node.
//
// Differences from the in-memory index of FileBlobStore/MemoryBlobStore, all stricter: the
// tombstones of purged blobs are rows, so they survive restarts and are seen by every node; and
// the quota check of create() runs under a per-owner transaction lock, so two nodes cannot both
// take the last bytes of one account's quota.

#include <memory>

#include "parley/store/blob_store.h"
#include "parley/store/pg_store.h"

namespace parley::store {

class PgBlobStore final : public BlobStore {
 public:
  // Connects and migrates like PgStore::open (the two may share one database).
  static Result<std::unique_ptr<PgBlobStore>> open(const PgStoreOptions& options);
  ~PgBlobStore() override;
  PgBlobStore(const PgBlobStore&) = delete;
  PgBlobStore& operator=(const PgBlobStore&) = delete;

  Status create(const BlobId& id, const AccountId& owner, std::uint64_t size, std::int64_t now_ms,
                std::int64_t expires_ms, const BlobLimits& limits) override;
  Result<BlobInfo> append(const BlobId& id, const AccountId& owner, std::uint64_t offset,
                          ByteView data, std::int64_t now_ms) override;
  Result<BlobInfo> status(const BlobId& id, std::int64_t now_ms) const override;
  Result<Bytes> read(const BlobId& id, std::uint64_t offset, std::uint64_t max_bytes,
                     std::int64_t now_ms) const override;
  Result<std::uint64_t> purge_expired(std::int64_t now_ms) override;
  // Read from the database (all nodes' blobs); zeros if it cannot be reached.
  BlobStats stats() const override;

  struct Impl;

 private:
  explicit PgBlobStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::store
