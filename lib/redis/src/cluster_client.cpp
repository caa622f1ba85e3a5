// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/redis/cluster_client.h"

#include <algorithm>
#include <optional>
#include <thread>

#include "connection.h"
#include "sha1.h"

namespace parley::redis {
namespace detail {

// Idle connections to one node. take() hands out an idle one or opens a new one; give_back()
// keeps a healthy connection unless enough are idle already.
class NodePool {
 public:
  NodePool(NodeAddress node, const ClusterOptions& options)
      : node_(std::move(node)), options_(options) {}

  Result<std::unique_ptr<Connection>> take() {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        std::unique_ptr<Connection> connection = std::move(idle_.back());
        idle_.pop_back();
        return connection;
      }
    }
    return Connection::open(node_, options_.connect_timeout, options_.command_timeout);
  }

  void give_back(std::unique_ptr<Connection> connection) {
    if (connection->broken()) {
      // The node likely went away: its other idle connections are as dead as this one.
      std::lock_guard lock(mutex_);
      idle_.clear();
      return;
    }
    std::lock_guard lock(mutex_);
    if (idle_.size() < options_.idle_connections_per_node) idle_.push_back(std::move(connection));
  }

 private:
  const NodeAddress node_;
  const ClusterOptions& options_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace detail

namespace {

// Errors after which the same command may succeed shortly, possibly on another node.
bool retryable(std::string_view prefix) {
  return prefix == "TRYAGAIN" || prefix == "CLUSTERDOWN" || prefix == "LOADING" ||
         prefix == "MASTERDOWN" || prefix == "READONLY";
}

// Failures of the transport (node down, connection broken, timeout), which a retry may cure.
bool transient(const Status& failure) {
  return failure.code() == ErrorCode::kUnavailable || failure.code() == ErrorCode::kTimeout;
}

// pipeline(): what one command needs across rounds.
struct PipelineEntry {
  std::uint16_t slot = 0;
  std::optional<NodeAddress> ask;  // the next round sends ASKING and the command to this node
  int redirects = 0;
  Status failure;  // the last transient failure, for the final error
};

// pipeline(): one round's commands for one node, written on one pooled connection.
struct NodeBatch {
  detail::NodePool* pool = nullptr;
  std::vector<std::size_t> indices;  // into the pipeline's commands, in input order
  std::vector<bool> asking;          // per index: preceded by ASKING
  std::unique_ptr<detail::Connection> connection;
  Status failure;  // the connection failed: every entry not answered yet gets this
};

}  // namespace

LuaScript::LuaScript(std::string source)
    : source_(std::move(source)), sha1_(detail::sha1_hex(source_)) {}

RedisCluster::RedisCluster(std::vector<NodeAddress> seeds, ClusterOptions options)
    : seeds_(std::move(seeds)), options_(options) {}

RedisCluster::~RedisCluster() = default;

Result<std::unique_ptr<RedisCluster>> RedisCluster::connect(const std::vector<std::string>& seeds,
                                                            ClusterOptions options) {
  if (seeds.empty()) return Status::error(ErrorCode::kInvalidArgument, "no redis seed node");
  std::vector<NodeAddress> addresses;
  for (const std::string& seed : seeds) {
    PARLEY_ASSIGN_OR_RETURN(NodeAddress address, NodeAddress::parse(seed));
    addresses.push_back(std::move(address));
  }
  std::unique_ptr<RedisCluster> cluster(new RedisCluster(std::move(addresses), options));
  PARLEY_RETURN_IF_ERROR(cluster->reload_slot_map());
  return cluster;
}

detail::NodePool& RedisCluster::pool(const NodeAddress& node) {
  std::lock_guard lock(pools_mutex_);
  auto it = pools_.find(node);
  if (it == pools_.end()) {
    it = pools_.emplace(node, std::make_unique<detail::NodePool>(node, options_)).first;
  }
  return *it->second;
}

Result<RedisValue> RedisCluster::run_on(const NodeAddress& node, const Args& argv, bool asking) {
  detail::NodePool& node_pool = pool(node);
  PARLEY_ASSIGN_OR_RETURN(std::unique_ptr<detail::Connection> connection, node_pool.take());
  Result<RedisValue> reply = asking ? connection->call_asking(argv) : connection->call(argv);
  node_pool.give_back(std::move(connection));
  return reply;
}

Result<RedisValue> RedisCluster::command_on_node(const NodeAddress& node, const Args& argv) {
  if (argv.empty()) return Status::error(ErrorCode::kInvalidArgument, "empty redis command");
  return run_on(node, argv, false);
}

void RedisCluster::reload_unless_newer_than(std::chrono::steady_clock::time_point since) {
  {
    std::lock_guard reload_lock(reload_mutex_);
    if (last_reload_ > since) return;
  }
  (void)reload_slot_map();
}

Status RedisCluster::reload_slot_map() {
  std::lock_guard reload_lock(reload_mutex_);
  reload_wanted_ = false;
  last_reload_ = std::chrono::steady_clock::now();
  // Seeds first, then every node the current map knows (a failover may have left only those).
  std::vector<NodeAddress> candidates = seeds_;
  {
    std::shared_lock lock(map_mutex_);
    for (const Shard& shard : map_.shards()) {
      candidates.push_back(shard.master);
      candidates.insert(candidates.end(), shard.replicas.begin(), shard.replicas.end());
    }
  }
  std::vector<NodeAddress> tried;
  for (const NodeAddress& node : candidates) {
    if (std::find(tried.begin(), tried.end(), node) != tried.end()) continue;
    tried.push_back(node);
    Result<RedisValue> reply = run_on(node, {"CLUSTER", "SLOTS"}, false);
    if (!reply.ok()) continue;
    Result<SlotMap> map = SlotMap::from_cluster_slots(*reply, node.host);
    // A node that has just restarted may know no slots yet: ask another one.
    if (!map.ok() || map->covered_slots() == 0) continue;
    std::unique_lock lock(map_mutex_);
    map_ = std::move(map).value();
    ++map_reloads_;
    return Status();
  }
  return Status::error(ErrorCode::kUnavailable, "no redis node answered CLUSTER SLOTS (" +
                                                    std::to_string(tried.size()) + " tried)");
}

SlotMap RedisCluster::slot_map() const {
  std::shared_lock lock(map_mutex_);
  return map_;
}

std::optional<NodeAddress> RedisCluster::master_for_slot(std::uint16_t slot) const {
  std::shared_lock lock(map_mutex_);
  return map_.master_for_slot(slot);
}

ClusterStats RedisCluster::stats() const {
  return ClusterStats{moved_.load(), ask_.load(), retries_.load(), map_reloads_.load()};
}

void RedisCluster::learn(const Redirect& redirect) {
  if (redirect.kind == Redirect::Kind::kAsk) {
    ++ask_;
    return;
  }
  ++moved_;
  {
    std::unique_lock lock(map_mutex_);
    map_.assign(redirect.slot, redirect.target);
  }
  reload_wanted_ = true;
}

void RedisCluster::backoff(int attempt) const {
  auto delay = options_.retry_backoff * (1LL << std::min(attempt - 1, 20));
  std::this_thread::sleep_for(
      std::min<std::chrono::milliseconds>(delay, options_.max_retry_backoff));
}

Result<RedisValue> RedisCluster::command(std::string_view routing_key, const Args& argv) {
  return command_for_slot(key_slot(routing_key), argv);
}

Result<RedisValue> RedisCluster::command_for_slot(std::uint16_t slot, const Args& argv) {
  if (argv.empty()) return Status::error(ErrorCode::kInvalidArgument, "empty redis command");
  if (slot >= kSlotCount) return Status::error(ErrorCode::kInvalidArgument, "slot out of range");
  // A MOVED seen earlier asked for a full reload: other slots have probably moved as well.
  auto started = std::chrono::steady_clock::now();
  if (reload_wanted_.exchange(false)) reload_unless_newer_than(started);

  std::optional<NodeAddress> target = master_for_slot(slot);
  bool asking = false;
  int redirects = 0;
  int attempt = 0;
  for (;;) {
    Status failure;
    if (!target) {
      failure = Status::error(ErrorCode::kUnavailable,
                              "no redis master serves slot " + std::to_string(slot));
    } else {
      Result<RedisValue> reply = run_on(*target, argv, asking);
      asking = false;
      if (reply.ok() && !reply->is_error()) return reply;
      if (reply.ok()) {
        std::string_view prefix = reply->error_prefix();
        if (prefix == "MOVED" || prefix == "ASK") {
          std::optional<Redirect> redirect = parse_redirect(reply->text(), target->host);
          if (!redirect) return reply;
          if (++redirects > options_.max_redirects) {
            return Status::error(ErrorCode::kUnavailable,
                                 "too many redis redirects for slot " + std::to_string(slot));
          }
          learn(*redirect);
          asking = redirect->kind == Redirect::Kind::kAsk;
          target = redirect->target;
          continue;
        }
        if (!retryable(prefix)) return reply;
        failure = reply->error_status(argv[0]).with_context("redis node " + target->to_string());
      } else {
        failure = reply.status();
        if (failure.code() != ErrorCode::kUnavailable && failure.code() != ErrorCode::kTimeout) {
          return failure;
        }
      }
    }
    if (attempt >= options_.max_retries) {
      return Status::error(ErrorCode::kUnavailable,
                           failure.message() + " (after " + std::to_string(attempt) + " retries)");
    }
    ++attempt;
    ++retries_;
    auto failed_at = std::chrono::steady_clock::now();
    backoff(attempt);
    reload_unless_newer_than(failed_at);
    target = master_for_slot(slot);
  }
}

std::vector<Result<RedisValue>> RedisCluster::pipeline(const std::vector<RoutedCommand>& commands) {
  std::vector<Result<RedisValue>> results(
      commands.size(),
      Result<RedisValue>(Status::error(ErrorCode::kInternal, "pipeline entry not run")));
  std::vector<PipelineEntry> entries(commands.size());
  std::vector<std::size_t> pending;
  pending.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    if (commands[i].argv.empty()) {
      results[i] = Status::error(ErrorCode::kInvalidArgument, "empty redis command");
      continue;
    }
    entries[i].slot = key_slot(commands[i].routing_key);
    pending.push_back(i);
  }
  if (pending.empty()) return results;
  if (pending.size() == 1) {  // nothing to batch: the plain path does the same with less work
    results[pending[0]] = command_for_slot(entries[pending[0]].slot, commands[pending[0]].argv);
    return results;
  }
  // As in command_for_slot: a MOVED seen earlier asked for a full reload.
  auto started = std::chrono::steady_clock::now();
  if (reload_wanted_.exchange(false)) reload_unless_newer_than(started);

