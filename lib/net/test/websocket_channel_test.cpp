// SPDX-License-Identifier: AGPL-3.0-or-later
//
// The direct transport against a real server started in-process: the gateway (TLS 1.3 WebSocket)
// in front of ServerCore on a MemoryStore, on 127.0.0.1 with a freshly generated self-signed
// certificate. Also against sockets that misbehave: nothing listening, and a listener that
// accepts TCP but never speaks TLS.

#include "parley/net/websocket_channel.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "loopback_gateway.h"
#include "parley/gateway/certificate.h"

namespace parley::net {
namespace {

using SteadyClock = std::chrono::steady_clock;

using testing::expect_ping_works;
using testing::expect_pong;
using testing::fingerprint_of;
using testing::LoopbackGateway;
using testing::LoopbackGatewayOptions;
using testing::ping_frame;
using testing::RawSocket;
using testing::TempDir;

// The client pipelines 200 pings in ManyFramesBackToBackArriveInOrder.
LoopbackGatewayOptions gateway_options(gateway::SelfSignedOptions certificate = {}) {
  LoopbackGatewayOptions options;
  options.certificate = std::move(certificate);
  options.max_pending_requests_per_connection = 1024;
  return options;
}

class WebSocketChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status started = server_.start();
    ASSERT_TRUE(started.ok()) << started.to_string();
  }

  WebSocketChannelOptions pinned_options() const {
    WebSocketChannelOptions options;
    options.host = "127.0.0.1";
    options.port = server_.port();
    options.trust.pinned_sha256 = fingerprint_of(server_.cert_file());
    options.connect_timeout = std::chrono::seconds(10);
    return options;
  }

  std::unique_ptr<FrameChannel> connect(const WebSocketChannelOptions& options) {
    auto channel = connect_websocket(options);
    EXPECT_TRUE(channel.ok()) << channel.status().to_string();
    return channel.ok() ? std::move(channel).value() : nullptr;
  }

  LoopbackGateway server_{gateway_options()};
};

TEST_F(WebSocketChannelTest, PinnedCertificateCarriesAPing) {
  auto channel = connect(pinned_options());
  ASSERT_NE(channel, nullptr);
  expect_ping_works(*channel, 7);
}

