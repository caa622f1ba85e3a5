// SPDX-License-Identifier: AGPL-3.0-or-later
#include "cluster_config.h"

#include <string_view>

#include "field_text.h"

namespace parley::parleyd {

using field_text::parse_number;
using field_text::split;
using field_text::trim;

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
