// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Cryptographically secure randomness from the operating system (libsodium's randombytes).

#include <cstddef>
#include <cstdint>
#include <span>

#include "parley/util/bytes.h"
#include "parley/util/secret_bytes.h"

namespace parley::crypto {

// Fills `out` with random bytes.
void fill_random(std::span<std::uint8_t> out);

// `size` random bytes for public values (nonces that travel, ids).
Bytes random_bytes(std::size_t size);

// `size` random bytes for key material.
SecretBytes random_secret(std::size_t size);

// A uniformly random 32-bit value.
std::uint32_t random_uint32();

}  // namespace parley::crypto
