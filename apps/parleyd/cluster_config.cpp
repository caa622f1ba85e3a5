// SPDX-License-Identifier: AGPL-3.0-or-later
#include "cluster_config.h"

#include <charconv>
#include <string_view>

namespace parley::parleyd {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Splits on `separator`, trimming each part. A trailing separator is allowed; an empty part in
// the middle ("a;;b") is refused by the callers.
std::vector<std::string_view> split(std::string_view text, char separator) {
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

template <typename T>
bool parse_number(std::string_view text, T& out) {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

Result<std::vector<std::string>> parse_postgres_list(const std::string& text) {
  std::vector<std::string> out;
  if (trim(text).empty()) return out;
  for (std::string_view part : split(text, ';')) {
    if (part.empty()) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "--postgres: an empty connection string between two ';'");
    }
    out.emplace_back(part);
  }
  if (out.size() > kMaxBackends) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "--postgres: at most " + std::to_string(kMaxBackends) + " backends");
  }
  return out;
}

Result<std::vector<ShardRangeSpec>> parse_shard_map(const std::string& text, std::size_t backends) {
  std::vector<ShardRangeSpec> out;
  if (trim(text).empty()) return out;
  for (std::string_view part : split(text, ',')) {
    const std::string entry(part);
    const auto dash = part.find('-');
    const auto colon = part.find(':');
    ShardRangeSpec range;
    if (dash == std::string_view::npos || colon == std::string_view::npos || colon < dash ||
        !parse_number(trim(part.substr(0, dash)), range.first) ||
        !parse_number(trim(part.substr(dash + 1, colon - dash - 1)), range.last) ||
        !parse_number(trim(part.substr(colon + 1)), range.backend)) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "--shard-map: expected first-last:backend, got '" + entry + "'");
    }
    if (range.first > range.last) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "--shard-map: '" + entry + "' ends before it starts");
    }
    if (range.backend >= backends) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "--shard-map: '" + entry + "' names backend " +
                               std::to_string(range.backend) + ", but --postgres lists " +
                               std::to_string(backends));
    }
    out.push_back(range);
  }
  return out;
}

Result<std::vector<HostPort>> parse_redis_seeds(const std::string& text) {
  std::vector<HostPort> out;
  if (trim(text).empty()) return out;
  for (std::string_view part : split(text, ',')) {
    auto seed = parse_host_port(std::string(part));
    if (!seed.ok()) return seed.status().with_context("--redis");
    out.push_back(*seed);
  }
  return out;
}

}  // namespace parley::parleyd
