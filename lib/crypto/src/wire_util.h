// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Shared checks for the wire message parsers.

#include <string>

#include "parley/crypto/keys.h"
#include "parley/crypto/messages.h"
#include "parley/util/bytes.h"
#include "parley/util/status.h"

namespace parley::crypto::detail {

// Size limit, minimum length and the version byte's high nibble.
inline Status check_envelope(ByteView serialized, std::size_t min_size, const char* what) {
  if (serialized.size() > kMaxMessageSize) {
    return Status::error(ErrorCode::kTooLarge, std::string(what) + " exceeds 256 KiB");
  }
  if (serialized.size() < min_size) {
    return Status::error(ErrorCode::kMalformedInput, std::string(what) + " is truncated");
  }
  if ((serialized[0] >> 4) != kMessageVersion) {
    return Status::error(ErrorCode::kUnsupportedVersion,
                         std::string(what) + " has an unsupported version");
  }
  return Status();
}

inline ByteView view_of(const std::string& s) {
  return as_bytes(s);
}

inline std::string to_string(ByteView bytes) {
  return std::string(as_string_view(bytes));
}

inline Result<PublicKey> parse_key_field(const std::string& field) {
  return PublicKey::parse(view_of(field));
}

inline Status missing(const char* what) {
  return Status::error(ErrorCode::kMalformedInput, std::string(what) + " lacks a required field");
}

}  // namespace parley::crypto::detail
