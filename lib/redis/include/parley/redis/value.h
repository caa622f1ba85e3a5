// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// RedisValue: one RESP2 reply as a plain value, so that callers never see hiredis types (hiredis
// stays inside lib/redis/src) and tests can build replies by hand.
//
// A server error reply ("-ERR ...", "-WRONGTYPE ...") is a value of kind kError, not a failed
// Result: transport failures (node down, timeout) and refusals by Redis call for different
// handling, and the error text can quote user data, so it stays inside the value instead of
// travelling in a Status message. `error_status()` turns one into a Status that names only the
// error's first word.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "parley/util/status.h"

namespace parley::redis {

class RedisValue {
 public:
  enum class Kind { kNil, kInteger, kString, kStatus, kError, kArray };

  RedisValue() = default;  // nil
  static RedisValue nil() { return RedisValue(); }
  static RedisValue integer(std::int64_t value);
  static RedisValue string(std::string value);  // a bulk string (binary-safe)
  static RedisValue status(std::string value);  // "+OK"
  static RedisValue error(std::string value);   // "-MOVED 3999 127.0.0.1:6381"
  static RedisValue array(std::vector<RedisValue> elements);

  Kind kind() const { return kind_; }
  bool is_nil() const { return kind_ == Kind::kNil; }
  bool is_integer() const { return kind_ == Kind::kInteger; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_status() const { return kind_ == Kind::kStatus; }
  bool is_error() const { return kind_ == Kind::kError; }
  bool is_array() const { return kind_ == Kind::kArray; }

  // Only meaningful for the matching kind; other kinds give 0 / "" / {}.
  std::int64_t as_integer() const { return integer_; }
  // The text of a string, status or error.
  const std::string& text() const { return text_; }
  const std::vector<RedisValue>& elements() const { return elements_; }

  // The first word of an error reply ("MOVED", "WRONGTYPE"); empty for other kinds.
  std::string_view error_prefix() const;

  // For an error reply, a Status without the error's text (it may quote user data):
  // LOADING, MASTERDOWN, READONLY, CLUSTERDOWN, TRYAGAIN → kUnavailable; OOM → kResourceExhausted;
  // NOSCRIPT → kNotFound; anything else → kFailedPrecondition. Ok for non-errors.
  Status error_status(std::string_view command) const;

  friend bool operator==(const RedisValue& a, const RedisValue& b) = default;

 private:
  Kind kind_ = Kind::kNil;
  std::int64_t integer_ = 0;
  std::string text_;
  std::vector<RedisValue> elements_;
};

// Arguments of one command, command name first: {"SET", "key", "value"}. Binary-safe.
using Args = std::vector<std::string>;

}  // namespace parley::redis
