// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// `parleyd move-shards`: moves logical shards between the PostgreSQL backends of a stopped
// cluster (store::move_shards, lib/store/include/parley/store/pg_shard_move.h) and prints the
// shard map to start the nodes with.

#include <CLI/CLI.hpp>
#include <cstddef>
#include <string>

namespace parley::parleyd {

struct MoveShardsSettings {
  std::string postgres;
  std::string shard_map;
  std::string shards;
  std::size_t from = 0;
  std::size_t to = 0;
  bool ignore_other_sessions = false;
};

// Adds the subcommand and its options to `app`.
CLI::App* add_move_shards_command(CLI::App& app, MoveShardsSettings& settings);

// Runs it; the process exit code: 0 when every account of the shards is on the target, 1
// otherwise (the error or the refused accounts are on stderr).
int move_shards(const MoveShardsSettings& settings);

}  // namespace parley::parleyd
