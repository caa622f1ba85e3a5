// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Curve25519 keys as Signal uses them: X25519 for agreement, XEdDSA (xeddsa.h) for signatures.
// A public key travels as 0x05 || u (33 bytes); a private key is the clamped 32-byte scalar.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>

#include "parley/util/bytes.h"
#include "parley/util/secret_bytes.h"
#include "parley/util/status.h"

namespace parley::crypto {

inline constexpr std::uint8_t kDjbKeyType = 0x05;
inline constexpr std::size_t kCurve25519KeySize = 32;
inline constexpr std::size_t kSerializedPublicKeySize = 33;

class PublicKey {
 public:
  // The all-zero key: a placeholder that every agreement rejects.
  PublicKey() = default;

  // Parses 0x05 || u. kInvalidKey for a wrong type byte or length.
  static Result<PublicKey> parse(ByteView serialized);
  // Takes the bare 32-byte Montgomery u-coordinate. kInvalidKey for a wrong length.
  static Result<PublicKey> from_raw(ByteView u);

  // 0x05 || u (33 bytes).
  Bytes serialize() const;
  // The bare u-coordinate (32 bytes).
  ByteView raw() const { return {u_.data(), u_.size()}; }

  friend bool operator==(const PublicKey&, const PublicKey&) = default;
  friend auto operator<=>(const PublicKey&, const PublicKey&) = default;

 private:
  std::array<std::uint8_t, kCurve25519KeySize> u_{};
};

class PrivateKey {
 public:
  // Parses a 32-byte scalar and clamps it (as X25519 does), so what is stored is what is used.
  static Result<PrivateKey> parse(ByteView scalar);
  static PrivateKey generate();

  PrivateKey clone() const { return PrivateKey(scalar_.clone()); }

  // The clamped 32-byte scalar.
  const SecretBytes& serialize() const { return scalar_; }
  PublicKey public_key() const;

  // X25519(this, their). kInvalidKey when the result is all zero (a low-order peer key).
  Result<SecretBytes> agree(const PublicKey& their) const;

 private:
  explicit PrivateKey(SecretBytes scalar) : scalar_(std::move(scalar)) {}
  SecretBytes scalar_;
};

struct KeyPair {
  PublicKey public_key;
  PrivateKey private_key;

  static KeyPair generate();
  static KeyPair from_private(PrivateKey private_key);
  KeyPair clone() const { return {public_key, private_key.clone()}; }
};

}  // namespace parley::crypto
