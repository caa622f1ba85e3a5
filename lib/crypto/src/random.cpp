// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/crypto/random.h"

#include <sodium.h>

#include "sodium.h"

namespace parley::crypto {

void fill_random(std::span<std::uint8_t> out) {
  detail::ensure_sodium();
  if (!out.empty()) randombytes_buf(out.data(), out.size());
}

Bytes random_bytes(std::size_t size) {
  Bytes out(size);
  fill_random(out);
  return out;
}

SecretBytes random_secret(std::size_t size) {
  SecretBytes out(size);
  fill_random(out.mutable_view());
  return out;
}

std::uint32_t random_uint32() {
  detail::ensure_sodium();
  return randombytes_random();
}

}  // namespace parley::crypto
