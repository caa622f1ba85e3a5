// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Hex and base64 on libsodium's constant-time codecs. Decoders are strict: any character outside
// the alphabet, bad padding or an odd hex length is an error (kInvalidEncoding), never skipped.

#include <string>
#include <string_view>

#include "parley/util/bytes.h"
#include "parley/util/status.h"

namespace parley {

enum class Base64Variant {
  kStandard,     // RFC 4648 §4, '+' '/', with '=' padding
  kUrlUnpadded,  // RFC 4648 §5, '-' '_', no padding: share links, URLs, file names
};

std::string hex_encode(ByteView bytes);
Result<Bytes> hex_decode(std::string_view hex);

std::string base64_encode(ByteView bytes, Base64Variant variant = Base64Variant::kStandard);
Result<Bytes> base64_decode(std::string_view text,
                            Base64Variant variant = Base64Variant::kStandard);

}  // namespace parley
