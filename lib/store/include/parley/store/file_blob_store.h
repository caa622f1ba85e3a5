// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// FileBlobStore: one file per blob under a directory (parleyd uses <data_dir>/blobs).
//
// Layout: `<32 hex digits of the id>.blob` = a 64-byte header (magic, format version, owner,
// declared size, created and expiry times, bytes received) followed by the bytes received so far.
// A blob is created as `<id>.blob.tmp`, synced, renamed into place and the directory synced, so a
// crash leaves either no blob or a whole header. A chunk is written at its offset and synced
// (fdatasync), then the header's received count is rewritten in place (8 bytes in the first
// sector) and synced again: `received` never counts bytes that are not on disk, and bytes past it
// (a torn, unacknowledged chunk) are overwritten by the resumed upload.
//
// Opening rebuilds the index from the headers (no other state exists), deletes leftover `.tmp`
// files and renames a file it cannot read to `<name>.corrupt` (counted in stats().quarantined) so
// one damaged attachment never stops the server. Other files are left alone.

#include <memory>
#include <string>

#include "parley/store/blob_store.h"

namespace parley::store {

class FileBlobStore final : public BlobStore {
 public:
  // Opens (creating it, mode 0700, if missing) the directory. kStorageIo when it cannot be
  // created or listed.
  static Result<std::unique_ptr<FileBlobStore>> open(const std::string& directory);
  ~FileBlobStore() override;
  FileBlobStore(const FileBlobStore&) = delete;
  FileBlobStore& operator=(const FileBlobStore&) = delete;

  Status create(const BlobId& id, const AccountId& owner, std::uint64_t size, std::int64_t now_ms,
                std::int64_t expires_ms, const BlobLimits& limits) override;
  Result<BlobInfo> append(const BlobId& id, const AccountId& owner, std::uint64_t offset,
                          ByteView data, std::int64_t now_ms) override;
  Result<BlobInfo> status(const BlobId& id, std::int64_t now_ms) const override;
  Result<Bytes> read(const BlobId& id, std::uint64_t offset, std::uint64_t max_bytes,
                     std::int64_t now_ms) const override;
  Result<std::uint64_t> purge_expired(std::int64_t now_ms) override;
  BlobStats stats() const override;

  class Impl;  // opaque; defined in src/file_blob_store.cpp
  explicit FileBlobStore(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::store
