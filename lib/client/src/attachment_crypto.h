// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Encrypting a file for an attachment, streaming, with a fresh key per file.
//
// Ciphertext layout (libsodium crypto_secretstream_xchacha20poly1305):
//   header (24 bytes) || chunk_1 || ... || chunk_n
// where each chunk is the secretstream encryption (17 bytes longer) of `chunk_size` plaintext
// bytes, the last one shorter or equal and tagged TAG_FINAL. An empty file is one empty final
// chunk. The SHA-256 of the whole ciphertext (the digest) travels with the key inside the
// end-to-end message, so the receiver checks the exact bytes the sender uploaded.
//
// Decryption refuses, with the output removed: a chunk that does not authenticate (kBadMac: a
// changed byte or the wrong key), a stream that ends before its final chunk (kDecryptFailed:
// truncated), bytes after the final chunk or sizes that differ from the message's
// (kMalformedInput), and a digest mismatch (kBadMac).

#include <cstdint>
#include <filesystem>

#include "parley/util/bytes.h"
#include "parley/util/secret_bytes.h"
#include "parley/util/status.h"

namespace parley::client::attachment {

inline constexpr std::size_t kKeyBytes = 32;
inline constexpr std::size_t kDigestBytes = 32;
inline constexpr std::size_t kHeaderBytes = 24;
inline constexpr std::size_t kChunkOverheadBytes = 17;
inline constexpr std::uint32_t kDefaultPlainChunkBytes = 64 * 1024;
inline constexpr std::uint32_t kMaxPlainChunkBytes = 1024 * 1024;

struct EncryptedFile {
  SecretBytes key;  // kKeyBytes, fresh
  Bytes digest;     // SHA-256 of the ciphertext
  std::uint64_t size = 0;
  std::uint64_t ciphertext_size = 0;
  std::uint32_t chunk_size = 0;
};

// The ciphertext size of a `size`-byte plaintext in `chunk_size` chunks (chunk_size > 0).
std::uint64_t ciphertext_size_for(std::uint64_t size, std::uint32_t chunk_size);

// Encrypts `source` into `destination` (a new file, 0600, synced to disk before returning).
// More than `max_size` plaintext bytes: kTooLarge (checked while reading, so a file that grows
// meanwhile is caught). On failure `destination` is removed.
Result<EncryptedFile> encrypt_file(const std::filesystem::path& source,
                                   const std::filesystem::path& destination, std::uint64_t max_size,
                                   std::uint32_t chunk_size = kDefaultPlainChunkBytes);

struct DecryptParams {
  const SecretBytes* key = nullptr;
  ByteView digest;
  std::uint64_t size = 0;  // plaintext bytes expected
  std::uint64_t ciphertext_size = 0;
  std::uint32_t chunk_size = 0;
};

// Decrypts `source` into `destination` (a new file, 0600, synced), checking every chunk, the
// final tag, the sizes and the digest. On failure `destination` is removed.
Status decrypt_file(const std::filesystem::path& source, const std::filesystem::path& destination,
                    const DecryptParams& params);

}  // namespace parley::client::attachment
