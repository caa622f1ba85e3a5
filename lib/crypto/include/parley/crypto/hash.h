// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Hashes, HMAC-SHA256, HKDF-SHA256 (RFC 5869) and constant-time comparison.

#include <array>
#include <cstddef>
#include <cstdint>

#include "parley/util/bytes.h"
#include "parley/util/secret_bytes.h"
#include "parley/util/status.h"

namespace parley::crypto {

inline constexpr std::size_t kSha256Size = 32;
inline constexpr std::size_t kSha512Size = 64;

std::array<std::uint8_t, kSha256Size> sha256(ByteView data);
std::array<std::uint8_t, kSha512Size> sha512(ByteView data);

// HMAC-SHA256(key, data). The result is secret whenever the key is (chain keys, MAC keys).
SecretBytes hmac_sha256(ByteView key, ByteView data);

// HKDF-SHA256 extract-and-expand (RFC 5869). An empty salt means HashLen zero bytes. Fails with
// kInvalidArgument when `length` exceeds 255 * 32.
Result<SecretBytes> hkdf_sha256(ByteView input_key_material, ByteView salt, ByteView info,
                                std::size_t length);

// Constant-time equality; views of different sizes compare unequal (their length is not secret).
bool constant_time_equal(ByteView a, ByteView b);

}  // namespace parley::crypto
