// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/proto/pow.h"

#include <openssl/evp.h>

#include <bit>

namespace parley::proto {

std::uint32_t pow_leading_zero_bits(ByteView challenge, ByteView nonce) {
  Bytes input = concat({challenge, nonce});
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &digest_size, EVP_sha256(), nullptr) != 1) {
    return 0;  // no proof rather than a false one
  }
  std::uint32_t bits = 0;
  for (unsigned int i = 0; i < digest_size; ++i) {
    unsigned char byte = digest[i];
    if (byte == 0) {
      bits += 8;
      continue;
    }
    bits += static_cast<std::uint32_t>(std::countl_zero(byte));
    break;
  }
  return bits;
}

bool pow_is_valid(ByteView challenge, ByteView nonce, std::uint32_t bits) {
  if (bits == 0) return true;
  return pow_leading_zero_bits(challenge, nonce) >= bits;
}

Bytes pow_solve(ByteView challenge, std::uint32_t bits) {
  Bytes nonce(8, 0);
  for (std::uint64_t counter = 0;; ++counter) {
    for (int i = 0; i < 8; ++i) nonce[i] = static_cast<std::uint8_t>(counter >> (56 - 8 * i));
    if (pow_is_valid(challenge, nonce, bits)) return nonce;
  }
}

}  // namespace parley::proto