TEST_F(WebSocketChannelTest, PinIsAcceptedInAnyWrittenForm) {
  // The server prints "SHA256:AB:CD:..."; people also paste bare hex, in either case.
  std::string bare;
  for (char c : fingerprint_of(server_.cert_file()).substr(7)) {
    if (c != ':') bare += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  ASSERT_EQ(bare.size(), 64u);
  WebSocketChannelOptions options = pinned_options();
  options.trust.pinned_sha256 = bare;
  auto channel = connect(options);
  ASSERT_NE(channel, nullptr);
  expect_ping_works(*channel, 1);
}

TEST_F(WebSocketChannelTest, WrongPinIsUntrustedAndNamesTheServersFingerprint) {
  WebSocketChannelOptions options = pinned_options();
  options.trust.pinned_sha256 = std::string(64, 'a');
  auto channel = connect_websocket(options);
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(channel.status().code(), ErrorCode::kCertificateUntrusted);
  EXPECT_NE(channel.status().message().find(fingerprint_of(server_.cert_file())), std::string::npos)
      << channel.status().message();
  EXPECT_NE(channel.status().message().find("does not match the pinned one"), std::string::npos);
}

TEST_F(WebSocketChannelTest, MalformedPinIsAnInvalidArgument) {
  WebSocketChannelOptions options = pinned_options();
  options.trust.pinned_sha256 = "AB:CD";
  auto channel = connect_websocket(options);
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(channel.status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(WebSocketChannelTest, CaFileWithTheServersOwnCertificateIsTrusted) {
  WebSocketChannelOptions options = pinned_options();
  options.trust.pinned_sha256.clear();
  options.trust.ca_file = server_.cert_file();
  for (const char* host : {"127.0.0.1", "localhost"}) {  // an IP SAN and a DNS SAN
    options.host = host;
    auto channel = connect(options);
    ASSERT_NE(channel, nullptr) << host;
    expect_ping_works(*channel, 3);
  }
}

TEST_F(WebSocketChannelTest, CaFileOfAnotherCertificateIsUntrusted) {
  TempDir other;
  auto files = gateway::write_self_signed_certificate(other.path());
  ASSERT_TRUE(files.ok());
  WebSocketChannelOptions options = pinned_options();
  options.trust.pinned_sha256.clear();
  options.trust.ca_file = files->cert_file;
  auto channel = connect_websocket(options);
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(channel.status().code(), ErrorCode::kCertificateUntrusted)
      << channel.status().to_string();
  EXPECT_NE(channel.status().message().find("not trusted"), std::string::npos);
}

TEST_F(WebSocketChannelTest, MissingCaFileIsNotFound) {
  WebSocketChannelOptions options = pinned_options();
  options.trust.pinned_sha256.clear();
  options.trust.ca_file = "/nonexistent/parley-ca.pem";
  auto channel = connect_websocket(options);
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(channel.status().code(), ErrorCode::kNotFound);
}

TEST_F(WebSocketChannelTest, SystemTrustStoreRefusesASelfSignedServer) {
  WebSocketChannelOptions options = pinned_options();
  options.trust = {};
  auto channel = connect_websocket(options);
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(channel.status().code(), ErrorCode::kCertificateUntrusted)
      << channel.status().to_string();
}

TEST(WebSocketChannelNameTest, CertificateForAnotherNameIsUntrusted) {
  gateway::SelfSignedOptions certificate;
  certificate.common_name = "chat.example.org";
  certificate.dns_names = {"chat.example.org"};
  certificate.ip_addresses = {};
  LoopbackGateway server(gateway_options(certificate));
  Status started = server.start();
  ASSERT_TRUE(started.ok()) << started.to_string();

  WebSocketChannelOptions options;
  options.host = "127.0.0.1";
  options.port = server.port();
  options.trust.ca_file = server.cert_file();  // trusted, but not for 127.0.0.1
  auto channel = connect_websocket(options);
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(channel.status().code(), ErrorCode::kCertificateUntrusted)
      << channel.status().to_string();

  // The same certificate pinned is accepted: a pin trusts the key, whatever names it carries.
  options.trust = {};
  options.trust.pinned_sha256 = fingerprint_of(server.cert_file());
  auto pinned = connect_websocket(options);
  ASSERT_TRUE(pinned.ok()) << pinned.status().to_string();
  expect_ping_works(**pinned, 9);
}

TEST(WebSocketChannelFailureTest, NothingListeningIsUnavailableQuickly) {
  std::uint16_t port = 0;
  {
    RawSocket bound(/*listen=*/false);  // a port that was free a moment ago, closed again
    port = bound.port();
  }
  ASSERT_NE(port, 0);
  WebSocketChannelOptions options;
  options.port = port;
  options.trust.pinned_sha256 = std::string(64, '0');
  auto started = SteadyClock::now();
  auto channel = connect_websocket(options);
  auto elapsed = SteadyClock::now() - started;
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(channel.status().code(), ErrorCode::kUnavailable) << channel.status().to_string();
  EXPECT_NE(channel.status().message().find("cannot connect"), std::string::npos);
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(WebSocketChannelFailureTest, SilentListenerTimesOutWithinTheConnectTimeout) {
  RawSocket silent(/*listen=*/true);  // the kernel completes TCP; nobody ever answers TLS
  ASSERT_NE(silent.port(), 0);
  WebSocketChannelOptions options;
  options.port = silent.port();
  options.trust.pinned_sha256 = std::string(64, '0');
  options.connect_timeout = std::chrono::milliseconds(500);
  auto started = SteadyClock::now();
  auto channel = connect_websocket(options);
  auto elapsed = SteadyClock::now() - started;
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(channel.status().code(), ErrorCode::kTimeout) << channel.status().to_string();
  EXPECT_NE(channel.status().message().find("TLS handshake"), std::string::npos)
      << channel.status().message();
  EXPECT_GE(elapsed, std::chrono::milliseconds(450));
  EXPECT_LT(elapsed, std::chrono::milliseconds(1500));
}

// The transport manager abandons attempts that lost its race; a black-holed one must not hold
// the client until its own deadline.
TEST(WebSocketChannelFailureTest, ACancelledConnectStopsSoonWithCancelled) {
  RawSocket silent(/*listen=*/true);
  ASSERT_NE(silent.port(), 0);
  WebSocketChannelOptions options;
  options.port = silent.port();
  options.trust.pinned_sha256 = std::string(64, '0');
  options.connect_timeout = std::chrono::seconds(60);
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  options.cancel = cancel;
  std::thread canceller([cancel] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel->store(true);
  });
  auto started = SteadyClock::now();
  auto channel = connect_websocket(options);
  auto elapsed = SteadyClock::now() - started;
  canceller.join();
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(channel.status().code(), ErrorCode::kCancelled) << channel.status().to_string();
  EXPECT_LT(elapsed, std::chrono::seconds(10));  // far below the 60 s deadline
  // Already cancelled: nothing is attempted.
  EXPECT_EQ(connect_websocket(options).status().code(), ErrorCode::kCancelled);
}

TEST_F(WebSocketChannelTest, AbortDropsTheConnectionWithoutWaiting) {
  auto channel = connect_websocket(pinned_options());
  ASSERT_TRUE(channel.ok()) << channel.status().to_string();
  expect_ping_works(**channel, 1);
  (*channel)->abort();
  EXPECT_EQ((*channel)->receive(std::chrono::seconds(5)).status().code(),
            ErrorCode::kConnectionClosed);
  EXPECT_EQ((*channel)->send(ping_frame(2)).code(), ErrorCode::kConnectionClosed);
  (*channel)->close();  // still safe afterwards
}

TEST_F(WebSocketChannelTest, WrongPathIsRefusedUpgrade) {
  WebSocketChannelOptions options = pinned_options();
  options.path = "/chat";
  auto channel = connect_websocket(options);
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(channel.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(channel.status().message().find("HTTP 404"), std::string::npos)
      << channel.status().message();
}

TEST_F(WebSocketChannelTest, ServerStopEndsReceiveWithConnectionClosed) {
  auto channel = connect(pinned_options());
  ASSERT_NE(channel, nullptr);
  expect_ping_works(*channel, 1);

  server_.stop();  // a graceful "going away" close
  auto started = SteadyClock::now();
  auto frame = channel->receive(std::chrono::seconds(10));
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(frame.status().code(), ErrorCode::kConnectionClosed) << frame.status().to_string();
  EXPECT_NE(frame.status().message().find("server closed"), std::string::npos)
      << frame.status().message();
  EXPECT_LT(SteadyClock::now() - started, std::chrono::seconds(3));

  Status sent = channel->send(ping_frame(2));
  EXPECT_EQ(sent.code(), ErrorCode::kConnectionClosed);
  // Later calls keep answering at once with the same reason.
  EXPECT_EQ(channel->receive(std::chrono::seconds(10)).status(), frame.status());
}

TEST_F(WebSocketChannelTest, ReceiveTimeoutLeavesTheChannelUsable) {
  auto channel = connect(pinned_options());
  ASSERT_NE(channel, nullptr);
  auto started = SteadyClock::now();
  auto frame = channel->receive(std::chrono::milliseconds(150));
  auto elapsed = SteadyClock::now() - started;
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(frame.status().code(), ErrorCode::kTimeout);
  EXPECT_GE(elapsed, std::chrono::milliseconds(140));
  EXPECT_LT(elapsed, std::chrono::seconds(2));
  expect_ping_works(*channel, 5);
}

TEST_F(WebSocketChannelTest, OversizeSendIsRefusedAndTheChannelStaysUsable) {
  WebSocketChannelOptions options = pinned_options();
  options.max_frame_bytes = 1024;
  auto channel = connect(options);
  ASSERT_NE(channel, nullptr);
  Status sent = channel->send(Bytes(1025, 0x42));
  EXPECT_EQ(sent.code(), ErrorCode::kTooLarge) << sent.to_string();
  expect_ping_works(*channel, 11);
}

TEST_F(WebSocketChannelTest, ManyFramesBackToBackArriveInOrder) {
  auto channel = connect(pinned_options());
  ASSERT_NE(channel, nullptr);
  constexpr std::uint64_t kFrames = 200;
  for (std::uint64_t id = 1; id <= kFrames; ++id) {
    ASSERT_TRUE(channel->send(ping_frame(id)).ok()) << id;
  }
  for (std::uint64_t id = 1; id <= kFrames; ++id) {
    expect_pong(*channel, id);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST_F(WebSocketChannelTest, KeepalivePingsKeepAnIdleChannelOpen) {
  WebSocketChannelOptions options = pinned_options();
  options.keepalive = std::chrono::milliseconds(100);
  auto channel = connect(options);
  ASSERT_NE(channel, nullptr);
  // Five keepalive intervals of silence from our side: pings go out, pongs come back.
  auto frame = channel->receive(std::chrono::milliseconds(500));
  EXPECT_EQ(frame.status().code(), ErrorCode::kTimeout) << frame.status().to_string();
  expect_ping_works(*channel, 21);
}

TEST_F(WebSocketChannelTest, CloseIsIdempotentAndEndsTheChannel) {
  auto channel = connect(pinned_options());
  ASSERT_NE(channel, nullptr);
  expect_ping_works(*channel, 1);
  auto started = SteadyClock::now();
  channel->close();
  EXPECT_LT(SteadyClock::now() - started, std::chrono::seconds(2));
  channel->close();
  EXPECT_EQ(channel->send(ping_frame(2)).code(), ErrorCode::kConnectionClosed);
  auto frame = channel->receive(std::chrono::seconds(10));
  EXPECT_EQ(frame.status().code(), ErrorCode::kConnectionClosed);
  // The server saw a proper close.
  auto deadline = SteadyClock::now() + std::chrono::seconds(5);
  while (server_.open_connections() != 0 && SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server_.open_connections(), 0u);
}

}  // namespace
}  // namespace parley::net
