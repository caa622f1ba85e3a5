// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// parleyd's parts without the process, for the transport tests: the gateway (TLS 1.3 WebSocket)
// in front of ServerCore on a MemoryStore and MemoryBlobStore, listening on a free 127.0.0.1 port
// with a self-signed certificate generated for the run. Shared by websocket_channel_test.cpp and
// proxy_channel_test.cpp, with the ping helpers both use to prove a channel really carries
// requests.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "parley/gateway/certificate.h"
#include "parley/gateway/gateway.h"
#include "parley/net/frame_channel.h"
#include "parley/server/metrics.h"
#include "parley/server/server_core.h"
#include "parley/store/memory_blob_store.h"
#include "parley/store/memory_store.h"
#include "parley/util/bytes.h"
#include "parley/util/status.h"

namespace parley::net::testing {

// A loopback TCP socket, listening or just bound (a port that was free a moment ago), closed on
// destruction: a silent server (the kernel completes TCP, nobody answers) or a refused port.
// port() is 0 when it could not be set up.
class RawSocket {
 public:
  explicit RawSocket(bool listen);
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// Who may enter a TempDir. kEveryone is for proxies that drop privileges (dante, tinyproxy) and
// must still read the configuration the test writes for them.
enum class TempDirAccess { kOwner, kEveryone };

// A fresh directory under the system temp directory, removed with everything in it on
// destruction. path() is empty when it could not be created.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "parley-net",
                   TempDirAccess access = TempDirAccess::kOwner);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct LoopbackGatewayOptions {
  gateway::SelfSignedOptions certificate;
  // The production default unless a test pipelines more requests than that on one connection.
  std::uint32_t max_pending_requests_per_connection =
      server::ServerCoreConfig{}.max_pending_requests_per_connection;
};

class LoopbackGateway {
 public:
  explicit LoopbackGateway(LoopbackGatewayOptions options = {});
  ~LoopbackGateway();
  LoopbackGateway(const LoopbackGateway&) = delete;
  LoopbackGateway& operator=(const LoopbackGateway&) = delete;

  // Writes the certificate, starts the core and the gateway; port() is valid once this is ok.
  Status start();
  // Closes every connection gracefully ("going away") and shuts the core down. Idempotent.
  void stop();

  std::uint16_t port() const { return gateway_->listen_port(); }
  std::size_t open_connections() const { return gateway_->open_connections(); }
  const std::string& cert_file() const { return cert_file_; }

 private:
  LoopbackGatewayOptions options_;
  TempDir dir_;
  std::string cert_file_;
  store::MemoryStore store_;
  store::MemoryBlobStore blobs_;
  server::Metrics metrics_;
  std::unique_ptr<server::ServerCore> core_;
  std::unique_ptr<gateway::Gateway> gateway_;
};

// The certificate's "SHA256:AB:CD:..." fingerprint, as a client pins it; "" (and a test failure)
// when it cannot be read.
std::string fingerprint_of(const std::string& cert_file);

// An encoded ping request with request id `id`.
Bytes ping_frame(std::uint64_t id);

// Expects the next frame on `channel` to be the successful answer to ping `id`.
void expect_pong(FrameChannel& channel, std::uint64_t id);

// One real request/response round trip through whatever path the channel took.
void expect_ping_works(FrameChannel& channel, std::uint64_t id);

}  // namespace parley::net::testing
