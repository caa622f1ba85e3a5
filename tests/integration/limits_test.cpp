// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Abuse limits and the runtime proof-of-work change through the real parleyd: per-IP connection
// limits at the gateway's accept (close 1013 "rate_limited"), and PUT /admin/pow-difficulty on
// the admin listener.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "parley/crypto/xeddsa.h"
#include "parley/proto/pow.h"
#include "parley/proto/signed_messages.h"
#include "parleyd_process.h"
#include "proto_client.h"
#include "test_client.h"
#include "test_support.h"

namespace parley::testing {
namespace {

constexpr int kTryAgainLater = 1013;

struct PlainResponse {
  int status = 0;
  std::string body;
};

// One HTTP/1.1 request over plain TCP to the loopback admin listener (test_client.h has GET only).
PlainResponse http_request(std::uint16_t port, const std::string& method, const std::string& target,
                           const std::string& body) {
  PlainResponse result;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return result;
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return result;
  }
  const std::string request = method + " " + target +
                              " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                              "Content-Type: text/plain\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return result;
  }
  std::string reply;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0;) reply.append(buffer, n);
  ::close(fd);
  if (reply.rfind("HTTP/1.1 ", 0) == 0) result.status = std::atoi(reply.c_str() + 9);
  if (auto end = reply.find("\r\n\r\n"); end != std::string::npos)
    result.body = reply.substr(end + 4);
  return result;
}

wire::Request ping() {
  wire::Request r;
  r.mutable_ping();
  return r;
}

class LimitsTest : public ::testing::Test {
 protected:
  void start(std::vector<std::string> extra_config) {
    server_ = std::make_unique<ParleydProcess>(dir_.path(), std::move(extra_config));
    Status started = server_->start();
    ASSERT_TRUE(started.ok()) << started.to_string();
  }
  void TearDown() override {
    if (server_ && server_->running()) {
      EXPECT_EQ(server_->terminate(), 0) << server_->log();
    }
  }

  // A connection the core kept: it answers a ping.
  std::unique_ptr<ProtoClient> open_client() const {
    auto c = std::make_unique<ProtoClient>(server_->port());
    EXPECT_TRUE(c->connect().ok());
    auto pong = c->call(ping());
    EXPECT_TRUE(pong.ok()) << pong.status().to_string();
    return c;
  }

  // A connection the limit refused: the upgrade succeeds, then close 1013 before any frame.
  void expect_refused() const {
    ProtoClient c(server_->port());
    ASSERT_TRUE(c.connect().ok());
    auto first = c.ws().receive();
    EXPECT_EQ(first.status().code(), ErrorCode::kConnectionClosed) << first.status().to_string();
    EXPECT_EQ(c.ws().close_code(), kTryAgainLater);
  }

  std::string metrics() const {
    auto response = http_get("127.0.0.1", server_->admin_port(), "/metrics");
    return response.ok() ? response->body : std::string();
  }

  TempDir dir_;
  std::unique_ptr<ParleydProcess> server_;
};

TEST_F(LimitsTest, ConcurrentConnectionsPerIpAreCappedAndFreedOnClose) {
  start({"max_connections_per_ip = 2", "connections_per_ip_per_minute = 0"});
  auto first = open_client();
  auto second = open_client();
  expect_refused();
  EXPECT_NE(metrics().find("parley_rate_limited_total{limit=\"concurrent_connections_per_ip\"} 1"),
            std::string::npos);

  ASSERT_TRUE(first->ws().close().ok());
  first.reset();
  // The server sees the close asynchronously: poll for the freed place (bounded).
  bool accepted = false;
  for (int attempt = 0; attempt < 50 && !accepted; ++attempt) {
    ProtoClient c(server_->port());
    ASSERT_TRUE(c.connect().ok());
    accepted = c.call(ping(), std::chrono::seconds(2)).ok();
    if (!accepted) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(accepted);
}

TEST_F(LimitsTest, NewConnectionsPerIpPerMinuteAreLimited) {
  start({"connections_per_ip_per_minute = 3"});
  for (int i = 0; i < 3; ++i) open_client();  // each closes again at once
  expect_refused();
  EXPECT_NE(metrics().find("parley_rate_limited_total{limit=\"connections_per_ip\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics().find("parley_rate_limiter_keys{limit=\"connections_per_ip\"} 1"),
            std::string::npos);
}

TEST_F(LimitsTest, ProofOfWorkDifficultyChangesAtRuntime) {
  start({});  // the harness's pow_difficulty = 0
  EXPECT_NE(metrics().find("parley_pow_difficulty_bits 0\n"), std::string::npos);

  // A challenge handed out before the change keeps its difficulty.
  ProtoClient early(server_->port());
  ASSERT_TRUE(early.connect().ok());
  wire::Request challenge_request;
  challenge_request.mutable_registration_challenge();
  auto challenge = early.call(challenge_request);
  ASSERT_TRUE(challenge.ok());
  ASSERT_EQ(challenge->registration_challenge().difficulty_bits(), 0u);

  const std::uint16_t admin = server_->admin_port();
  EXPECT_EQ(http_request(admin, "PUT", "/admin/pow-difficulty", "99").status, 400);
  EXPECT_EQ(http_request(admin, "PUT", "/admin/pow-difficulty", "ten").status, 400);
  EXPECT_EQ(http_request(admin, "POST", "/admin/pow-difficulty", "10").status, 405);
  PlainResponse changed = http_request(admin, "PUT", "/admin/pow-difficulty", "10\n");
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_NE(metrics().find("parley_pow_difficulty_bits 10\n"), std::string::npos);
  EXPECT_NE(server_->log().find("proof of work changed from 0 to 10 bits"), std::string::npos);

  ProtoClient late(server_->port());
  ASSERT_TRUE(late.connect().ok());
  auto late_challenge = late.call(challenge_request);
  ASSERT_TRUE(late_challenge.ok());
  EXPECT_EQ(late_challenge->registration_challenge().difficulty_bits(), 10u);
  auto registered = late.register_account();  // solves the 10 bits the server asked for
  EXPECT_TRUE(registered.ok()) << registered.status().to_string();

  // The early challenge still signs up with no work at all.
  const std::string& bytes = challenge->registration_challenge().challenge();
  crypto::KeyPair identity = crypto::KeyPair::generate();
  Bytes key = identity.public_key.serialize();
  Bytes nonce = proto::pow_solve(as_bytes(bytes), 0);
  Bytes signature = crypto::xeddsa_sign(identity.private_key,
                                        proto::registration_signed_bytes(as_bytes(bytes), key));
  wire::Request create;
  auto* body = create.mutable_create_account();
  body->set_identity_key(key.data(), key.size());
  body->set_registration_id(1);
  body->set_challenge(bytes);
  body->set_pow_nonce(nonce.data(), nonce.size());
  body->set_signature(signature.data(), signature.size());
  auto created = early.call(create);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->status(), 0u) << created->message();
}

}  // namespace
}  // namespace parley::testing
