// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// XEdDSA signatures with Curve25519 keys (https://signal.org/docs/specifications/xeddsa/).
//
// Signing follows the XEdDSA spec: the Edwards public key's sign bit is forced to 0 by negating
// the scalar, so sig[63]'s top bit is always 0. Verification also accepts libsignal's older
// convention (libsignal-protocol-c `curve25519_sign`), which keeps the scalar and carries the
// Edwards sign bit in sig[63] & 0x80; an XEdDSA signature is the special case where that bit is 0.

#include <cstddef>

#include "parley/crypto/keys.h"
#include "parley/util/bytes.h"
#include "parley/util/status.h"

namespace parley::crypto {

inline constexpr std::size_t kSignatureSize = 64;
inline constexpr std::size_t kXeddsaRandomSize = 64;

// Signs with 64 fresh random bytes in the nonce.
Bytes xeddsa_sign(const PrivateKey& key, ByteView message);

// Deterministic variant for known-answer tests: `random` must be 64 bytes (else kInvalidArgument).
Result<Bytes> xeddsa_sign(const PrivateKey& key, ByteView message, ByteView random);

// kBadSignature unless `signature` (64 bytes) is valid for `message` under `key`.
Status xeddsa_verify(const PublicKey& key, ByteView message, ByteView signature);

// Plain Ed25519 verification (RFC 8032) with a 32-byte Edwards public key: the last step of
// xeddsa_verify, exposed for known-answer tests. kBadSignature / kInvalidKey on failure.
Status ed25519_verify(ByteView edwards_public_key, ByteView message, ByteView signature);

}  // namespace parley::crypto
