// SPDX-License-Identifier: AGPL-3.0-or-later
#include "loopback_gateway.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <system_error>
#include <utility>

#include "parley/proto/frame.h"
#include "parley/util/clock.h"

namespace parley::net::testing {

RawSocket::RawSocket(bool listen) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t size = sizeof address;
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      (listen && ::listen(fd_, 8) != 0) ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    return;
  }
  port_ = ntohs(address.sin_port);
}

RawSocket::~RawSocket() {
  if (fd_ >= 0) ::close(fd_);
}

TempDir::TempDir(std::string_view prefix, TempDirAccess access) {
  std::string pattern =
      (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) return;
  path_ = pattern;
  if (access == TempDirAccess::kEveryone) {
    std::error_code ignored;
    std::filesystem::permissions(path_, std::filesystem::perms::all, ignored);
  }
}

TempDir::~TempDir() {
  std::error_code ignored;
  if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
}

LoopbackGateway::LoopbackGateway(LoopbackGatewayOptions options) : options_(std::move(options)) {}

LoopbackGateway::~LoopbackGateway() {
  stop();
}

Status LoopbackGateway::start() {
  PARLEY_ASSIGN_OR_RETURN(
      auto files, gateway::write_self_signed_certificate(dir_.path(), options_.certificate));
  cert_file_ = files.cert_file;
  server::ServerCoreConfig core_config;
  core_config.pow_difficulty_bits = 0;
  core_config.worker_threads = 2;
  core_config.maintenance_interval = std::chrono::seconds(0);
  core_config.max_pending_requests_per_connection = options_.max_pending_requests_per_connection;
  core_ = std::make_unique<server::ServerCore>(store_, blobs_, SystemClock::instance(), metrics_,
                                               core_config);
  gateway::GatewayConfig config;
  config.cert_file = files.cert_file;
  config.key_file = files.key_file;
  config.listen_port = 0;
  config.admin_enabled = false;
  config.threads = 2;
  gateway_ = std::make_unique<gateway::Gateway>(config, *core_, metrics_);
  return gateway_->start();
}

void LoopbackGateway::stop() {
  if (gateway_) gateway_->stop(std::chrono::seconds(2));
  if (core_) core_->shutdown();
}

std::string fingerprint_of(const std::string& cert_file) {
  auto fingerprint = gateway::certificate_fingerprint(cert_file);
  EXPECT_TRUE(fingerprint.ok()) << fingerprint.status().to_string();
  return fingerprint.ok() ? *fingerprint : std::string();
}

Bytes ping_frame(std::uint64_t id) {
  wire::Request request;
  request.set_id(id);
  request.mutable_ping();
  return proto::encode_frame(proto::request_frame(std::move(request)));
}

void expect_pong(FrameChannel& channel, std::uint64_t id) {
  auto frame = channel.receive(std::chrono::seconds(10));
  ASSERT_TRUE(frame.ok()) << "ping " << id << ": " << frame.status().to_string();
  auto decoded = proto::decode_server_frame(*frame, proto::Limits{});
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  ASSERT_TRUE(decoded->has_response());
  EXPECT_EQ(decoded->response().id(), id);
  EXPECT_EQ(decoded->response().status(), 0u) << decoded->response().message();
  ASSERT_TRUE(decoded->response().has_ping());
  EXPECT_GT(decoded->response().ping().server_time_ms(), 0);
}

void expect_ping_works(FrameChannel& channel, std::uint64_t id) {
  ASSERT_TRUE(channel.send(ping_frame(id)).ok());
  expect_pong(channel, id);
  if (::testing::Test::HasFatalFailure()) return;
  // The counter proxy_channel_test.cpp relies on: every path must count what it received.
  EXPECT_GT(channel.bytes_received(), 0u);
}

}  // namespace parley::net::testing
