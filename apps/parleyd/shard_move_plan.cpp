// SPDX-License-Identifier: AGPL-3.0-or-later
#include "shard_move_plan.h"

#include <algorithm>
#include <string_view>

#include "cluster_config.h"
#include "field_text.h"

namespace parley::parleyd {

namespace {

bool parse_shard(std::string_view text, std::uint32_t& out) {
  return field_text::parse_number(field_text::trim(text), out);
}

Status bad(const std::string& flag, const std::string& why) {
  return Status::error(ErrorCode::kInvalidArgument, flag + ": " + why);
}

}  // namespace

Result<std::vector<std::uint32_t>> parse_shard_list(const std::string& text) {
  std::vector<bool> listed(kShardCount, false);
  for (const std::string_view part : field_text::split(text, ',')) {
    const std::string entry(part);
    const auto dash = part.find('-');
    std::uint32_t first = 0;
    std::uint32_t last = 0;
    const bool parsed =
        dash == std::string_view::npos
            ? parse_shard(part, first) && parse_shard(part, last)
            : parse_shard(part.substr(0, dash), first) && parse_shard(part.substr(dash + 1), last);
    if (!parsed) return bad("--shards", "expected first-last or one shard, got '" + entry + "'");
    if (first > last) return bad("--shards", "'" + entry + "' ends before it starts");
    if (last >= kShardCount) {
      return bad("--shards",
                 "'" + entry + "' goes past the last shard, " + std::to_string(kShardCount - 1));
    }
    for (std::uint32_t shard = first; shard <= last; ++shard) listed[shard] = true;
  }
  std::vector<std::uint32_t> shards;
  for (std::uint32_t shard = 0; shard < kShardCount; ++shard) {
    if (listed[shard]) shards.push_back(shard);
  }
  if (shards.empty()) return bad("--shards", "no shard listed");
  return shards;
}

std::string format_shard_map(const std::vector<std::size_t>& backend_of) {
  std::string out;
  for (std::size_t first = 0; first < backend_of.size();) {
    std::size_t last = first;
    while (last + 1 < backend_of.size() && backend_of[last + 1] == backend_of[first]) ++last;
    if (!out.empty()) out += ", ";
    out += std::to_string(first) + "-" + std::to_string(last) + ":" +
           std::to_string(backend_of[first]);
    first = last + 1;
  }
  return out;
}

Result<ShardMovePlan> plan_shard_move(const std::string& postgres, const std::string& shard_map,
                                      const std::string& shards, std::size_t from, std::size_t to) {
  ShardMovePlan plan;
  PARLEY_ASSIGN_OR_RETURN(plan.backends, parse_postgres_list(postgres));
  if (plan.backends.size() < 2) {
    return bad("--postgres", "list both backends, the source and the target");
  }
  const std::size_t count = plan.backends.size();
  if (from >= count || to >= count) {
    return bad("--from/--to", "--postgres lists backends 0 to " + std::to_string(count - 1));
  }
  if (from == to) return bad("--from/--to", "the source and the target are the same backend");

  std::vector<ShardRangeSpec> ranges;
  PARLEY_ASSIGN_OR_RETURN(ranges, parse_shard_map(shard_map, count));
  if (ranges.empty()) {
    return bad("--shard-map", "give the map the nodes ran with (e.g. \"0-1023:0\")");
  }
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::vector<std::size_t> backend_of(kShardCount, kNone);
  for (const ShardRangeSpec& range : ranges) {
    for (std::uint32_t shard = range.first; shard <= range.last; ++shard) {
      if (shard >= kShardCount || backend_of[shard] != kNone) {
        return bad("--shard-map", "must hold every shard from 0 to " +
                                      std::to_string(kShardCount - 1) + " exactly once");
      }
      backend_of[shard] = range.backend;
    }
  }
  if (std::find(backend_of.begin(), backend_of.end(), kNone) != backend_of.end()) {
    return bad("--shard-map", "must hold every shard from 0 to " + std::to_string(kShardCount - 1) +
                                  " exactly once");
  }

  PARLEY_ASSIGN_OR_RETURN(plan.shards, parse_shard_list(shards));
  for (std::uint32_t shard : plan.shards) {
    if (backend_of[shard] != from) {
      return bad("--shards", "shard " + std::to_string(shard) + " is on backend " +
                                 std::to_string(backend_of[shard]) +
                                 " in --shard-map, not on --from " + std::to_string(from));
    }
    backend_of[shard] = to;
  }
  plan.from = from;
  plan.to = to;
  plan.new_shard_map = format_shard_map(backend_of);
  return plan;
}

}  // namespace parley::parleyd
