// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// MemoryBlobStore: every blob in process memory. For tests and the client's in-process
// LoopbackServer; the reference the blob conformance tests hold every backend to. Nothing
// survives the object.

#include <memory>

#include "parley/store/blob_store.h"

namespace parley::store {

class MemoryBlobStore final : public BlobStore {
 public:
  MemoryBlobStore();
  ~MemoryBlobStore() override;
  MemoryBlobStore(const MemoryBlobStore&) = delete;
  MemoryBlobStore& operator=(const MemoryBlobStore&) = delete;

  Status create(const BlobId& id, const AccountId& owner, std::uint64_t size, std::int64_t now_ms,
                std::int64_t expires_ms, const BlobLimits& limits) override;
  Result<BlobInfo> append(const BlobId& id, const AccountId& owner, std::uint64_t offset,
                          ByteView data, std::int64_t now_ms) override;
  Result<BlobInfo> status(const BlobId& id, std::int64_t now_ms) const override;
  Result<Bytes> read(const BlobId& id, std::uint64_t offset, std::uint64_t max_bytes,
                     std::int64_t now_ms) const override;
  Result<std::uint64_t> purge_expired(std::int64_t now_ms) override;
  BlobStats stats() const override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::store
