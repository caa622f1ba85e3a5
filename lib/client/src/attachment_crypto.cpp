// SPDX-License-Identifier: AGPL-3.0-or-later
#include "attachment_crypto.h"

#include <sodium.h>

#include <vector>

#include "attachment_files.h"

namespace parley::client::attachment {

static_assert(kHeaderBytes == crypto_secretstream_xchacha20poly1305_HEADERBYTES);
static_assert(kChunkOverheadBytes == crypto_secretstream_xchacha20poly1305_ABYTES);
static_assert(kKeyBytes == crypto_secretstream_xchacha20poly1305_KEYBYTES);
static_assert(kDigestBytes == crypto_hash_sha256_BYTES);

namespace {

// The stream state holds key material: wiped however the function leaves.
struct StreamState {
  crypto_secretstream_xchacha20poly1305_state state;
  ~StreamState() { sodium_memzero(&state, sizeof(state)); }
};

// Removes the output unless dismissed.
class RemoveOnFailure {
 public:
  explicit RemoveOnFailure(std::filesystem::path path) : path_(std::move(path)) {}
  ~RemoveOnFailure() {
    if (!path_.empty()) remove_quietly(path_);
  }
  void dismiss() { path_.clear(); }

 private:
  std::filesystem::path path_;
};

}  // namespace

std::uint64_t ciphertext_size_for(std::uint64_t size, std::uint32_t chunk_size) {
  std::uint64_t chunks = size == 0 ? 1 : (size + chunk_size - 1) / chunk_size;
  return kHeaderBytes + size + chunks * kChunkOverheadBytes;
}

Result<EncryptedFile> encrypt_file(const std::filesystem::path& source,
                                   const std::filesystem::path& destination, std::uint64_t max_size,
                                   std::uint32_t chunk_size) {
  if (chunk_size == 0 || chunk_size > kMaxPlainChunkBytes) {
    return Status::error(ErrorCode::kInvalidArgument, "the attachment chunk size is out of range");
  }
  PARLEY_ASSIGN_OR_RETURN(File in, File::open_read(source));
  PARLEY_ASSIGN_OR_RETURN(File out, File::create(destination));
  RemoveOnFailure cleanup(destination);

  EncryptedFile result;
  result.chunk_size = chunk_size;
  result.key = SecretBytes(kKeyBytes);
  crypto_secretstream_xchacha20poly1305_keygen(result.key.data());
  StreamState stream;
  std::uint8_t header[kHeaderBytes];
  crypto_secretstream_xchacha20poly1305_init_push(&stream.state, header, result.key.data());
  crypto_hash_sha256_state digest;
  crypto_hash_sha256_init(&digest);
  auto emit = [&](ByteView bytes) -> Status {
    crypto_hash_sha256_update(&digest, bytes.data(), bytes.size());
    result.ciphertext_size += bytes.size();
    return out.write(bytes);
  };
  PARLEY_RETURN_IF_ERROR(emit(ByteView(header, sizeof(header))));

  // One chunk of look-ahead: a chunk is final when nothing follows it, so a file whose size is
  // a multiple of the chunk size needs no extra empty chunk.
  SecretBytes current(chunk_size), next(chunk_size);
  PARLEY_ASSIGN_OR_RETURN(std::size_t current_size, in.read(current.mutable_view()));
  std::vector<std::uint8_t> sealed(chunk_size + kChunkOverheadBytes);
  for (;;) {
    result.size += current_size;
    if (result.size > max_size) {
      return Status::error(ErrorCode::kTooLarge, "the file is larger than the attachment limit");
    }
    std::size_t next_size = 0;
    if (current_size == chunk_size) {
      PARLEY_ASSIGN_OR_RETURN(next_size, in.read(next.mutable_view()));
    }
    bool final = next_size == 0;
    unsigned long long sealed_size = 0;
    crypto_secretstream_xchacha20poly1305_push(
        &stream.state, sealed.data(), &sealed_size, current.data(), current_size, nullptr, 0,
        final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
    PARLEY_RETURN_IF_ERROR(emit(ByteView(sealed.data(), static_cast<std::size_t>(sealed_size))));
    if (final) break;
    std::swap(current, next);
    current_size = next_size;
  }
  result.digest.resize(kDigestBytes);
  crypto_hash_sha256_final(&digest, result.digest.data());
  PARLEY_RETURN_IF_ERROR(out.sync());
  PARLEY_RETURN_IF_ERROR(out.close());
  cleanup.dismiss();
  return result;
}

Status decrypt_file(const std::filesystem::path& source, const std::filesystem::path& destination,
                    const DecryptParams& params) {
  if (params.key == nullptr || params.key->size() != kKeyBytes ||
      params.digest.size() != kDigestBytes || params.chunk_size == 0 ||
      params.chunk_size > kMaxPlainChunkBytes ||
      params.ciphertext_size != ciphertext_size_for(params.size, params.chunk_size)) {
    return Status::error(ErrorCode::kMalformedInput,
                         "the attachment's key, digest or sizes are not valid");
  }
  PARLEY_ASSIGN_OR_RETURN(File in, File::open_read(source));
  PARLEY_ASSIGN_OR_RETURN(File out, File::create(destination));
  RemoveOnFailure cleanup(destination);

  crypto_hash_sha256_state digest;
  crypto_hash_sha256_init(&digest);
  std::uint8_t header[kHeaderBytes];
  PARLEY_ASSIGN_OR_RETURN(std::size_t header_size,
                          in.read(std::span<std::uint8_t>(header, sizeof(header))));
  if (header_size != kHeaderBytes) {
    return Status::error(ErrorCode::kDecryptFailed, "the file is truncated (no complete header)");
  }
  crypto_hash_sha256_update(&digest, header, sizeof(header));
  StreamState stream;
  if (crypto_secretstream_xchacha20poly1305_init_pull(&stream.state, header, params.key->data()) !=
      0) {
    return Status::error(ErrorCode::kDecryptFailed, "the file's header is not valid");
  }

  std::vector<std::uint8_t> sealed(params.chunk_size + kChunkOverheadBytes);
  SecretBytes plain(params.chunk_size);
  std::uint64_t plain_total = 0;
  std::uint64_t cipher_total = kHeaderBytes;
  for (;;) {
    PARLEY_ASSIGN_OR_RETURN(std::size_t got, in.read(sealed));
    if (got == 0) {
      return Status::error(ErrorCode::kDecryptFailed,
                           "the file ends before its final chunk: it was truncated");
    }
    crypto_hash_sha256_update(&digest, sealed.data(), got);
    cipher_total += got;
    unsigned long long plain_size = 0;
    unsigned char tag = 0;
    if (got < kChunkOverheadBytes ||
        crypto_secretstream_xchacha20poly1305_pull(&stream.state, plain.data(), &plain_size, &tag,
                                                   sealed.data(), got, nullptr, 0) != 0) {
      return Status::error(ErrorCode::kBadMac,
                           "a chunk of the file does not authenticate: it was changed, or the "
                           "key is wrong");
    }
    plain_total += plain_size;
    if (plain_total > params.size) {
      return Status::error(ErrorCode::kMalformedInput, "the file is longer than announced");
    }
    PARLEY_RETURN_IF_ERROR(out.write(ByteView(plain.data(), static_cast<std::size_t>(plain_size))));
    if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) break;
    if (got < sealed.size()) {
      return Status::error(ErrorCode::kDecryptFailed,
                           "the file ends before its final chunk: it was truncated");
    }
  }
  std::uint8_t extra = 0;
  PARLEY_ASSIGN_OR_RETURN(std::size_t trailing, in.read(std::span<std::uint8_t>(&extra, 1)));
  if (trailing != 0) {
    return Status::error(ErrorCode::kMalformedInput, "the file has data after its final chunk");
  }
  std::uint8_t computed[kDigestBytes];
  crypto_hash_sha256_final(&digest, computed);
  if (sodium_memcmp(computed, params.digest.data(), kDigestBytes) != 0) {
    return Status::error(ErrorCode::kBadMac,
                         "the file does not match the digest in its message: it was changed");
  }
  if (plain_total != params.size || cipher_total != params.ciphertext_size) {
    return Status::error(ErrorCode::kMalformedInput, "the file's size is not the announced one");
  }
  PARLEY_RETURN_IF_ERROR(out.sync());
  PARLEY_RETURN_IF_ERROR(out.close());
  cleanup.dismiss();
  return Status();
}

}  // namespace parley::client::attachment