  int attempt = 0;
  while (!pending.empty()) {
    std::vector<std::size_t> redirected;  // next round at once
    std::vector<std::size_t> retried;     // next round after a backoff and a map reload
    auto fail = [&](std::size_t i, const Status& failure) {
      if (!transient(failure)) {
        results[i] = failure;
        return;
      }
      entries[i].failure = failure;
      retried.push_back(i);
    };

    // Group this round's entries by the node they go to (std::map: one batch per node).
    std::map<NodeAddress, NodeBatch> batches;
    {
      std::shared_lock lock(map_mutex_);
      for (std::size_t i : pending) {
        PipelineEntry& entry = entries[i];
        const bool asking = entry.ask.has_value();  // ASK holds for this one attempt only
        std::optional<NodeAddress> target = asking ? entry.ask : map_.master_for_slot(entry.slot);
        entry.ask.reset();
        if (!target) {
          fail(i, Status::error(ErrorCode::kUnavailable,
                                "no redis master serves slot " + std::to_string(entry.slot)));
          continue;
        }
        NodeBatch& batch = batches[*target];
        batch.indices.push_back(i);
        batch.asking.push_back(asking);
      }
    }

    // Write every batch before reading any reply: the masters work at the same time.
    for (auto& [node, batch] : batches) {
      batch.pool = &pool(node);
      Result<std::unique_ptr<detail::Connection>> taken = batch.pool->take();
      if (!taken.ok()) {
        batch.failure = taken.status();
        continue;
      }
      batch.connection = std::move(taken).value();
      for (std::size_t k = 0; k < batch.indices.size(); ++k) {
        if (batch.asking[k]) batch.connection->append({"ASKING"});
        batch.connection->append(commands[batch.indices[k]].argv);
      }
      batch.failure = batch.connection->flush();
    }

    // Read the replies in order, one batch after the other.
    for (auto& [node, batch] : batches) {
      for (std::size_t k = 0; k < batch.indices.size(); ++k) {
        const std::size_t i = batch.indices[k];
        if (!batch.failure.ok()) {
          fail(i, batch.failure);
          continue;
        }
        std::optional<RedisValue> asking_error;
        if (batch.asking[k]) {
          Result<RedisValue> asked = batch.connection->read_reply();
          if (!asked.ok()) {
            batch.failure = asked.status();
            fail(i, batch.failure);
            continue;
          }
          if (asked->is_error()) asking_error = std::move(asked).value();
        }
        Result<RedisValue> reply = batch.connection->read_reply();
        if (!reply.ok()) {
          batch.failure = reply.status();
          fail(i, batch.failure);
          continue;
        }
        if (asking_error) {  // as call_asking(): the refused ASKING is the answer
          results[i] = std::move(*asking_error);
          continue;
        }
        if (!reply->is_error()) {
          results[i] = std::move(reply);
          continue;
        }
        const std::string_view prefix = reply->error_prefix();
        if (prefix == "MOVED" || prefix == "ASK") {
          std::optional<Redirect> redirect = parse_redirect(reply->text(), node.host);
          if (!redirect) {
            results[i] = std::move(reply);
            continue;
          }
          if (++entries[i].redirects > options_.max_redirects) {
            results[i] =
                Status::error(ErrorCode::kUnavailable, "too many redis redirects for slot " +
                                                           std::to_string(entries[i].slot));
            continue;
          }
          learn(*redirect);
          if (redirect->kind == Redirect::Kind::kAsk) entries[i].ask = redirect->target;
          redirected.push_back(i);
          continue;
        }
        if (retryable(prefix)) {
          fail(i, reply->error_status(commands[i].argv[0])
                      .with_context("redis node " + node.to_string()));
          continue;
        }
        results[i] = std::move(reply);  // an ordinary error reply is the command's answer
      }
      if (batch.connection) batch.pool->give_back(std::move(batch.connection));
    }

    if (!retried.empty()) {
      if (attempt >= options_.max_retries) {
        for (std::size_t i : retried) {
          results[i] =
              Status::error(ErrorCode::kUnavailable, entries[i].failure.message() + " (after " +
                                                         std::to_string(attempt) + " retries)");
        }
        retried.clear();
      } else {
        ++attempt;
        ++retries_;
        auto failed_at = std::chrono::steady_clock::now();
        backoff(attempt);
        reload_unless_newer_than(failed_at);
      }
    }
    pending = std::move(redirected);
    pending.insert(pending.end(), retried.begin(), retried.end());
    std::sort(pending.begin(), pending.end());  // input order within each node's next batch
  }
  return results;
}

Result<RedisValue> RedisCluster::eval(const LuaScript& script, const std::vector<std::string>& keys,
                                      const std::vector<std::string>& args) {
  if (keys.empty()) {
    return Status::error(ErrorCode::kInvalidArgument, "a cluster script needs at least one key");
  }
  std::uint16_t slot = key_slot(keys.front());
  for (const std::string& key : keys) {
    if (key_slot(key) != slot) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "a cluster script's keys must share one slot (use a hash tag)");
    }
  }
  Args argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(script.sha1());
  argv.push_back(std::to_string(keys.size()));
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  PARLEY_ASSIGN_OR_RETURN(RedisValue reply, command_for_slot(slot, argv));
  if (reply.error_prefix() != "NOSCRIPT") return reply;
  // This node has not cached the script yet (new node, restart, failover): EVAL caches it.
  argv[0] = "EVAL";
  argv[1] = script.source();
  return command_for_slot(slot, argv);
}

}  // namespace parley::redis
