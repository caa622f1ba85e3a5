// SPDX-License-Identifier: AGPL-3.0-or-later
#include "fingerprint.h"

#include <cctype>

#include "parley/util/encoding.h"

namespace parley::net {
namespace {

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<Bytes> parse_pinned_sha256(std::string_view text) {
  const Status invalid = Status::error(
      ErrorCode::kInvalidArgument,
      "the pinned certificate fingerprint must be a SHA-256: 64 hex digits, optionally written as "
      "SHA256:AB:CD:... (what the server prints)");
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  if (starts_with_ignoring_case(text, "SHA256:")) text.remove_prefix(7);
  std::string digits;
  digits.reserve(2 * kSha256Bytes);
  for (char c : text) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return invalid;
    digits += c;
  }
  if (digits.size() != 2 * kSha256Bytes) return invalid;
  auto digest = hex_decode(digits);
  if (!digest.ok()) return invalid;
  return std::move(digest).value();
}

std::string format_sha256_fingerprint(ByteView digest) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "SHA256:";
  for (std::size_t i = 0; i < digest.size(); ++i) {
    if (i != 0) out += ':';
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace parley::net
