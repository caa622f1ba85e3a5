// SPDX-License-Identifier: AGPL-3.0-or-later
#include "redis_cluster_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <set>
#include <thread>

#include "connection.h"  // lib/redis/src
#include "parley/redis/slot_map.h"

namespace parley::redis::test {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPoll = std::chrono::milliseconds(50);

// Whether 127.0.0.1:port can be bound right now.
bool port_free(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return ok;
}

// A port P with P and P + 10000 (the cluster bus) free, not in `taken`. Below the ephemeral range
// (32768+) so outgoing connections do not grab it meanwhile.
int free_port_pair(std::set<int>& taken) {
  static std::mt19937 random{std::random_device{}()};
  std::uniform_int_distribution<int> pick(20000, 22767);
  for (;;) {
    int port = pick(random);
    if (taken.contains(port) || taken.contains(port + 10000)) continue;
    if (port_free(port) && port_free(port + 10000)) {
      taken.insert(port);
      taken.insert(port + 10000);
      return port;
    }
  }
}

// Runs a program, stdout and stderr into `log`; its exit status (-1 if it could not run).
int run_program(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  if (pid < 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

Result<std::unique_ptr<RedisClusterProcess>> RedisClusterProcess::start(Options options) {
  std::unique_ptr<RedisClusterProcess> cluster(new RedisClusterProcess(options));
  std::string pattern = (std::filesystem::temp_directory_path() / "parley-redis-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return Status::error(ErrorCode::kStorageIo, "cannot create a temp dir");
  }
  cluster->root_ = pattern;
  int count = options.masters * (options.replicas ? 2 : 1);
  std::set<int> taken;
  for (int i = 0; i < count; ++i) {
    Node node;
    node.dir = cluster->root_ + "/node" + std::to_string(i);
    std::filesystem::create_directories(node.dir);
    // A port taken between the check and redis-server's bind: try another one.
    Status started;
    for (int attempt = 0; attempt < 5; ++attempt) {
      node.port = free_port_pair(taken);
      started = cluster->start_node(node);
      if (started.ok()) break;
    }
    PARLEY_RETURN_IF_ERROR(started);
    cluster->nodes_.push_back(node);
  }
  std::vector<std::string> create = {"redis-cli", "--cluster", "create"};
  for (const Node& node : cluster->nodes_)
    create.push_back("127.0.0.1:" + std::to_string(node.port));
  create.insert(create.end(),
                {"--cluster-replicas", options.replicas ? "1" : "0", "--cluster-yes"});
  if (run_program(create, cluster->root_ + "/create.log") != 0) {
    return Status::error(ErrorCode::kInternal, "redis-cli --cluster create failed, see " +
                                                   cluster->root_ + "/create.log");
  }
  PARLEY_RETURN_IF_ERROR(cluster->wait_until_healthy(std::chrono::seconds(60)));
  return cluster;
}

RedisClusterProcess::~RedisClusterProcess() {
  for (Node& node : nodes_) stop_node(node);
  std::error_code ignored;
  if (!root_.empty()) std::filesystem::remove_all(root_, ignored);
}

Status RedisClusterProcess::start_node(Node& node) {
  std::vector<std::string> args = {"redis-server",
                                   "--port",
                                   std::to_string(node.port),
                                   "--bind",
                                   "127.0.0.1",
                                   "--cluster-enabled",
                                   "yes",
                                   "--cluster-config-file",
                                   "nodes.conf",
                                   "--cluster-node-timeout",
                                   std::to_string(options_.node_timeout_ms),
                                   "--cluster-allow-reads-when-down",
                                   "no",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--dir",
                                   node.dir,
                                   "--logfile",
                                   node.dir + "/redis.log",
                                   "--daemonize",
                                   "no"};
  pid_t pid = fork();
  if (pid == 0) {
    // The server dies with the test process even if the test crashes before its destructor.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open((node.dir + "/stdout.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  if (pid < 0) return Status::error(ErrorCode::kInternal, "fork failed");
  node.pid = pid;
  Status up = wait_for_ping(node, std::chrono::seconds(10));
  if (!up.ok()) stop_node(node);
  return up;
}

Status RedisClusterProcess::wait_for_ping(const Node& node,
                                          std::chrono::milliseconds timeout) const {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    int status = 0;
    if (waitpid(node.pid, &status, WNOHANG) == node.pid) {
      return Status::error(ErrorCode::kUnavailable, "redis-server exited at start");
    }
    Result<RedisValue> pong = node_command(node.port, {"PING"});
    if (pong.ok() && pong->is_status() && pong->text() == "PONG") return Status();
    std::this_thread::sleep_for(kPoll);
  }
  return Status::error(ErrorCode::kTimeout, "redis-server did not answer PING");
}

void RedisClusterProcess::stop_node(Node& node) {
  if (node.pid <= 0) return;
  kill(node.pid, SIGTERM);
  auto deadline = Clock::now() + std::chrono::seconds(5);
  int status = 0;
  while (waitpid(node.pid, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      kill(node.pid, SIGKILL);
      waitpid(node.pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  node.pid = -1;
}

void RedisClusterProcess::kill_node(int index) {
  Node& node = nodes_.at(static_cast<std::size_t>(index));
  if (node.pid <= 0) return;
  kill(node.pid, SIGKILL);
  int status = 0;
  waitpid(node.pid, &status, 0);
  node.pid = -1;
}

Status RedisClusterProcess::restart_node(int index) {
  Node& node = nodes_.at(static_cast<std::size_t>(index));
  if (node.pid > 0) return Status::error(ErrorCode::kFailedPrecondition, "node is running");
  return start_node(node);
}

std::vector<std::string> RedisClusterProcess::seeds() const {
  std::vector<std::string> seeds;
  for (const Node& node : nodes_) seeds.push_back("127.0.0.1:" + std::to_string(node.port));
  return seeds;
}

Result<RedisValue> RedisClusterProcess::node_command(int port, const Args& argv) const {
  // The library's own connection: the same hiredis call and reply conversion the client uses.
  PARLEY_ASSIGN_OR_RETURN(
      auto connection, detail::Connection::open(NodeAddress{"127.0.0.1", port},
                                                std::chrono::seconds(2), std::chrono::seconds(10)));
  return connection->call(argv);
}

Result<int> RedisClusterProcess::master_index_for_slot(std::uint16_t slot) const {
  for (const Node& asked : nodes_) {
    if (asked.pid <= 0) continue;
    Result<RedisValue> reply = node_command(asked.port, {"CLUSTER", "SLOTS"});
    if (!reply.ok()) continue;
    Result<SlotMap> map = SlotMap::from_cluster_slots(*reply, "127.0.0.1");
    if (!map.ok()) continue;
    std::optional<NodeAddress> master = map->master_for_slot(slot);
    if (!master) continue;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].port == master->port) return static_cast<int>(i);
    }
  }
  return Status::error(ErrorCode::kNotFound, "no node serves the slot");
}

Result<std::string> RedisClusterProcess::node_id(int port) const {
  PARLEY_ASSIGN_OR_RETURN(RedisValue reply, node_command(port, {"CLUSTER", "MYID"}));
  if (!reply.is_string()) return Status::error(ErrorCode::kMalformedInput, "CLUSTER MYID");
  return reply.text();
}

Status RedisClusterProcess::wait_until_healthy(std::chrono::milliseconds timeout) const {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    bool healthy = true;
    for (const Node& node : nodes_) {
      if (node.pid <= 0) continue;
      Result<RedisValue> info = node_command(node.port, {"CLUSTER", "INFO"});
      if (!info.ok() || info->text().find("cluster_state:ok") == std::string::npos) {
        healthy = false;
        break;
      }
      Result<RedisValue> slots = node_command(node.port, {"CLUSTER", "SLOTS"});
      Result<SlotMap> map = slots.ok() ? SlotMap::from_cluster_slots(*slots, "127.0.0.1")
                                       : Result<SlotMap>(slots.status());
      if (!map.ok() || map->covered_slots() != kSlotCount) {
        healthy = false;
        break;
      }
      // Every master in this node's view must be running.
      for (const Shard& shard : map->shards()) {
        for (const Node& other : nodes_) {
          if (other.port == shard.master.port && other.pid <= 0) healthy = false;
        }
      }
      Result<RedisValue> replication = node_command(node.port, {"INFO", "replication"});
      if (!replication.ok() ||
          (replication->text().find("role:slave") != std::string::npos &&
           replication->text().find("master_link_status:up") == std::string::npos)) {
        healthy = false;
      }
      if (!healthy) break;
    }
    if (healthy) return Status();
    if (Clock::now() > deadline) {
      return Status::error(ErrorCode::kTimeout, "redis cluster did not become healthy");
    }
    std::this_thread::sleep_for(kPoll);
  }
}

}  // namespace parley::redis::test

namespace parley::redis::test {

RedisClusterProcess* shared_cluster(std::string* error) {
  static Result<std::unique_ptr<RedisClusterProcess>> cluster = RedisClusterProcess::start({});
  if (!cluster.ok()) {
    *error = cluster.status().to_string();
    return nullptr;
  }
  return cluster->get();
}

Result<SlotMigration> SlotMigration::begin(const RedisClusterProcess& cluster, std::uint16_t slot) {
  SlotMigration migration(cluster, slot);
  PARLEY_ASSIGN_OR_RETURN(int from, cluster.master_index_for_slot(slot));
  const int to = (from + 1) % cluster.masters();
  migration.from_port_ = cluster.nodes()[static_cast<std::size_t>(from)].port;
  migration.to_port_ = cluster.nodes()[static_cast<std::size_t>(to)].port;
  PARLEY_ASSIGN_OR_RETURN(std::string from_id, cluster.node_id(migration.from_port_));
  PARLEY_ASSIGN_OR_RETURN(migration.to_id_, cluster.node_id(migration.to_port_));
  const std::string s = std::to_string(slot);
  PARLEY_RETURN_IF_ERROR(
      migration.all_ok(migration.to_port_, {"CLUSTER", "SETSLOT", s, "IMPORTING", from_id}));
  PARLEY_RETURN_IF_ERROR(migration.all_ok(
      migration.from_port_, {"CLUSTER", "SETSLOT", s, "MIGRATING", migration.to_id_}));
  return migration;
}

Status SlotMigration::migrate(const std::vector<std::string>& keys) const {
  Args migrate = {"MIGRATE", "127.0.0.1", std::to_string(to_port_), "", "0", "5000", "KEYS"};
  migrate.insert(migrate.end(), keys.begin(), keys.end());
  return all_ok(from_port_, migrate);
}

Status SlotMigration::finish() const {
  for (int i = 0; i < cluster_->masters(); ++i) {
    const int port = cluster_->nodes()[static_cast<std::size_t>(i)].port;
    PARLEY_RETURN_IF_ERROR(
        all_ok(port, {"CLUSTER", "SETSLOT", std::to_string(slot_), "NODE", to_id_}));
  }
  return Status();
}

Status SlotMigration::all_ok(int port, const Args& argv) const {
  PARLEY_ASSIGN_OR_RETURN(RedisValue reply, cluster_->node_command(port, argv));
  if (reply.is_status() && reply.text() == "OK") return Status();
  return Status::error(ErrorCode::kInternal, argv[0] + " " + argv[1] + " on port " +
                                                 std::to_string(port) + " answered " +
                                                 std::string(reply.text()));
}

}  // namespace parley::redis::test
