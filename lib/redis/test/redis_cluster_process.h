// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// A real Redis Cluster for tests: redis-server processes on free 127.0.0.1 ports, each in its own
// temporary directory, joined with `redis-cli --cluster create` and stopped by PID (SIGTERM, then
// SIGKILL) when the object goes away. Nothing here is started twice or stopped by name.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "parley/redis/value.h"
#include "parley/util/status.h"

namespace parley::redis::test {

class RedisClusterProcess {
 public:
  struct Options {
    int masters = 3;
    bool replicas = false;  // one replica per master
    int node_timeout_ms = 2000;
  };

  struct Node {
    int port = 0;
    pid_t pid = -1;  // -1 while stopped
    std::string dir;
  };

  // Starts the nodes, creates the cluster and waits until every node says cluster_state:ok.
  static Result<std::unique_ptr<RedisClusterProcess>> start(Options options);
  ~RedisClusterProcess();

  // "127.0.0.1:port" of every node, masters first.
  std::vector<std::string> seeds() const;
  const std::vector<Node>& nodes() const { return nodes_; }
  int masters() const { return options_.masters; }  // the first nodes()

  // One command on one node, straight through hiredis (independent of the client under test).
  Result<RedisValue> node_command(int port, const Args& argv) const;

  // The index (into nodes()) of the node that serves `slot` now, asked of a live node.
  Result<int> master_index_for_slot(std::uint16_t slot) const;
  // CLUSTER MYID of a node.
  Result<std::string> node_id(int port) const;

  void kill_node(int index);       // SIGKILL, like a crash
  Status restart_node(int index);  // same port and nodes.conf: rejoins as the same node

  // Polls until every running node reports cluster_state:ok and agrees on all 16384 slots
  // being served by running masters.
  Status wait_until_healthy(std::chrono::milliseconds timeout) const;

 private:
  explicit RedisClusterProcess(Options options) : options_(options) {}
  Status start_node(Node& node);
  Status wait_for_ping(const Node& node, std::chrono::milliseconds timeout) const;
  void stop_node(Node& node);

  Options options_;
  std::string root_;
  std::vector<Node> nodes_;
};

// Moves one slot from its master to the next master in three steps, as
// `redis-cli --cluster reshard` does, so a test can look at the client between them:
// begin() marks the slot IMPORTING on the target and MIGRATING on the source (clients then get
// ASK for keys already moved), migrate() moves some keys, finish() assigns the slot to the target
// on every node (clients then get MOVED from the source).
class SlotMigration {
 public:
  static Result<SlotMigration> begin(const RedisClusterProcess& cluster, std::uint16_t slot);

  Status migrate(const std::vector<std::string>& keys) const;
  Status finish() const;
  int from_port() const { return from_port_; }
  int to_port() const { return to_port_; }

 private:
  SlotMigration(const RedisClusterProcess& cluster, std::uint16_t slot)
      : cluster_(&cluster), slot_(slot) {}
  Status all_ok(int port, const Args& argv) const;

  const RedisClusterProcess* cluster_;
  std::uint16_t slot_;
  int from_port_ = 0;
  int to_port_ = 0;
  std::string to_id_;
};

}  // namespace parley::redis::test

namespace parley::redis::test {

// One 3-master cluster (no replicas) shared by the tests of this process that do not kill nodes;
// started on first use, stopped at exit. nullptr (and `error` set) when it could not start.
RedisClusterProcess* shared_cluster(std::string* error);

// Polls `condition` every 20 ms until it holds or `timeout` passes; returns its last value.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace parley::redis::test
