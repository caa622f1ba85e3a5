// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// parley::store::BlobStore — attachments: opaque encrypted blobs uploaded in chunks by one
// account and downloaded by whoever knows their random id, deleted when they expire.
//
// Backend-neutral: MemoryBlobStore (tests, the client's in-process server), FileBlobStore (one
// file per blob under a directory) and later PostgreSQL implement this interface and pass the
// same conformance tests (lib/store/test/blob_store_test.cpp).
//
// Contracts shared by every method:
//  - Thread-safe: any method may be called from any thread at any time. Chunks of one blob are
//    applied one at a time, in the order the owner sends them (offset must equal received).
//  - Durable: create() and append() return ok only once the blob's record and every byte counted
//    in `received` are on stable storage (fsync), so an acknowledged chunk survives kill -9 and a
//    power cut, and an upload resumes from status().received after a restart.
//  - Time comes from the caller (`now_ms`, Unix milliseconds). A blob whose expires_ms <= now_ms
//    is expired: every call on it answers kExpired, and purge_expired() deletes it. After the
//    purge the store still answers kExpired for a while (it keeps the purged ids for
//    kBlobTombstoneMs, in memory: a restart forgets them, and then the id is kNotFound).
//  - Errors: kNotFound (no such blob), kExpired (see above), kAlreadyExists (id taken),
//    kTooLarge (size over limits.max_blob_bytes), kQuotaExceeded (the owner's live blobs would
//    exceed limits.quota_bytes_per_account), kResourceExhausted (the owner already has
//    limits.max_incomplete_per_account unfinished uploads), kPermissionDenied (a chunk from
//    another account than the owner), kFailedPrecondition (a chunk at an offset other than
//    `received`; a read before the upload is complete), kOutOfRange (a chunk past the declared
//    size; a read past the end), kInvalidArgument (size 0, an empty chunk), kStorageIo /
//    kStorageFull / kStorageCorrupt (the backend failed; nothing was acknowledged).
//  - Error messages never contain blob contents. They may name a blob by its (random) id in hex.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "parley/store/records.h"
#include "parley/util/bytes.h"
#include "parley/util/status.h"

namespace parley::store {

// 16 random bytes chosen by the server; whoever knows them may download the blob.
inline constexpr std::size_t kBlobIdSize = 16;
using BlobId = std::array<std::uint8_t, kBlobIdSize>;

// Parses a blob id received from the wire: exactly 16 bytes, else kInvalidArgument.
Result<BlobId> blob_id_from_bytes(ByteView bytes);
std::string to_hex(const BlobId& id);

// How long purged ids are still answered with kExpired instead of kNotFound (30 days).
inline constexpr std::int64_t kBlobTombstoneMs = 30LL * 24 * 3600 * 1000;

// The caller's policy, checked atomically with create().
struct BlobLimits {
  std::uint64_t max_blob_bytes = std::uint64_t{100} << 20;
  // Sum of the declared sizes of the owner's blobs that have not expired, including the new one.
  std::uint64_t quota_bytes_per_account = std::uint64_t{1} << 30;
  // Unfinished uploads (received < size, not expired) per owner. 0: no limit.
  std::uint32_t max_incomplete_per_account = 0;
};

struct BlobInfo {
  AccountId owner{};
  std::uint64_t size = 0;      // declared at create
  std::uint64_t received = 0;  // bytes durably stored so far, always a prefix of the blob
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;

  bool complete() const { return received == size; }
  friend bool operator==(const BlobInfo&, const BlobInfo&) = default;
};

struct BlobStats {
  std::uint64_t blobs = 0;           // stored blobs (complete or not, not yet purged)
  std::uint64_t bytes_declared = 0;  // sum of their declared sizes
  std::uint64_t bytes_received = 0;  // sum of the bytes stored
  std::uint64_t quarantined = 0;     // FileBlobStore: unreadable files set aside at open
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // Records a new, empty blob of `size` bytes owned by `owner`, expiring at expires_ms.
  // kInvalidArgument (size 0 or expires_ms <= now_ms), kTooLarge, kQuotaExceeded,
  // kResourceExhausted, kAlreadyExists.
  virtual Status create(const BlobId& id, const AccountId& owner, std::uint64_t size,
                        std::int64_t now_ms, std::int64_t expires_ms, const BlobLimits& limits) = 0;

  // Appends `data` at `offset`, which must equal the bytes received so far; only the owner may.
  // Returns the blob's state after the chunk is durable. A chunk at another offset changes
  // nothing and is kFailedPrecondition (ask status() for `received` and resume from there).
  // kNotFound, kExpired, kPermissionDenied, kOutOfRange (offset + size of data > size),
  // kInvalidArgument (empty data).
  virtual Result<BlobInfo> append(const BlobId& id, const AccountId& owner, std::uint64_t offset,
                                  ByteView data, std::int64_t now_ms) = 0;

  // The blob's state. kNotFound, kExpired.
  virtual Result<BlobInfo> status(const BlobId& id, std::int64_t now_ms) const = 0;

  // Up to `max_bytes` bytes from `offset` of a complete blob; empty at offset == size.
  // kNotFound, kExpired, kFailedPrecondition (not complete), kOutOfRange (offset > size).
  virtual Result<Bytes> read(const BlobId& id, std::uint64_t offset, std::uint64_t max_bytes,
                             std::int64_t now_ms) const = 0;

  // Deletes every blob with expires_ms <= now_ms (and forgets tombstones older than
  // kBlobTombstoneMs). Returns how many blobs were deleted.
  virtual Result<std::uint64_t> purge_expired(std::int64_t now_ms) = 0;

  virtual BlobStats stats() const = 0;
};

}  // namespace parley::store
