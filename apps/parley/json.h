// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Machine output (--json): one JSON object per line, written by hand with a small, strict escaper
// so that any bytes a peer sends still give valid JSON (invalid UTF-8 becomes U+FFFD).

#include <cstdint>
#include <string>
#include <string_view>

namespace parley::cli {

// `text` as a JSON string literal, quotes included.
std::string json_quote(std::string_view text);

// Builds one object: JsonLine().str("event", "sent").num("sent_ms", 5).line() →
// {"event":"sent","sent_ms":5}. Separate method names on purpose: an overloaded add() would take a
// string literal as bool.
class JsonLine {
 public:
  JsonLine& str(std::string_view key, std::string_view value);
  JsonLine& num(std::string_view key, std::int64_t value);
  JsonLine& boolean(std::string_view key, bool value);
  JsonLine& null(std::string_view key);
  // A value that is already JSON (an array built by the caller).
  JsonLine& raw(std::string_view key, std::string_view json);
  std::string line() const { return body_ + "}"; }

 private:
  void key(std::string_view name);
  std::string body_ = "{";
};

}  // namespace parley::cli
