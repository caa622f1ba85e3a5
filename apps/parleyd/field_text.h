// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The small text steps of parleyd's list-valued settings ("a; b", "0-511:0, 512-1023:1",
// "0-511, 700"), shared by cluster_config.cpp and shard_move_plan.cpp.

#include <charconv>
#include <string_view>
#include <system_error>
#include <vector>

namespace parley::parleyd::field_text {

// Without leading and trailing spaces and tabs.
inline std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Splits on `separator`, trimming each part. A trailing separator is allowed; an empty part in
// the middle ("a;;b") is kept, for the callers to refuse.
inline std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    const auto at = text.find(separator);
    parts.push_back(trim(text.substr(0, at)));
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + 1);
  }
  if (!parts.empty() && parts.back().empty()) parts.pop_back();
  return parts;
}

// The whole of `text` as a decimal number of type T (no sign, no spaces, no overflow).
template <typename T>
bool parse_number(std::string_view text, T& out) {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace parley::parleyd::field_text
