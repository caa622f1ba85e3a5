// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// A TCP forwarder for tests that behaves like a censor who cuts flows: it listens on 127.0.0.1,
// forwards each connection to 127.0.0.1:<target>, and closes both sides once `limit_bytes` went
// through in either direction (the bytes up to the limit are delivered, nothing after). It then
// accepts the next connection. TLS passes through untouched, so clients keep pinning the real
// server's certificate.
//
// In freeze mode it is the censor of CENSORSHIP.md's "16–20 KB freeze" instead: once
// `limit_bytes` went from the server to the client, later server bytes are silently discarded
// while the connection stays open (no reset, no FIN) and the client's bytes still go through.

#include <atomic>
#include <cstdint>
#include <thread>

#include "parley/util/status.h"

namespace parley::e2e {

class DroppingProxy {
 public:
  enum class Mode { kCut, kFreeze };
  // limit_bytes 0: never cut.
  DroppingProxy(std::uint16_t target_port, std::uint64_t limit_bytes, Mode mode = Mode::kCut);
  ~DroppingProxy();  // stops and closes everything
  DroppingProxy(const DroppingProxy&) = delete;
  DroppingProxy& operator=(const DroppingProxy&) = delete;

  // Binds an ephemeral port on 127.0.0.1 and starts forwarding on a thread.
  Status start();
  std::uint16_t port() const { return port_; }
  std::uint64_t connections() const { return connections_; }
  std::uint64_t cuts() const { return cuts_; }  // connections closed (or frozen) at the limit

 private:
  void run();

  std::uint16_t target_port_;
  std::uint64_t limit_bytes_;
  Mode mode_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  std::thread thread_;
  std::atomic<std::uint64_t> connections_{0};
  std::atomic<std::uint64_t> cuts_{0};
};

}  // namespace parley::e2e
