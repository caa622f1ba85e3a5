// SPDX-License-Identifier: AGPL-3.0-or-later
#include "sha1.h"

#include <openssl/evp.h>

#include <array>

#include "parley/util/bytes.h"
#include "parley/util/encoding.h"

namespace parley::redis::detail {

std::string sha1_hex(std::string_view data) {
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  // One-shot EVP digest: cannot fail for SHA-1 on memory input short of allocation failure, in
  // which case the empty name makes EVALSHA miss and the caller falls back to EVAL.
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha1(), nullptr) != 1) {
    return {};
  }
  return hex_encode(ByteView(digest.data(), size));
}

}  // namespace parley::redis::detail
