// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Hashcash-style proof of work for sign-up: find a nonce such that SHA-256(challenge || nonce)
// begins with `bits` zero bits. The server checks with one hash; the client searches about
// 2^bits hashes (20 bits: about a million, well under a second on a phone).

#include <cstdint>

#include "parley/util/bytes.h"

namespace parley::proto {

// Leading zero bits of SHA-256(challenge || nonce).
std::uint32_t pow_leading_zero_bits(ByteView challenge, ByteView nonce);

// True when the nonce proves `bits` of work for `challenge`. bits = 0 accepts any nonce.
bool pow_is_valid(ByteView challenge, ByteView nonce, std::uint32_t bits);

// Finds a nonce (8 bytes, counting up) proving `bits` of work. Client side and tests.
Bytes pow_solve(ByteView challenge, std::uint32_t bits);

}  // namespace parley::proto
