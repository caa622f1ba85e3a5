// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Cluster mode's settings as they are written in flags and the TOML file (docs/operations.md
// "Cluster mode"): the PostgreSQL backends, the shard map and the Redis Cluster seeds. Parsed
// here without touching the store or Redis, so the parsing is unit tested and fuzzed with the
// rest of the config.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config.h"
#include "parley/util/status.h"

namespace parley::parleyd {

// Logical shards first..last (inclusive) live on backend `backend` (an index into the postgres
// list). ShardMap::from_ranges checks that the ranges cover every shard exactly once.
struct ShardRangeSpec {
  std::uint32_t first = 0;
  std::uint32_t last = 0;
  std::size_t backend = 0;
};

// "conninfo; conninfo; …" (libpq connection strings separated by ';', which they cannot
// contain unquoted) → one per backend, trimmed. Empty text: none (single-node mode).
// kInvalidArgument for an empty entry between separators or more than kMaxBackends entries.
Result<std::vector<std::string>> parse_postgres_list(const std::string& text);

// "0-511:0, 512-1023:1" → ranges. Empty text: none (the caller spreads shards evenly).
// kInvalidArgument naming the bad entry: not "first-last:backend", first > last, a backend not
// below `backends`.
Result<std::vector<ShardRangeSpec>> parse_shard_map(const std::string& text, std::size_t backends);

// "host:port, host:port" → Redis Cluster seed nodes. Empty text: none.
Result<std::vector<HostPort>> parse_redis_seeds(const std::string& text);

inline constexpr std::size_t kMaxBackends = 256;

}  // namespace parley::parleyd
