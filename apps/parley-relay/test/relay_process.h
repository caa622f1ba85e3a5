// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Test helpers for parley-relay, on plain POSIX sockets and OpenSSL (no Asio, so this compiles in
// seconds): the relay as a child process, a tiny plain-HTTP site, a TCP listener that only counts,
// a recording TCP forwarder, and blocking one-shot exchanges with deadlines.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "parley/util/status.h"

namespace parley::relay::testing {

using namespace std::chrono_literals;

std::uint16_t free_port();

// The parley-relay binary under test, started with --listen/--admin on free loopback ports,
// --data-dir, and `args`. Stopped by PID (SIGTERM, then SIGKILL).
class RelayProcess {
 public:
  RelayProcess(std::string data_dir, std::vector<std::string> args);
  ~RelayProcess();
  RelayProcess(const RelayProcess&) = delete;
  RelayProcess& operator=(const RelayProcess&) = delete;

  // Starts and waits until GET /healthz on the admin port answers 200.
  Status start(std::chrono::milliseconds timeout = 20s);
  int terminate(std::chrono::milliseconds timeout = 10s);  // exit code, -1 on a signal/timeout

  std::uint16_t port() const { return port_; }
  std::uint16_t admin_port() const { return admin_port_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string log() const;
  // `parley-relay link` for this data dir (public host 127.0.0.1, this port), first line.
  Result<std::string> link() const;
  // One counter or gauge from /metrics (a label set included in `name`), -1 when missing.
  long long metric(const std::string& name) const;

 private:
  std::string data_dir_;
  std::vector<std::string> args_;
  std::uint16_t port_ = 0;
  std::uint16_t admin_port_ = 0;
  pid_t pid_ = -1;
};

std::string relay_binary();

// Writes `request` over plain TCP and reads until the peer closes (or `timeout`).
Result<std::string> tcp_exchange(std::uint16_t port, const std::string& request,
                                 std::chrono::milliseconds timeout = 10s);
// The same inside TLS (the server's certificate is not checked: this is a prober).
Result<std::string> tls_exchange(std::uint16_t port, const std::string& request,
                                 std::chrono::milliseconds timeout = 10s,
                                 const std::string& sni = {});
// Plain HTTP GET, the whole raw response.
Result<std::string> http_get(std::uint16_t port, const std::string& target);

// A tiny plain-HTTP site: per connection, reads up to the first blank line, answers 200 with the
// request line echoed for "GET …", 400 otherwise, and closes. Deterministic: no Date header.
class TinySite {
 public:
  TinySite();
  ~TinySite();
  std::uint16_t port() const { return port_; }
  int connections() const { return connections_.load(); }

 private:
  void run();
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<int> connections_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Accepts TCP connections, counts them and keeps them open until destroyed (a stand-in upstream
// that must see no connection).
class CountingListener {
 public:
  CountingListener();
  ~CountingListener();
  std::uint16_t port() const { return port_; }
  int connections() const { return connections_.load(); }

 private:
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<int> connections_{0};
  std::atomic<bool> stop_{false};
  std::vector<int> accepted_;
  std::thread thread_;
};

// Forwards one TCP connection to `target_port` and records the bytes the client sent: a wire
// capture of what a censor on the path sees.
class RecordingForwarder {
 public:
  explicit RecordingForwarder(std::uint16_t target_port);
  ~RecordingForwarder();
  std::uint16_t port() const { return port_; }
  std::string client_bytes() const;

 private:
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::uint16_t target_port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::string client_bytes_;
  std::thread thread_;
};

// A TLS client that stays connected: for holding a connection slot and for the raw relay
// handshake.
class TlsConnection {
 public:
  TlsConnection() = default;
  ~TlsConnection();
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;
  Status connect(std::uint16_t port, std::chrono::milliseconds timeout = 10s);
  Status write(const std::string& bytes);
  // Reads whatever arrives within `timeout` until `enough` says stop; kConnectionClosed on EOF.
  Result<std::string> read_some(std::chrono::milliseconds timeout = 10s);

 private:
  int fd_ = -1;
  void* ctx_ = nullptr;
  void* ssl_ = nullptr;
};

}  // namespace parley::relay::testing
