// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// RedisCluster: a small, synchronous Redis Cluster client on hiredis 0.14 (which has no cluster
// support of its own).
//
// Why this shape:
// - Blocking calls with timeouts on the caller's thread. parleyd's store calls already block on
//   worker threads, so presence and rate-limit calls can too; there is no event loop to share, and
//   a synchronous client is small enough to review.
// - One small pool of connections per master: a thread takes a connection, uses it and gives it
//   back, so concurrent callers never share one socket and no lock is held during I/O.
// - The slot map comes from CLUSTER SLOTS (masters serve everything: presence must read its own
//   writes, so there are no reads from replicas; replicas are remembered for later). A MOVED
//   reply repoints that one slot at once and asks for a full reload before the next command; an
//   ASK reply sends ASKING + the command to the importing node once, leaving the map alone.
// - TRYAGAIN, CLUSTERDOWN, LOADING, MASTERDOWN, READONLY and transport failures are retried with
//   a short exponential backoff and a map reload (a failover moves slots to a replica), at most
//   `max_retries` times; then the caller gets kUnavailable naming the node, never a key.
//
// pipeline() sends many commands with one round trip per master instead of one per command (a
// group message wakes every member device with one batch of SPUBLISH).
//
// Retries make a command at-least-once: a command whose connection failed after it was sent may
// have run. Callers use commands where that is harmless (SET of presence, PUBLISH of a wake-up,
// a rate-limit take that may count once more).
//
// Thread-safe: any number of threads may call any method at the same time.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "parley/redis/slot_map.h"
#include "parley/redis/value.h"
#include "parley/util/status.h"

namespace parley::redis {

namespace detail {
class NodePool;
}  // namespace detail

struct ClusterOptions {
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds command_timeout{1000};
  // MOVED/ASK hops for one command before giving up (a map that keeps changing).
  int max_redirects = 8;
  // Retries after a transport failure or a "try again" error. With the default backoff (50 ms,
  // doubling, at most 1 s) eight retries span about 4.5 s: enough for a failover with
  // cluster-node-timeout 2 s to finish.
  int max_retries = 8;
  std::chrono::milliseconds retry_backoff{50};
  std::chrono::milliseconds max_retry_backoff{1000};
  // Idle connections kept per node (more are opened under load and closed when returned).
  std::size_t idle_connections_per_node = 4;
};

// Counters for tests and metrics.
struct ClusterStats {
  std::uint64_t moved = 0;
  std::uint64_t ask = 0;
  std::uint64_t retries = 0;
  std::uint64_t map_reloads = 0;
};

// A Lua script with its SHA-1, which EVALSHA needs (computed here, no round trip).
class LuaScript {
 public:
  explicit LuaScript(std::string source);
  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;
};

// One command of a pipeline(): `routing_key` routes it as command()'s does (the command's key,
// or the channel for SPUBLISH).
struct RoutedCommand {
  std::string routing_key;
  Args argv;
};

class RedisCluster {
 public:
  // Connects to the first seed ("host:port") that answers CLUSTER SLOTS and loads the slot map.
  // kInvalidArgument for a malformed seed, kUnavailable when no seed answers.
  static Result<std::unique_ptr<RedisCluster>> connect(const std::vector<std::string>& seeds,
                                                       ClusterOptions options = {});
  ~RedisCluster();
  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;

  // Runs `argv` (command name first) on the master of `routing_key`'s slot. `routing_key` is the
  // command's key (or, for SPUBLISH, the channel). A Redis error reply other than a redirect or a
  // retried one comes back as a value of kind kError.
  Result<RedisValue> command(std::string_view routing_key, const Args& argv);
  Result<RedisValue> command_for_slot(std::uint16_t slot, const Args& argv);

  // Runs every command with one round trip per master: the commands are grouped by the master
  // of their slot, each group is written on one pooled connection (every group before any reply
  // is read, so the masters work at the same time) and the replies are read back in order.
  // Returns one result per command, in the order of `commands`, each as command() would answer
  // it (a Redis error reply is a kError value; an empty argv is kInvalidArgument).
  //
  // Redirected entries (MOVED repoints the slot as in command(); ASK sends ASKING first) go again
  // together in the next round. Entries that met a transport failure or a retried error reply
  // are retried together after one backoff and map reload, at most `max_retries` rounds, then
  // answer kUnavailable naming the node: a dead master costs the batch one retry cycle, not one
  // per command. Commands for one master run in input order, except redirected or retried ones.
  // At-least-once, like command().
  std::vector<Result<RedisValue>> pipeline(const std::vector<RoutedCommand>& commands);

  // Runs `argv` on one given node, without routing, redirects or retries (admin, tests).
  Result<RedisValue> command_on_node(const NodeAddress& node, const Args& argv);

  // EVALSHA, then EVAL when the node answers NOSCRIPT (it does not have the script cached yet).
  // Every key must be in one slot (the script runs on one node): kInvalidArgument otherwise, and
  // for a script without keys. An error raised by the script is a kError value.
  Result<RedisValue> eval(const LuaScript& script, const std::vector<std::string>& keys,
                          const std::vector<std::string>& args);

  // Reloads the slot map from any known node (seeds first). kUnavailable when none answers.
  Status reload_slot_map();

  // A copy of the current map, and the master it names for one slot.
  SlotMap slot_map() const;
  std::optional<NodeAddress> master_for_slot(std::uint16_t slot) const;

  ClusterStats stats() const;
  const ClusterOptions& options() const { return options_; }

 private:
  RedisCluster(std::vector<NodeAddress> seeds, ClusterOptions options);
  detail::NodePool& pool(const NodeAddress& node);
  Result<RedisValue> run_on(const NodeAddress& node, const Args& argv, bool asking);
  // Reloads unless a reload started after `since` (many callers retrying after one failure
  // share one reload instead of each asking every node).
  void reload_unless_newer_than(std::chrono::steady_clock::time_point since);
  void backoff(int attempt) const;
  // Counts a MOVED or ASK reply; a MOVED also repoints its slot in the map at once and asks for
  // a full reload (more slots probably moved with it). The caller follows the redirect.
  void learn(const Redirect& redirect);

  const std::vector<NodeAddress> seeds_;
  const ClusterOptions options_;

  mutable std::shared_mutex map_mutex_;
  SlotMap map_;
  std::atomic<bool> reload_wanted_{false};
  std::mutex reload_mutex_;                            // one reload at a time
  std::chrono::steady_clock::time_point last_reload_;  // guarded by reload_mutex_

  std::mutex pools_mutex_;
  std::map<NodeAddress, std::unique_ptr<detail::NodePool>> pools_;  // never erased: stable refs

  std::atomic<std::uint64_t> moved_{0};
  std::atomic<std::uint64_t> ask_{0};
  std::atomic<std::uint64_t> retries_{0};
  std::atomic<std::uint64_t> map_reloads_{0};
};

}  // namespace parley::redis
