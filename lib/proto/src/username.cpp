// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/proto/username.h"

#include "parley/proto/limits.h"

namespace parley::proto {

Result<std::string> normalize_username(std::string_view input) {
  std::string out;
  out.reserve(input.size());
  for (char c : input) {
    auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80) {
      return Status::error(ErrorCode::kInvalidUsername,
                           "username must be ASCII: a-z, 0-9, '_' and '.'");
    }
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
    if (!allowed) {
      return Status::error(ErrorCode::kInvalidUsername,
                           "username may contain only a-z, 0-9, '_' and '.'");
    }
    out.push_back(c);
  }
  if (out.size() < kMinUsernameLength || out.size() > kMaxUsernameLength) {
    return Status::error(ErrorCode::kInvalidUsername, "username must be 3 to 32 characters long");
  }
  return out;
}

}  // namespace parley::proto
