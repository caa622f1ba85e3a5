// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/crypto/keys.h"

#include <sodium.h>

#include <algorithm>

#include "parley/crypto/random.h"
#include "sodium.h"

namespace parley::crypto {
namespace {

void clamp(std::span<std::uint8_t> k) {
  k[0] &= 248;
  k[31] &= 127;
  k[31] |= 64;
}

}  // namespace

Result<PublicKey> PublicKey::parse(ByteView serialized) {
  if (serialized.size() != kSerializedPublicKeySize) {
    return Status::error(ErrorCode::kInvalidKey, "public key must be 33 bytes");
  }
  if (serialized[0] != kDjbKeyType) {
    return Status::error(ErrorCode::kInvalidKey, "unknown public key type");
  }
  return from_raw(serialized.subspan(1));
}

Result<PublicKey> PublicKey::from_raw(ByteView u) {
  if (u.size() != kCurve25519KeySize) {
    return Status::error(ErrorCode::kInvalidKey, "raw public key must be 32 bytes");
  }
  PublicKey key;
  std::copy(u.begin(), u.end(), key.u_.begin());
  return key;
}

Bytes PublicKey::serialize() const {
  Bytes out;
  out.reserve(kSerializedPublicKeySize);
  out.push_back(kDjbKeyType);
  append(out, raw());
  return out;
}

Result<PrivateKey> PrivateKey::parse(ByteView scalar) {
  if (scalar.size() != kCurve25519KeySize) {
    return Status::error(ErrorCode::kInvalidKey, "private key must be 32 bytes");
  }
  SecretBytes k(scalar);
  clamp(k.mutable_view());
  return PrivateKey(std::move(k));
}

PrivateKey PrivateKey::generate() {
  SecretBytes k = random_secret(kCurve25519KeySize);
  clamp(k.mutable_view());
  return PrivateKey(std::move(k));
}

PublicKey PrivateKey::public_key() const {
  detail::ensure_sodium();
  std::array<std::uint8_t, kCurve25519KeySize> u{};
  crypto_scalarmult_curve25519_base(u.data(), scalar_.data());
  return *PublicKey::from_raw(u);
}

Result<SecretBytes> PrivateKey::agree(const PublicKey& their) const {
  detail::ensure_sodium();
  SecretBytes shared(kCurve25519KeySize);
  // libsodium returns -1 when the result is all zero: the peer sent a low-order point.
  if (crypto_scalarmult_curve25519(shared.data(), scalar_.data(), their.raw().data()) != 0) {
    return Status::error(ErrorCode::kInvalidKey, "key agreement with a low-order key");
  }
  return shared;
}

KeyPair KeyPair::generate() {
  return from_private(PrivateKey::generate());
}

KeyPair KeyPair::from_private(PrivateKey private_key) {
  PublicKey pub = private_key.public_key();
  return {pub, std::move(private_key)};
}

}  // namespace parley::crypto
