// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// What every BlobStore backend shares: the in-memory index (ids, owners, sizes, expiry, quota and
// tombstones) and the rules of blob_store.h. A backend only says how bytes are kept: the four
// hooks below. Private to the library.
//
// Locking: `mutex_` guards the index maps and is never held during I/O. Each blob has its own
// reader/writer lock: chunks and deletion take it exclusively (one chunk at a time, and a purge
// waits for a chunk in flight), reads and status share it.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>

#include "parley/store/blob_store.h"

namespace parley::store {

class BlobStoreBase : public BlobStore {
 public:
  Status create(const BlobId& id, const AccountId& owner, std::uint64_t size, std::int64_t now_ms,
                std::int64_t expires_ms, const BlobLimits& limits) final;
  Result<BlobInfo> append(const BlobId& id, const AccountId& owner, std::uint64_t offset,
                          ByteView data, std::int64_t now_ms) final;
  Result<BlobInfo> status(const BlobId& id, std::int64_t now_ms) const final;
  Result<Bytes> read(const BlobId& id, std::uint64_t offset, std::uint64_t max_bytes,
                     std::int64_t now_ms) const final;
  Result<std::uint64_t> purge_expired(std::int64_t now_ms) final;
  BlobStats stats() const override;

 protected:
  struct Entry {
    BlobId id{};
    BlobInfo info;  // every field but `received` is fixed at create
    std::atomic<std::uint64_t> received{0};
    mutable std::shared_mutex lock;
    bool deleted = false;  // set by purge under the exclusive lock
    Bytes data;            // MemoryBlobStore keeps the bytes here

    BlobInfo snapshot() const {
      BlobInfo out = info;
      out.received = received.load();
      return out;
    }
  };

  // Backend hooks. Called with the entry's lock held exclusively (store_new, store_chunk, erase)
  // or shared (load_range).
  // Makes the new, empty blob durable.
  virtual Status store_new(Entry& entry) = 0;
  // Makes `data` at `offset` (== received) durable, then the new received count; the base updates
  // `received` after it returns ok.
  virtual Status store_chunk(Entry& entry, std::uint64_t offset, ByteView data) = 0;
  virtual Result<Bytes> load_range(const Entry& entry, std::uint64_t offset,
                                   std::uint64_t count) const = 0;
  virtual Status erase(Entry& entry) = 0;

  // Adds a blob recovered from storage at open (no checks, no hooks).
  void adopt(std::shared_ptr<Entry> entry);
  void count_quarantined() { quarantined_.fetch_add(1); }

 private:
  // The live entry or kNotFound / kExpired.
  Result<std::shared_ptr<Entry>> find(const BlobId& id, std::int64_t now_ms) const;
  // kExpired when the entry expired or was purged meanwhile (caller holds its lock).
  static Status check_alive(const Entry& entry, std::int64_t now_ms);
  void insert_locked(std::shared_ptr<Entry> entry);
  void remove_locked(const Entry& entry);

  mutable std::mutex mutex_;
  std::map<BlobId, std::shared_ptr<Entry>> blobs_;
  std::map<AccountId, std::set<BlobId>> by_owner_;
  std::map<BlobId, std::int64_t> tombstones_;  // purged id → its expires_ms
  std::uint64_t bytes_declared_ = 0;
  std::atomic<std::uint64_t> bytes_received_{0};
  std::atomic<std::uint64_t> quarantined_{0};
};

}  // namespace parley::store
