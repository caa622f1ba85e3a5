// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/crypto/aes_cbc.h"

#include <openssl/evp.h>

#include <limits>
#include <memory>

namespace parley::crypto {
namespace {

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

Status check_sizes(ByteView key, ByteView iv, std::size_t input_size) {
  if (key.size() != kAes256KeySize) {
    return Status::error(ErrorCode::kInvalidArgument, "AES-256 key must be 32 bytes");
  }
  if (iv.size() != kAesCbcIvSize) {
    return Status::error(ErrorCode::kInvalidArgument, "CBC IV must be 16 bytes");
  }
  if (input_size > static_cast<std::size_t>(std::numeric_limits<int>::max()) - 32) {
    return Status::error(ErrorCode::kTooLarge, "AES input too large");
  }
  return Status();
}

}  // namespace

Result<Bytes> aes256_cbc_encrypt(ByteView key, ByteView iv, ByteView plaintext) {
  PARLEY_RETURN_IF_ERROR(check_sizes(key, iv, plaintext.size()));
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return Status::error(ErrorCode::kInternal, "EVP_CIPHER_CTX_new failed");
  Bytes out(plaintext.size() + kAesCbcIvSize);
  int len1 = 0;
  int len2 = 0;
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, key.data(), iv.data()) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out.data(), &len1, plaintext.data(),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + len1, &len2) != 1) {
    return Status::error(ErrorCode::kInternal, "AES-CBC encryption failed");
  }
  out.resize(static_cast<std::size_t>(len1) + static_cast<std::size_t>(len2));
  return out;
}

Result<SecretBytes> aes256_cbc_decrypt(ByteView key, ByteView iv, ByteView ciphertext) {
  PARLEY_RETURN_IF_ERROR(check_sizes(key, iv, ciphertext.size()));
  if (ciphertext.empty() || ciphertext.size() % kAesCbcIvSize != 0) {
    return Status::error(ErrorCode::kDecryptFailed, "ciphertext is not whole AES blocks");
  }
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return Status::error(ErrorCode::kInternal, "EVP_CIPHER_CTX_new failed");
  SecretBytes out(ciphertext.size() + kAesCbcIvSize);
  int len1 = 0;
  int len2 = 0;
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, key.data(), iv.data()) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out.data(), &len1, ciphertext.data(),
                        static_cast<int>(ciphertext.size())) != 1) {
    return Status::error(ErrorCode::kDecryptFailed, "AES-CBC decryption failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + len1, &len2) != 1) {
    return Status::error(ErrorCode::kDecryptFailed, "bad padding");
  }
  out.resize(static_cast<std::size_t>(len1) + static_cast<std::size_t>(len2));
  return out;
}

}  // namespace parley::crypto
