// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <string_view>

#include "parley/util/bytes.h"
#include "parley/util/encoding.h"

namespace parley::crypto::testing {

// Test vectors are written in hex; a typo in one is a test bug, so fail loudly.
inline Bytes unhex(std::string_view hex) {
  Result<Bytes> bytes = hex_decode(hex);
  if (!bytes.ok()) return Bytes{0xde, 0xad};
  return std::move(bytes).value();
}

}  // namespace parley::crypto::testing
