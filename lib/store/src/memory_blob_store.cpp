// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/store/memory_blob_store.h"

#include "blob_store_base.h"

namespace parley::store {

class MemoryBlobStore::Impl final : public BlobStoreBase {
 protected:
  Status store_new(Entry&) override { return {}; }
  Status store_chunk(Entry& entry, std::uint64_t, ByteView data) override {
    append_bytes(entry.data, data);
    return {};
  }
  Result<Bytes> load_range(const Entry& entry, std::uint64_t offset,
                           std::uint64_t count) const override {
    auto begin = entry.data.begin() + static_cast<std::ptrdiff_t>(offset);
    return Bytes(begin, begin + static_cast<std::ptrdiff_t>(count));
  }
  Status erase(Entry& entry) override {
    Bytes().swap(entry.data);
    return {};
  }

 private:
  static void append_bytes(Bytes& to, ByteView data) {
    to.insert(to.end(), data.begin(), data.end());
  }
};

MemoryBlobStore::MemoryBlobStore() : impl_(std::make_unique<Impl>()) {}
MemoryBlobStore::~MemoryBlobStore() = default;

Status MemoryBlobStore::create(const BlobId& id, const AccountId& owner, std::uint64_t size,
                               std::int64_t now_ms, std::int64_t expires_ms,
                               const BlobLimits& limits) {
  return impl_->create(id, owner, size, now_ms, expires_ms, limits);
}
Result<BlobInfo> MemoryBlobStore::append(const BlobId& id, const AccountId& owner,
                                         std::uint64_t offset, ByteView data, std::int64_t now_ms) {
  return impl_->append(id, owner, offset, data, now_ms);
}
Result<BlobInfo> MemoryBlobStore::status(const BlobId& id, std::int64_t now_ms) const {
  return impl_->status(id, now_ms);
}
Result<Bytes> MemoryBlobStore::read(const BlobId& id, std::uint64_t offset, std::uint64_t max_bytes,
                                    std::int64_t now_ms) const {
  return impl_->read(id, offset, max_bytes, now_ms);
}
Result<std::uint64_t> MemoryBlobStore::purge_expired(std::int64_t now_ms) {
  return impl_->purge_expired(now_ms);
}
BlobStats MemoryBlobStore::stats() const {
  return impl_->stats();
}

}  // namespace parley::store
