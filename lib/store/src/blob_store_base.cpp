// SPDX-License-Identifier: AGPL-3.0-or-later
#include "blob_store_base.h"

#include <algorithm>
#include <string>
#include <vector>

#include "parley/util/encoding.h"
#include "validation.h"

namespace parley::store {

Result<BlobId> blob_id_from_bytes(ByteView bytes) {
  if (bytes.size() != kBlobIdSize) {
    return Status::error(ErrorCode::kInvalidArgument, "blob id must be 16 bytes");
  }
  BlobId id{};
  std::copy(bytes.begin(), bytes.end(), id.begin());
  return id;
}

std::string to_hex(const BlobId& id) {
  return hex_encode(id);
}

namespace {

Status expired_error() {
  return Status::error(ErrorCode::kExpired, "blob expired and was deleted");
}

}  // namespace

Status BlobStoreBase::check_alive(const Entry& entry, std::int64_t now_ms) {
  if (entry.deleted || entry.info.expires_ms <= now_ms) return expired_error();
  return {};
}

Result<std::shared_ptr<BlobStoreBase::Entry>> BlobStoreBase::find(const BlobId& id,
                                                                  std::int64_t now_ms) const {
  std::lock_guard lock(mutex_);
  if (auto it = blobs_.find(id); it != blobs_.end()) {
    if (it->second->info.expires_ms <= now_ms) return expired_error();
    return it->second;
  }
  if (tombstones_.contains(id)) return expired_error();
  return Status::error(ErrorCode::kNotFound, "no such blob");
}

void BlobStoreBase::insert_locked(std::shared_ptr<Entry> entry) {
  bytes_declared_ += entry->info.size;
  by_owner_[entry->info.owner].insert(entry->id);
  blobs_.emplace(entry->id, std::move(entry));
}

void BlobStoreBase::remove_locked(const Entry& entry) {
  bytes_declared_ -= entry.info.size;
  if (auto owner = by_owner_.find(entry.info.owner); owner != by_owner_.end()) {
    owner->second.erase(entry.id);
    if (owner->second.empty()) by_owner_.erase(owner);
  }
  blobs_.erase(entry.id);
}

void BlobStoreBase::adopt(std::shared_ptr<Entry> entry) {
  bytes_received_.fetch_add(entry->received.load());
  std::lock_guard lock(mutex_);
  insert_locked(std::move(entry));
}

Status BlobStoreBase::create(const BlobId& id, const AccountId& owner, std::uint64_t size,
                             std::int64_t now_ms, std::int64_t expires_ms,
                             const BlobLimits& limits) {
  PARLEY_RETURN_IF_ERROR(validate_new_blob(size, now_ms, expires_ms, limits));
  auto entry = std::make_shared<Entry>();
  entry->id = id;
  entry->info = BlobInfo{owner, size, 0, now_ms, expires_ms};
  // Locked before anyone can find it, so nothing touches it until it is durable.
  std::unique_lock entry_lock(entry->lock);
  {
    std::lock_guard lock(mutex_);
    if (blobs_.contains(id) || tombstones_.contains(id)) {
      return Status::error(ErrorCode::kAlreadyExists, "blob id exists");
    }
    std::uint64_t used = 0;
    std::uint32_t incomplete = 0;
    if (auto owned = by_owner_.find(owner); owned != by_owner_.end()) {
      for (const BlobId& other : owned->second) {
        const Entry& e = *blobs_.at(other);
        if (e.info.expires_ms <= now_ms) continue;  // expired: no longer counts, purge pending
        used += e.info.size;
        if (e.received.load() < e.info.size) ++incomplete;
      }
    }
    PARLEY_RETURN_IF_ERROR(admit_new_blob(used, incomplete, size, limits));
    insert_locked(entry);  // reserves the quota while we write
  }
  Status stored = store_new(*entry);
  if (!stored.ok()) {
    entry->deleted = true;
    std::lock_guard lock(mutex_);
    remove_locked(*entry);
  }
  return stored;
}

Result<BlobInfo> BlobStoreBase::append(const BlobId& id, const AccountId& owner,
                                       std::uint64_t offset, ByteView data, std::int64_t now_ms) {
  if (data.empty()) return Status::error(ErrorCode::kInvalidArgument, "empty chunk");
  PARLEY_ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, find(id, now_ms));
  std::unique_lock lock(entry->lock);
  PARLEY_RETURN_IF_ERROR(check_alive(*entry, now_ms));
  if (entry->info.owner != owner) {
    return Status::error(ErrorCode::kPermissionDenied,
                         "only the account that created the blob may upload to it");
  }
  const std::uint64_t received = entry->received.load();
  if (offset != received) {
    return Status::error(ErrorCode::kFailedPrecondition,
                         "chunk offset " + std::to_string(offset) + " is not the " +
                             std::to_string(received) + " bytes received");
  }
  if (data.size() > entry->info.size - received) {
    return Status::error(ErrorCode::kOutOfRange, "chunk goes past the blob's declared size");
  }
  PARLEY_RETURN_IF_ERROR(store_chunk(*entry, offset, data));
  entry->received.store(received + data.size());
  bytes_received_.fetch_add(data.size());
  return entry->snapshot();
}

