// SPDX-License-Identifier: AGPL-3.0-or-later
#include "move_shards.h"

#include <fmt/core.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>

#include "parley/store/pg_shard_move.h"
#include "parley/store/sharded_store.h"
#include "parley/util/encoding.h"
#include "shard_move_plan.h"

namespace parley::parleyd {

static_assert(kShardCount == store::kLogicalShards);

namespace {

constexpr auto kProgressInterval = std::chrono::seconds(2);

constexpr const char* kDescription =
    "move logical shards from one PostgreSQL backend to another (cluster mode), OFFLINE: stop "
    "every parleyd node first";

constexpr const char* kFooter = R"(
Steps:
  1. Stop every parleyd node of the cluster (it refuses to run while other sessions are connected
     to either database; a node still writing would lose what it writes to a moved account).
  2. Run move-shards with the --postgres list and the --shard-map the nodes ran with. The list
     may name a new, empty backend (its schema is created); its index must then be in the map's
     terms, e.g. --postgres "A; B" --shard-map "0-1023:0" --shards 512-1023 --from 0 --to 1.
  3. Start the nodes with the same --postgres list and the --shard-map it prints at the end.

Each account is copied to the target in one transaction, then deleted from the source. If the
run stops (killed, a server down), run the same command again: it finishes the job without
duplicating anything. An account it must refuse (another account on the target has its username
or identity key, or the target has it with different rows) is left on the source and listed;
then do NOT start the nodes with the new map: resolve it and run again.
Not moved: attachments (they stay on backend 0) and dedupe records (they expire).
Passwords: put them in ~/.pgpass or PGPASSWORD rather than in --postgres (visible in ps).)";

std::string hex_id(const store::AccountId& id) {
  return hex_encode(ByteView(id.data(), id.size()));
}

}  // namespace

CLI::App* add_move_shards_command(CLI::App& app, MoveShardsSettings& s) {
  CLI::App* command = app.add_subcommand("move-shards", kDescription);
  command->footer(kFooter);
  command
      ->add_option("--postgres", s.postgres,
                   "the backends as for serve: libpq connection strings separated by ';'")
      ->required();
  command
      ->add_option("--shard-map", s.shard_map,
                   "the map the nodes ran with, in terms of this --postgres list, "
                   "\"first-last:backend, ...\"")
      ->required();
  command
      ->add_option("--shards", s.shards,
                   "the logical shards to move, \"first-last, n, ...\" (e.g. \"512-1023\")")
      ->required();
  command->add_option("--from", s.from, "the backend (index in --postgres) they are on")
      ->required();
  command->add_option("--to", s.to, "the backend (index in --postgres) they go to")->required();
  command->add_flag("--ignore-other-sessions", s.ignore_other_sessions,
                    "run even while other sessions are connected to a database (only when they "
                    "are certainly not parleyd nodes, e.g. a monitoring agent)");
  return command;
}

int move_shards(const MoveShardsSettings& settings) {
  // main() blocks these for serve's sigwait(); here Ctrl-C should simply stop the run, which a
  // second run then finishes.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);

  auto plan = plan_shard_move(settings.postgres, settings.shard_map, settings.shards, settings.from,
                              settings.to);
  if (!plan.ok()) {
    spdlog::error("move-shards: {}", plan.status().to_string());
    return 1;
  }
  fmt::print("moving {} logical shard(s) from backend {} to backend {}\n", plan->shards.size(),
             plan->from, plan->to);
  (void)std::fflush(stdout);

  store::ShardMoveOptions options;
  options.source_conninfo = plan->backends[plan->from];
  options.target_conninfo = plan->backends[plan->to];
  options.shards = plan->shards;
  options.refuse_if_in_use = !settings.ignore_other_sessions;
  auto last_line = std::chrono::steady_clock::now() - kProgressInterval;
  options.on_progress = [&](const store::ShardMoveProgress& progress) {
    const auto now = std::chrono::steady_clock::now();
    if (progress.done != progress.total && now - last_line < kProgressInterval) return;
    last_line = now;
    fmt::print("  {}/{} accounts\n", progress.done, progress.total);
    (void)std::fflush(stdout);
  };

  auto report = store::move_shards(options);
  if (!report.ok()) {
    // Connection strings may hold passwords: backends are named by their index only.
    spdlog::error("move-shards: {}", report.status().to_string());
    const ErrorCode code = report.status().code();
    if (code != ErrorCode::kFailedPrecondition && code != ErrorCode::kInvalidArgument) {
      // Those two come before any account is touched; other errors can stop a run midway.
      spdlog::error(
          "move-shards: stopped; what was moved stays moved. Fix the cause and run the same "
          "command again to finish; do not start the nodes with a new map before it succeeds");
    }
    return 1;
  }
  fmt::print(
      "moved {} account(s): {} copied, {} finished from an earlier run; {} device(s), {} mailbox "
      "entries and {} shared payload(s) copied\n",
      report->accounts_copied + report->accounts_finished, report->accounts_copied,
      report->accounts_finished, report->devices_copied, report->messages_copied,
      report->shared_payloads_copied);
  if (!report->complete()) {
    for (const store::RefusedAccount& refused : report->refused) {
      spdlog::error("move-shards: account {} not moved: {}", hex_id(refused.id), refused.reason);
    }
    spdlog::error(
        "move-shards: {} account(s) were left on backend {}. Do NOT start the nodes with the new "
        "map yet: resolve them (lib/store/pg/README.md) and run the same command again",
        report->refused.size(), plan->from);
    return 1;
  }
  fmt::print(
      "Start the nodes again with the same --postgres and this shard map:\n"
      "  --shard-map \"{0}\"\n"
      "  (in the config file: shard_map = \"{0}\")\n",
      plan->new_shard_map);
  return 0;
}

}  // namespace parley::parleyd
