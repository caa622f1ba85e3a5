// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/redis/sharded_pubsub.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "connection.h"
#include "parley/redis/crc16.h"

namespace parley::redis {

namespace {

// SPUBLISH's reply as a receiver count.
Result<std::int64_t> receivers(Result<RedisValue> reply) {
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return reply->error_status("SPUBLISH");
  if (!reply->is_integer()) {
    return Status::error(ErrorCode::kMalformedInput, "unexpected SPUBLISH reply");
  }
  return reply->as_integer();
}

}  // namespace

Result<std::int64_t> spublish(RedisCluster& cluster, std::string_view channel,
                              std::string_view message) {
  return receivers(
      cluster.command(channel, {"SPUBLISH", std::string(channel), std::string(message)}));
}

std::vector<Result<std::int64_t>> spublish_many(RedisCluster& cluster,
                                                const std::vector<std::string>& channels,
                                                std::string_view message) {
  std::vector<RoutedCommand> commands;
  commands.reserve(channels.size());
  for (const std::string& channel : channels) {
    commands.push_back({channel, {"SPUBLISH", channel, std::string(message)}});
  }
  std::vector<Result<RedisValue>> replies = cluster.pipeline(commands);
  std::vector<Result<std::int64_t>> out;
  out.reserve(replies.size());
  for (Result<RedisValue>& reply : replies) out.push_back(receivers(std::move(reply)));
  return out;
}

namespace {

using Clock = std::chrono::steady_clock;

enum class State { kPending, kSent, kActive };

struct Channel {
  State state = State::kPending;
  std::optional<NodeAddress> node;  // where it was sent / is active
  bool lost = false;                // was active once and dropped: report when active again
};

}  // namespace

class ShardedSubscriber::Impl {
 public:
  Impl(RedisCluster& cluster, MessageHandler on_message, ResubscribedHandler on_resubscribed,
       SubscriberOptions options)
      : cluster_(cluster),
        on_message_(std::move(on_message)),
        on_resubscribed_(std::move(on_resubscribed)),
        options_(options),
        wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    thread_ = std::thread([this] { run(); });
  }

  ~Impl() {
    stop_ = true;
    wake();
    thread_.join();
    if (wake_fd_ >= 0) close(wake_fd_);
  }

  Status subscribe(std::string_view channel, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    channels_.try_emplace(std::string(channel));
    wake();
    bool active = changed_.wait_for(lock, timeout, [&] {
      auto it = channels_.find(channel);
      return it == channels_.end() || it->second.state == State::kActive;
    });
    auto it = channels_.find(channel);
    if (it == channels_.end()) {
      return Status::error(ErrorCode::kCancelled, "unsubscribed while subscribing");
    }
    if (!active) {
      // Confirmed later by the reader: report it through on_resubscribed, as the caller was told
      // to expect.
      it->second.lost = true;
      return Status::error(ErrorCode::kTimeout,
                           "sharded subscription not confirmed in time (retrying in background)");
    }
    return Status();
  }

  void unsubscribe(std::string_view channel) {
    std::lock_guard lock(mutex_);
    auto it = channels_.find(channel);
    if (it == channels_.end()) return;
    if (it->second.node) unsubscribe_queue_.emplace_back(it->first, *it->second.node);
    channels_.erase(it);
    changed_.notify_all();
    wake();
  }

  bool is_subscribed(std::string_view channel) const {
    std::lock_guard lock(mutex_);
    auto it = channels_.find(channel);
    return it != channels_.end() && it->second.state == State::kActive;
  }

  std::uint64_t resubscriptions() const { return resubscriptions_.load(); }

 private:
  void wake() const {
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
  }

