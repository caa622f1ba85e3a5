// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// A small blocking client for the integration tests: TLS WebSocket (like a Parley client), plain
// HTTPS requests (like a browser or a probe) and plain HTTP (like a metrics scraper). Every call
// has a deadline, so a broken server fails a test instead of hanging it. Beast lives only in
// test_client.cpp.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "parley/util/bytes.h"
#include "parley/util/status.h"

namespace parley::testing {

using namespace std::chrono_literals;

struct ClientOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string path = "/api/v1/stream";
  // Offer only TLS 1.2 (to check that the server refuses it).
  bool tls12_only = false;
  // SO_RCVBUF before connecting; 0 keeps the default. Small values make a slow consumer quickly.
  int receive_buffer_bytes = 0;
  std::chrono::milliseconds timeout = 5s;
  std::size_t max_message_bytes = 16u << 20;
};

class TlsWebSocketClient {
 public:
  explicit TlsWebSocketClient(ClientOptions options);
  ~TlsWebSocketClient();
  TlsWebSocketClient(const TlsWebSocketClient&) = delete;
  TlsWebSocketClient& operator=(const TlsWebSocketClient&) = delete;

  // TCP connect, TLS handshake (the server's certificate is not verified: tests use fresh
  // self-signed ones) and the WebSocket upgrade. kUnavailable with the reason on failure.
  Status connect();
  // TCP connect only (for handshake-timeout tests).
  Status connect_tcp_only();

  Status send(ByteView frame);
  // The next binary message. kConnectionClosed once the server closed (see close_code()),
  // kTimeout when nothing arrived in time, kUnavailable on a broken connection.
  Result<Bytes> receive();
  Result<Bytes> receive(std::chrono::milliseconds timeout);

  // The WebSocket close code the server sent (1000 normal, 1001 going away, 1009 too big), or 0.
  int close_code() const;
  // Sends a close (normal) and waits for the server's answer.
  Status close();
  // Drops the TCP connection without a WebSocket close.
  void abort();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// One GET over TLS 1.3 (like a browser), with the given extra headers.
Result<HttpResponse> https_get(const std::string& host, std::uint16_t port,
                               const std::string& target,
                               const std::map<std::string, std::string>& headers = {},
                               std::chrono::milliseconds timeout = 5s);

// One GET over plain HTTP (the admin listener).
Result<HttpResponse> http_get(const std::string& host, std::uint16_t port,
                              const std::string& target, std::chrono::milliseconds timeout = 5s);

}  // namespace parley::testing
