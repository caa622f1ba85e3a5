// SPDX-License-Identifier: AGPL-3.0-or-later
#include "loopback_server.h"

#include <condition_variable>
#include <deque>
#include <mutex>

namespace parley::client::testing {

namespace {

// The gateway's half: frames from the core are queued for the client to receive.
class QueueSink final : public server::ConnectionSink {
 public:
  bool send(std::shared_ptr<const Bytes> frame) override {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    frames_.push_back(*frame);
    changed_.notify_all();
    return true;
  }
  void close(ErrorCode) override {
    std::lock_guard lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }
  Result<Bytes> receive(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return !frames_.empty() || closed_; });
    if (!frames_.empty()) {
      Bytes frame = std::move(frames_.front());
      frames_.pop_front();
      return frame;
    }
    if (closed_) return Status::error(ErrorCode::kConnectionClosed, "the server closed");
    return Status::error(ErrorCode::kTimeout, "no frame");
  }
  bool closed() {
    std::lock_guard lock(mutex_);
    return closed_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Bytes> frames_;
  bool closed_ = false;
};

class LoopbackChannel final : public net::FrameChannel {
 public:
  LoopbackChannel(server::ConnectionAcceptor& acceptor, const std::atomic<bool>& reachable,
                  const std::atomic<std::uint64_t>& generation)
      : sink_(std::make_shared<QueueSink>()),
        reachable_(reachable),
        generation_(generation),
        born_(generation.load()) {
    handler_ = acceptor.accept(sink_);
  }
  ~LoopbackChannel() override { close(); }

  Status send(ByteView frame) override {
    if (!alive()) return Status::error(ErrorCode::kConnectionClosed, "the network is gone");
    handler_->on_frame(frame);
    return Status();
  }
  Result<Bytes> receive(std::chrono::milliseconds timeout) override {
    if (!alive()) return Status::error(ErrorCode::kConnectionClosed, "the network is gone");
    return sink_->receive(timeout);
  }
  void close() override {
    if (handler_) {
      handler_->on_close();
      handler_.reset();
    }
    sink_->close(ErrorCode::kConnectionClosed);
  }

 private:
  bool alive() {
    if (!handler_) return false;
    if (!reachable_ || generation_ != born_) {
      close();
      return false;
    }
    return true;
  }

  std::shared_ptr<QueueSink> sink_;
  std::unique_ptr<server::ConnectionHandler> handler_;
  const std::atomic<bool>& reachable_;
  const std::atomic<std::uint64_t>& generation_;
  std::uint64_t born_;
};

server::ServerCoreConfig test_config() {
  server::ServerCoreConfig config;
  config.pow_difficulty_bits = 4;  // a few hashes: the real 20 bits is for real servers
  config.worker_threads = 2;
  config.maintenance_interval = std::chrono::seconds(0);
  return config;
}

}  // namespace

LoopbackServer::LoopbackServer(const Clock& clock)
    : core_(std::make_unique<server::ServerCore>(store_, blobs_, clock, metrics_, test_config())) {}

LoopbackServer::~LoopbackServer() {
  core_->shutdown();
}

void LoopbackServer::set_reachable(bool reachable) {
  if (!reachable) ++generation_;
  reachable_ = reachable;
}

Connector LoopbackServer::connector() {
  return [this](const std::string&,
                const net::TlsTrust&) -> Result<std::unique_ptr<net::FrameChannel>> {
    if (!reachable_) return Status::error(ErrorCode::kUnavailable, "the server is unreachable");
    ++connections_;
    return std::unique_ptr<net::FrameChannel>(
        std::make_unique<LoopbackChannel>(*core_, reachable_, generation_));
  };
}

}  // namespace parley::client::testing
