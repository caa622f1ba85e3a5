// SPDX-License-Identifier: AGPL-3.0-or-later
// make_link_code(): the one generator of device-link codes, shared by every LinkCodeRegistry.
#include "parley/server/link_code_registry.h"

#include "parley/crypto/random.h"

namespace parley::server {

static_assert(kLinkCodeAlphabet.size() == 32, "5 bits per symbol: no modulo bias");

std::string make_link_code() {
  Bytes random = crypto::random_bytes(kLinkCodeLength);
  std::string code;
  code.reserve(kLinkCodeLength);
  for (std::uint8_t b : random) code.push_back(kLinkCodeAlphabet[b & 31]);
  return code;
}

}  // namespace parley::server
