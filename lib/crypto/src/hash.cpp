// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/crypto/hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <cstdlib>

#include "sodium.h"

namespace parley::crypto {
namespace {

template <std::size_t N>
std::array<std::uint8_t, N> digest(const EVP_MD* md, ByteView data) {
  std::array<std::uint8_t, N> out{};
  unsigned int len = 0;
  // One-shot EVP_Digest only fails on allocation failure; a wrong hash would be silently unsafe,
  // so stop.
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1 || len != N) {
    std::abort();
  }
  return out;
}

}  // namespace

std::array<std::uint8_t, kSha256Size> sha256(ByteView data) {
  return digest<kSha256Size>(EVP_sha256(), data);
}

std::array<std::uint8_t, kSha512Size> sha512(ByteView data) {
  return digest<kSha512Size>(EVP_sha512(), data);
}

SecretBytes hmac_sha256(ByteView key, ByteView data) {
  SecretBytes out(kSha256Size);
  unsigned int len = 0;
  static const std::uint8_t kEmpty = 0;
  const std::uint8_t* key_data = key.empty() ? &kEmpty : key.data();
  if (HMAC(EVP_sha256(), key_data, static_cast<int>(key.size()), data.data(), data.size(),
           out.data(), &len) == nullptr ||
      len != kSha256Size) {
    std::abort();
  }
  return out;
}

Result<SecretBytes> hkdf_sha256(ByteView input_key_material, ByteView salt, ByteView info,
                                std::size_t length) {
  if (length > 255 * kSha256Size) {
    return Status::error(ErrorCode::kInvalidArgument, "HKDF output too long");
  }
  // RFC 5869 §2.2: an absent salt is HashLen zeros. HMAC pads keys with zeros, so an empty key
  // gives the same PRK, but spelling it out keeps the intent visible.
  static const std::array<std::uint8_t, kSha256Size> kZeroSalt{};
  ByteView effective_salt = salt.empty() ? ByteView(kZeroSalt) : salt;
  SecretBytes prk = hmac_sha256(effective_salt, input_key_material);

  SecretBytes okm;
  SecretBytes block;
  SecretBytes input;
  for (std::uint32_t counter = 1; okm.size() < length; ++counter) {
    input.clear();
    input.append(block.view());
    input.append(info);
    const std::uint8_t c = static_cast<std::uint8_t>(counter);
    input.append(ByteView(&c, 1));
    block = hmac_sha256(prk.view(), input.view());
    okm.append(block.view());
  }
  okm.resize(length);
  return okm;
}

bool constant_time_equal(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  detail::ensure_sodium();
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace parley::crypto