  void run() {
    while (!stop_) {
      reconcile();
      std::vector<pollfd> fds;
      std::vector<NodeAddress> nodes;
      fds.push_back(pollfd{wake_fd_, POLLIN, 0});
      for (const auto& [node, connection] : connections_) {
        fds.push_back(pollfd{connection->fd(), POLLIN, 0});
        nodes.push_back(node);
      }
      int timeout_ms = static_cast<int>(poll_timeout().count());
      int ready = poll(fds.data(), fds.size(), timeout_ms);
      if (ready <= 0) continue;
      if ((fds[0].revents & POLLIN) != 0) {
        std::uint64_t count = 0;
        [[maybe_unused]] ssize_t n = read(wake_fd_, &count, sizeof count);
      }
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents != 0) read_from(nodes[i - 1]);
      }
    }
  }

  std::chrono::milliseconds poll_timeout() {
    std::lock_guard lock(mutex_);
    bool pending = reload_wanted_ || std::any_of(channels_.begin(), channels_.end(), [](auto& c) {
                     return c.second.state == State::kPending;
                   });
    if (!pending) return options_.check_interval;
    auto until =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt_ - Clock::now());
    return std::clamp(until, std::chrono::milliseconds(1), options_.retry_backoff);
  }

  // Marks every channel on `node` pending again and closes the connection.
  void drop_connection(const NodeAddress& node) {
    connections_.erase(node);
    std::lock_guard lock(mutex_);
    for (auto& [name, channel] : channels_) {
      if (channel.node == node) lose(channel);
    }
    reload_wanted_ = true;
    next_attempt_ = Clock::now() + options_.retry_backoff;
  }

  static void lose(Channel& channel) {
    if (channel.state == State::kActive) channel.lost = true;
    channel.state = State::kPending;
    channel.node.reset();
  }

  // Brings the connections in line with the wanted channels and the slot map.
  void reconcile() {
    if (reload_wanted_ && Clock::now() >= next_attempt_) {
      reload_wanted_ = false;
      if (!cluster_.reload_slot_map().ok()) {
        reload_wanted_ = true;
        next_attempt_ = Clock::now() + options_.retry_backoff;
      }
    }
    std::vector<std::pair<std::string, NodeAddress>> unsubscribe;
    std::vector<std::pair<std::string, NodeAddress>> subscribe;
    std::set<NodeAddress> in_use;
    bool unrouted = false;
    {
      std::lock_guard lock(mutex_);
      unsubscribe.swap(unsubscribe_queue_);
      bool may_attempt = Clock::now() >= next_attempt_;
      for (auto& [name, channel] : channels_) {
        std::optional<NodeAddress> owner = cluster_.master_for_slot(key_slot(name));
        if (channel.state != State::kPending && channel.node != owner) {
          // The slot moved since we subscribed: leave the old master, join the new one.
          unsubscribe.emplace_back(name, *channel.node);
          lose(channel);
        }
        if (channel.state == State::kPending && may_attempt) {
          if (!owner) {
            unrouted = true;
            continue;
          }
          channel.state = State::kSent;
          channel.node = owner;
          subscribe.emplace_back(name, *owner);
        }
        if (channel.node) in_use.insert(*channel.node);
      }
    }
    std::set<NodeAddress> touched;
    for (const auto& [name, node] : unsubscribe) {
      auto it = connections_.find(node);
      if (it == connections_.end()) continue;
      it->second->append({"SUNSUBSCRIBE", name});
      touched.insert(node);
    }
    bool failed = unrouted;
    for (const auto& [name, node] : subscribe) {
      auto it = connections_.find(node);
      if (it == connections_.end()) {
        auto opened = detail::Connection::open(node, cluster_.options().connect_timeout,
                                               cluster_.options().command_timeout);
        if (!opened.ok()) {
          failed = true;
          std::lock_guard lock(mutex_);
          auto channel = channels_.find(name);
          if (channel != channels_.end() && channel->second.node == node) {
            channel->second.state = State::kPending;
            channel->second.node.reset();
          }
          continue;
        }
        it = connections_.emplace(node, std::move(opened).value()).first;
      }
      it->second->append({"SSUBSCRIBE", name});
      touched.insert(node);
    }
    for (const NodeAddress& node : touched) {
      auto it = connections_.find(node);
      if (it != connections_.end() && !it->second->flush().ok()) {
        drop_connection(node);
        failed = true;
      }
    }
    // Connections no channel needs any more.
    for (auto it = connections_.begin(); it != connections_.end();) {
      it = in_use.contains(it->first) ? std::next(it) : connections_.erase(it);
    }
    if (failed) {
      std::lock_guard lock(mutex_);
      reload_wanted_ = true;
      next_attempt_ = Clock::now() + options_.retry_backoff;
    }
  }

  void read_from(const NodeAddress& node) {
    auto it = connections_.find(node);
    if (it == connections_.end()) return;
    detail::Connection& connection = *it->second;
    if (!connection.read_available().ok()) {
      drop_connection(node);
      return;
    }
    for (;;) {
      Result<std::optional<RedisValue>> reply = connection.next_buffered_reply();
      if (!reply.ok()) {
        drop_connection(node);
        return;
      }
      if (!reply->has_value()) return;
      if (!handle(node, **reply)) {
        drop_connection(node);
        return;
      }
    }
  }

  // One reply or push from `node`. False when the connection should be dropped: an error reply
  // (for instance MOVED to an SSUBSCRIBE sent on a stale map) does not say which channel it is
  // about, so the simple, safe answer is to re-make every subscription of that connection.
  bool handle(const NodeAddress& node, const RedisValue& reply) {
    if (!reply.is_array() || reply.elements().size() < 3 || !reply.elements()[0].is_string() ||
        !reply.elements()[1].is_string()) {
      return false;
    }
    const std::string& kind = reply.elements()[0].text();
    const std::string& name = reply.elements()[1].text();
    if (kind == "smessage") {
      if (!reply.elements()[2].is_string()) return false;
      {
        std::lock_guard lock(mutex_);
        auto channel = channels_.find(name);
        if (channel == channels_.end() || channel->second.node != node) return true;  // stale
      }
      if (on_message_) on_message_(name, reply.elements()[2].text());
      return true;
    }
    if (kind == "ssubscribe") {
      bool resubscribed = false;
      {
        std::lock_guard lock(mutex_);
        auto channel = channels_.find(name);
        if (channel == channels_.end() || channel->second.node != node ||
            channel->second.state != State::kSent) {
          return true;
        }
        channel->second.state = State::kActive;
        resubscribed = channel->second.lost;
        channel->second.lost = false;
        changed_.notify_all();
      }
      if (resubscribed) {
        ++resubscriptions_;
        if (on_resubscribed_) on_resubscribed_(name);
      }
      return true;
    }
    if (kind == "sunsubscribe") {
      // Ours (after unsubscribe() or a move) find no channel on this node. Otherwise the server
      // dropped it: its slot was migrated away.
      std::lock_guard lock(mutex_);
      auto channel = channels_.find(name);
      if (channel != channels_.end() && channel->second.node == node) {
        lose(channel->second);
        reload_wanted_ = true;
      }
      return true;
    }
    return true;  // other pushes (pong) need nothing
  }

  RedisCluster& cluster_;
  const MessageHandler on_message_;
  const ResubscribedHandler on_resubscribed_;
  const SubscriberOptions options_;
  const int wake_fd_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> resubscriptions_{0};

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, Channel, std::less<>> channels_;
  std::vector<std::pair<std::string, NodeAddress>> unsubscribe_queue_;
  std::atomic<bool> reload_wanted_{false};
  Clock::time_point next_attempt_{};

  // Reader thread only.
  std::map<NodeAddress, std::unique_ptr<detail::Connection>> connections_;
  std::thread thread_;
};

ShardedSubscriber::ShardedSubscriber(RedisCluster& cluster, MessageHandler on_message,
                                     ResubscribedHandler on_resubscribed, SubscriberOptions options)
    : impl_(std::make_unique<Impl>(cluster, std::move(on_message), std::move(on_resubscribed),
                                   options)) {}

ShardedSubscriber::~ShardedSubscriber() = default;

Status ShardedSubscriber::subscribe(std::string_view channel, std::chrono::milliseconds timeout) {
  return impl_->subscribe(channel, timeout);
}

void ShardedSubscriber::unsubscribe(std::string_view channel) {
  impl_->unsubscribe(channel);
}

bool ShardedSubscriber::is_subscribed(std::string_view channel) const {
  return impl_->is_subscribed(channel);
}

std::uint64_t ShardedSubscriber::resubscriptions() const {
  return impl_->resubscriptions();
}

}  // namespace parley::redis
