// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The real server core (ServerCore over a MemoryStore) in the test process, reached through
// FrameChannels without sockets: each connect() gets its own ConnectionHandler exactly as the
// gateway would create one. Fast enough to drive thousands of messages through the whole client
// core; tests/e2e runs the same flows against the real parleyd over TLS.

#include <atomic>
#include <memory>
#include <string>

#include "parley/client/client.h"
#include "parley/net/frame_channel.h"
#include "parley/server/metrics.h"
#include "parley/server/server_core.h"
#include "parley/store/memory_blob_store.h"
#include "parley/store/memory_store.h"
#include "parley/util/clock.h"

namespace parley::client::testing {

class LoopbackServer {
 public:
  explicit LoopbackServer(const Clock& clock = SystemClock::instance());
  ~LoopbackServer();

  // A Connector for ClientOptions. While `reachable()` is false, connecting fails with
  // kUnavailable and every open channel is closed, like a network that went away.
  Connector connector();
  void set_reachable(bool reachable);
  bool reachable() const { return reachable_; }
  std::uint64_t connections() const { return connections_; }

  store::MemoryStore& store() { return store_; }
  store::MemoryBlobStore& blobs() { return blobs_; }
  // Runs the core's maintenance now (purges expired messages and attachments): tests that move a
  // FakeClock past a retention call it instead of waiting for the maintenance thread.
  Status run_maintenance() { return core_->run_maintenance(); }

 private:
  store::MemoryStore store_;
  store::MemoryBlobStore blobs_;
  server::Metrics metrics_;
  std::unique_ptr<server::ServerCore> core_;
  std::atomic<bool> reachable_{true};
  std::atomic<std::uint64_t> connections_{0};
  std::atomic<std::uint64_t> generation_{0};  // bumps when the network goes away
};

}  // namespace parley::client::testing
