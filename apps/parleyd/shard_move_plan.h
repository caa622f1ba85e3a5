// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// `parleyd move-shards`: its arguments checked against each other, and the shard map the nodes
// must be started with afterwards. Pure (no database), so it is unit tested with the config.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "parley/util/status.h"

namespace parley::parleyd {

// store::kLogicalShards (this library does not link the store; move_shards.cpp checks they agree).
inline constexpr std::uint32_t kShardCount = 1024;

struct ShardMovePlan {
  std::vector<std::string> backends;  // --postgres, one connection string per backend
  std::vector<std::uint32_t> shards;  // the logical shards to move, ascending
  std::size_t from = 0;
  std::size_t to = 0;
  std::string new_shard_map;  // --shard-map for the nodes once the move is complete
};

// "0-511, 700, 702-703" → the listed shards, ascending and distinct. kInvalidArgument naming
// the bad entry: not "first-last" or one number, first > last, a shard past kShardCount - 1.
Result<std::vector<std::uint32_t>> parse_shard_list(const std::string& text);

// backend_of[shard] → "first-last:backend, …" (runs of one backend merged), as --shard-map reads.
std::string format_shard_map(const std::vector<std::size_t>& backend_of);

// kInvalidArgument unless: --postgres lists at least two backends; `from` and `to` are two of
// them; `shard_map` (the map the nodes ran with, for this --postgres list) covers every shard
// exactly once; every listed shard is on `from` in it.
Result<ShardMovePlan> plan_shard_move(const std::string& postgres, const std::string& shard_map,
                                      const std::string& shards, std::size_t from, std::size_t to);

}  // namespace parley::parleyd
