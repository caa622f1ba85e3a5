// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/redis/value.h"

#include <algorithm>
#include <cctype>

namespace parley::redis {

RedisValue RedisValue::integer(std::int64_t value) {
  RedisValue v;
  v.kind_ = Kind::kInteger;
  v.integer_ = value;
  return v;
}

RedisValue RedisValue::string(std::string value) {
  RedisValue v;
  v.kind_ = Kind::kString;
  v.text_ = std::move(value);
  return v;
}

RedisValue RedisValue::status(std::string value) {
  RedisValue v;
  v.kind_ = Kind::kStatus;
  v.text_ = std::move(value);
  return v;
}

RedisValue RedisValue::error(std::string value) {
  RedisValue v;
  v.kind_ = Kind::kError;
  v.text_ = std::move(value);
  return v;
}

RedisValue RedisValue::array(std::vector<RedisValue> elements) {
  RedisValue v;
  v.kind_ = Kind::kArray;
  v.elements_ = std::move(elements);
  return v;
}

std::string_view RedisValue::error_prefix() const {
  if (kind_ != Kind::kError) return {};
  std::string_view text = text_;
  return text.substr(0, text.find(' '));
}

Status RedisValue::error_status(std::string_view command) const {
  if (kind_ != Kind::kError) return Status();
  std::string_view prefix = error_prefix();
  // Only the prefix goes into the message, and only if it looks like an error code word.
  bool word = !prefix.empty() && prefix.size() <= 24 &&
              std::all_of(prefix.begin(), prefix.end(), [](char c) {
                return std::isupper(static_cast<unsigned char>(c)) != 0 || c == '_';
              });
  std::string message = "redis refused " + std::string(command) + ": " +
                        (word ? std::string(prefix) : std::string("error"));
  ErrorCode code = ErrorCode::kFailedPrecondition;
  if (prefix == "LOADING" || prefix == "MASTERDOWN" || prefix == "READONLY" ||
      prefix == "CLUSTERDOWN" || prefix == "TRYAGAIN" || prefix == "MOVED" || prefix == "ASK") {
    code = ErrorCode::kUnavailable;
  } else if (prefix == "OOM") {
    code = ErrorCode::kResourceExhausted;
  } else if (prefix == "NOSCRIPT") {
    code = ErrorCode::kNotFound;
  }
  return Status::error(code, std::move(message));
}

}  // namespace parley::redis
