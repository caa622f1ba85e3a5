// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Plaintext padding applied before encryption so ciphertext sizes reveal little: the message, a
// 0x80 marker, then zeros up to a multiple of the block size (Signal clients pad to 160 bytes the
// same way). The receiver strips trailing zeros and the marker.

#include <cstddef>

#include "parley/util/bytes.h"
#include "parley/util/secret_bytes.h"
#include "parley/util/status.h"

namespace parley::crypto {

inline constexpr std::size_t kPaddingBlock = 160;

// `block` must be >= 1 (kInvalidArgument otherwise).
Result<SecretBytes> pad_message(ByteView plaintext, std::size_t block = kPaddingBlock);

// kMalformedInput when no 0x80 marker follows the message.
Result<SecretBytes> unpad_message(ByteView padded);

}  // namespace parley::crypto