Result<BlobInfo> BlobStoreBase::status(const BlobId& id, std::int64_t now_ms) const {
  PARLEY_ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, find(id, now_ms));
  std::shared_lock lock(entry->lock);
  PARLEY_RETURN_IF_ERROR(check_alive(*entry, now_ms));
  return entry->snapshot();
}

Result<Bytes> BlobStoreBase::read(const BlobId& id, std::uint64_t offset, std::uint64_t max_bytes,
                                  std::int64_t now_ms) const {
  PARLEY_ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, find(id, now_ms));
  std::shared_lock lock(entry->lock);
  PARLEY_RETURN_IF_ERROR(check_alive(*entry, now_ms));
  const std::uint64_t size = entry->info.size;
  if (entry->received.load() != size) {
    return Status::error(ErrorCode::kFailedPrecondition, "blob upload is not complete");
  }
  if (offset > size) return Status::error(ErrorCode::kOutOfRange, "read offset past the end");
  std::uint64_t count = std::min(max_bytes, size - offset);
  if (count == 0) return Bytes{};
  return load_range(*entry, offset, count);
}

Result<std::uint64_t> BlobStoreBase::purge_expired(std::int64_t now_ms) {
  std::vector<std::shared_ptr<Entry>> expired;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, entry] : blobs_) {
      if (entry->info.expires_ms <= now_ms) expired.push_back(entry);
    }
    for (const auto& entry : expired) {
      remove_locked(*entry);
      tombstones_[entry->id] = entry->info.expires_ms;
    }
    std::erase_if(tombstones_, [&](const auto& tombstone) {
      return tombstone.second <= now_ms - kBlobTombstoneMs;
    });
  }
  // Out of the index: nobody finds them now. Each deletion waits for a chunk still in flight.
  Status first_error;
  for (const auto& entry : expired) {
    std::unique_lock lock(entry->lock);
    entry->deleted = true;
    bytes_received_.fetch_sub(entry->received.load());
    Status erased = erase(*entry);
    if (!erased.ok() && first_error.ok()) first_error = erased;
  }
  // A blob whose deletion failed is out of the index; a restart finds it again and purges it.
  if (!first_error.ok()) return first_error;
  return std::uint64_t{expired.size()};
}

BlobStats BlobStoreBase::stats() const {
  BlobStats out;
  {
    std::lock_guard lock(mutex_);
    out.blobs = blobs_.size();
    out.bytes_declared = bytes_declared_;
  }
  out.bytes_received = bytes_received_.load();
  out.quarantined = quarantined_.load();
  return out;
}

}  // namespace parley::store
