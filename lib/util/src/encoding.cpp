// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/util/encoding.h"

#include <sodium.h>

namespace parley {
namespace {

int sodium_variant(Base64Variant variant) {
  switch (variant) {
    case Base64Variant::kStandard:
      return sodium_base64_VARIANT_ORIGINAL;
    case Base64Variant::kUrlUnpadded:
      return sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  }
  return sodium_base64_VARIANT_ORIGINAL;
}

}  // namespace

// libsodium declares its buffer arguments non-null, and an empty vector's data() may be null, so
// empty input never reaches it.

std::string hex_encode(ByteView bytes) {
  if (bytes.empty()) return {};
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes.data(), bytes.size());
  out.pop_back();  // the terminating NUL
  return out;
}

Result<Bytes> hex_decode(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return Status::error(ErrorCode::kInvalidEncoding, "hex text has an odd length");
  }
  if (hex.empty()) return Bytes{};
  Bytes out(hex.size() / 2);
  std::size_t written = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &written, &end) !=
          0 ||
      end != hex.data() + hex.size() || written != out.size()) {
    return Status::error(ErrorCode::kInvalidEncoding, "hex text has a non-hex character");
  }
  return out;
}

std::string base64_encode(ByteView bytes, Base64Variant variant) {
  if (bytes.empty()) return {};
  const int v = sodium_variant(variant);
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), v), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), v);
  out.resize(out.size() - 1);  // the terminating NUL
  // sodium_base64_ENCODED_LEN is exact for padded output and an upper bound otherwise.
  out.resize(std::string_view(out.c_str()).size());
  return out;
}

Result<Bytes> base64_decode(std::string_view text, Base64Variant variant) {
  if (text.empty()) return Bytes{};
  Bytes out(text.size() / 4 * 3 + 3);
  std::size_t written = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &written, &end,
                        sodium_variant(variant)) != 0 ||
      end != text.data() + text.size()) {
    return Status::error(ErrorCode::kInvalidEncoding, "text is not valid base64");
  }
  out.resize(written);
  return out;
}

}  // namespace parley
