// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/crypto/padding.h"

#include <algorithm>

namespace parley::crypto {

Result<SecretBytes> pad_message(ByteView plaintext, std::size_t block) {
  if (block == 0) return Status::error(ErrorCode::kInvalidArgument, "padding block must be >= 1");
  const std::size_t unpadded = plaintext.size() + 1;
  const std::size_t padded = (unpadded + block - 1) / block * block;
  SecretBytes out(padded);  // zero-filled
  std::copy(plaintext.begin(), plaintext.end(), out.data());
  out[plaintext.size()] = 0x80;
  return out;
}

Result<SecretBytes> unpad_message(ByteView padded) {
  std::size_t end = padded.size();
  while (end > 0 && padded[end - 1] == 0x00) --end;
  if (end == 0 || padded[end - 1] != 0x80) {
    return Status::error(ErrorCode::kMalformedInput, "padding marker missing");
  }
  return SecretBytes(padded.first(end - 1));
}

}  // namespace parley::crypto
