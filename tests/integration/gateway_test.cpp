// SPDX-License-Identifier: AGPL-3.0-or-later
//
// The gateway in-process, over real TLS WebSocket connections, with a small echo core in place of
// ServerCore: transport behaviour (TLS policy, probes, limits, slow consumers, shutdown) without
// any protocol logic in the way.

#include "parley/gateway/gateway.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "parley/gateway/certificate.h"
#include "parley/server/metrics.h"
#include "test_client.h"
#include "test_support.h"

namespace parley::testing {
namespace {

// Echoes every frame. "close" asks the gateway to close after what is queued; "burst:N" queues N
// numbered frames and then closes.
class EchoAcceptor final : public server::ConnectionAcceptor {
 public:
  class Handler final : public server::ConnectionHandler {
   public:
    Handler(EchoAcceptor& owner, std::shared_ptr<server::ConnectionSink> sink)
        : owner_(owner), sink_(std::move(sink)) {}
    void on_frame(ByteView frame) override {
      std::string_view text = as_string_view(frame);
      if (text == "close") {
        sink_->close(ErrorCode::kOk);
      } else if (text.starts_with("burst:")) {
        int n = std::stoi(std::string(text.substr(6)));
        for (int i = 0; i < n; ++i)
          sink_->send(std::make_shared<const Bytes>(to_bytes(std::to_string(i))));
        sink_->close(ErrorCode::kOk);
      } else if (!sink_->send(std::make_shared<const Bytes>(frame.begin(), frame.end()))) {
        ++owner_.refused_sends;
      }
      ++owner_.frames;
    }
    void on_close() override { ++owner_.closes; }

   private:
    EchoAcceptor& owner_;
    std::shared_ptr<server::ConnectionSink> sink_;
  };

  std::unique_ptr<server::ConnectionHandler> accept(
      std::shared_ptr<server::ConnectionSink> sink) override {
    ++accepted;
    std::lock_guard lock(mutex);
    sinks.push_back(sink);
    return std::make_unique<Handler>(*this, std::move(sink));
  }

  std::atomic<int> accepted{0};
  std::atomic<int> frames{0};
  std::atomic<int> closes{0};
  std::atomic<int> refused_sends{0};
  std::mutex mutex;
  std::vector<std::shared_ptr<server::ConnectionSink>> sinks;
};

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto files = gateway::write_self_signed_certificate(dir_.path());
    ASSERT_TRUE(files.ok()) << files.status().to_string();
    config_.cert_file = files->cert_file;
    config_.key_file = files->key_file;
    config_.listen_port = 0;
    config_.admin_port = 0;
    config_.threads = 2;
    config_.max_frame_bytes = 64UL * 1024;
    config_.max_queued_frames = 16;
    config_.max_queued_bytes = 256UL * 1024;
    config_.handshake_timeout = 2s;
  }

  void start() {
    gateway_ = std::make_unique<gateway::Gateway>(config_, echo_, metrics_);
    Status started = gateway_->start();
    ASSERT_TRUE(started.ok()) << started.to_string();
  }

  ClientOptions client_options() const {
    ClientOptions options;
    options.port = gateway_->listen_port();
    options.path = config_.websocket_path;
    return options;
  }

  double metric(std::string_view name, std::string_view labels = {}) const {
    return metrics_.value(name, labels);
  }

  TempDir dir_;
  gateway::GatewayConfig config_;
  EchoAcceptor echo_;
  server::Metrics metrics_;
  std::unique_ptr<gateway::Gateway> gateway_;
};

TEST_F(GatewayTest, EchoesFramesInOrder) {
  start();
  TlsWebSocketClient client(client_options());
  ASSERT_TRUE(client.connect().ok());
  // In batches smaller than the 16-frame queue: a client that sent far more than it reads would
  // (rightly) be dropped as a slow consumer.
  constexpr int kBatch = 10;
  for (int start = 0; start < 200; start += kBatch) {
    for (int i = start; i < start + kBatch; ++i) {
      std::string payload(static_cast<std::size_t>(1 + i * 97 % 4000),
                          static_cast<char>('a' + i % 26));
      payload += "#" + std::to_string(i);
      ASSERT_TRUE(client.send(as_bytes(payload)).ok());
    }
    for (int i = start; i < start + kBatch; ++i) {
      auto frame = client.receive();
      ASSERT_TRUE(frame.ok()) << frame.status().to_string();
      std::string text(as_string_view(*frame));
      EXPECT_TRUE(text.ends_with("#" + std::to_string(i))) << "frame " << i << " out of order";
    }
  }
  EXPECT_TRUE(client.close().ok());
  EXPECT_TRUE(eventually([&] { return echo_.closes == 1; }));
  EXPECT_EQ(metric("parley_gateway_frames_received_total"), 200);
  EXPECT_EQ(metric("parley_gateway_frames_sent_total"), 200);
  EXPECT_EQ(metric("parley_gateway_connections_accepted_total"), 1);
  EXPECT_EQ(metric("parley_gateway_connections_open"), 0);
}

TEST_F(GatewayTest, RefusesTls12) {
  start();
  ClientOptions options = client_options();
  options.tls12_only = true;
  TlsWebSocketClient client(options);
  Status connected = client.connect();
  EXPECT_FALSE(connected.ok());
  EXPECT_NE(connected.message().find("tls handshake"), std::string::npos) << connected.to_string();
  EXPECT_EQ(echo_.accepted, 0);
  EXPECT_TRUE(eventually(
      [&] { return metric("parley_gateway_handshake_failures_total", "stage=\"tls\"") == 1; }));
}

TEST_F(GatewayTest, ProbesGetAnOrdinaryWebSite) {
  start();
  const std::uint16_t port = gateway_->listen_port();
  auto index = https_get("127.0.0.1", port, "/");
  ASSERT_TRUE(index.ok()) << index.status().to_string();
  EXPECT_EQ(index->status, 200);
  EXPECT_EQ(index->headers["content-type"], "text/html");
  EXPECT_NE(index->body.find("<html>"), std::string::npos);

  auto missing = https_get("127.0.0.1", port, "/no/such/page");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);

  // The WebSocket path without an upgrade looks exactly like any missing page.
  auto ws_path = https_get("127.0.0.1", port, config_.websocket_path);
  ASSERT_TRUE(ws_path.ok());
  EXPECT_EQ(ws_path->status, 404);
  EXPECT_EQ(ws_path->body, missing->body);
  EXPECT_EQ(ws_path->headers.size(), missing->headers.size());
  EXPECT_EQ(ws_path->headers.count("server"), 0u);

  // An upgrade on another path is not accepted either.
  ClientOptions options = client_options();
  options.path = "/chat";
  TlsWebSocketClient wrong(options);
  EXPECT_FALSE(wrong.connect().ok());
  EXPECT_EQ(echo_.accepted, 0);
  EXPECT_EQ(metric("parley_gateway_http_responses_total", "code=\"404\""), 3);
}

TEST_F(GatewayTest, OversizeFrameClosesTheConnection) {
  start();
  TlsWebSocketClient client(client_options());
  ASSERT_TRUE(client.connect().ok());
  Bytes largest(config_.max_frame_bytes, 0x42);
  ASSERT_TRUE(client.send(largest).ok());
  auto echoed = client.receive();
  ASSERT_TRUE(echoed.ok()) << echoed.status().to_string();
  EXPECT_EQ(echoed->size(), config_.max_frame_bytes);

  Bytes oversize(config_.max_frame_bytes + 1, 0x42);
  (void)client.send(oversize);  // the server may close before reading it all
  auto after = client.receive();
  EXPECT_FALSE(after.ok());
  EXPECT_EQ(client.close_code(), 1009);
  EXPECT_TRUE(eventually([&] { return echo_.closes == 1; }));
  EXPECT_EQ(echo_.frames, 1);  // the oversize frame never reached the core
  EXPECT_EQ(metric("parley_gateway_oversize_frames_total"), 1);
}

TEST_F(GatewayTest, SlowConsumerIsDroppedAndAReaderIsNot) {
  start();
  const Bytes chunk(32UL * 1024, 0x17);
  constexpr int kFrames = 600;  // ~19 MiB: far beyond socket buffers plus the 16-frame queue

  // A client that reads what it asked for keeps its connection.
  {
    TlsWebSocketClient reader(client_options());
    ASSERT_TRUE(reader.connect().ok());
    for (int i = 0; i < kFrames; ++i) {
      ASSERT_TRUE(reader.send(chunk).ok());
      ASSERT_TRUE(reader.receive().ok());
    }
    EXPECT_TRUE(reader.close().ok());
  }
  EXPECT_EQ(metric("parley_gateway_slow_consumer_drops_total"), 0);

  // One that never reads is cut once its queue is full.
  ClientOptions options = client_options();
  options.receive_buffer_bytes = 4096;
  options.timeout = 2s;
  TlsWebSocketClient sleeper(options);
  ASSERT_TRUE(sleeper.connect().ok());
  bool send_failed = false;
  for (int i = 0; i < kFrames && !send_failed; ++i) send_failed = !sleeper.send(chunk).ok();
  EXPECT_TRUE(eventually([&] { return metric("parley_gateway_slow_consumer_drops_total") == 1; }));
  EXPECT_GE(echo_.refused_sends, 1);
  EXPECT_TRUE(eventually([&] { return echo_.closes == 2; }));
  EXPECT_EQ(metric("parley_gateway_connections_open"), 0);
}

TEST_F(GatewayTest, SinkCloseFlushesQueuedFramesFirst) {
  start();
  TlsWebSocketClient client(client_options());
  ASSERT_TRUE(client.connect().ok());
  ASSERT_TRUE(client.send(as_bytes("burst:10")).ok());
  for (int i = 0; i < 10; ++i) {
    auto frame = client.receive();
    ASSERT_TRUE(frame.ok()) << "frame " << i << ": " << frame.status().to_string();
    EXPECT_EQ(as_string_view(*frame), std::to_string(i));
  }
  auto end = client.receive();
  EXPECT_EQ(end.status().code(), ErrorCode::kConnectionClosed);
  EXPECT_EQ(client.close_code(), 1000);
  EXPECT_TRUE(eventually([&] { return echo_.closes == 1; }));
}

TEST_F(GatewayTest, HandshakeTimeoutCutsSilentConnections) {
  config_.handshake_timeout = 300ms;
  start();
  TlsWebSocketClient silent(client_options());
  ASSERT_TRUE(silent.connect_tcp_only().ok());
  EXPECT_TRUE(eventually(
      [&] { return metric("parley_gateway_handshake_failures_total", "stage=\"timeout\"") == 1; },
      3s));
  EXPECT_EQ(echo_.accepted, 0);
}

TEST_F(GatewayTest, IdleTimeoutClosesSilentClients) {
  config_.idle_timeout = 400ms;
  start();
  TlsWebSocketClient silent(client_options());
  ASSERT_TRUE(silent.connect().ok());
  // The client neither sends nor reads, so it never answers the server's ping.
  EXPECT_TRUE(eventually([&] { return echo_.closes == 1; }, 3s));
  EXPECT_EQ(metric("parley_gateway_connections_open"), 0);
}

TEST_F(GatewayTest, AdminServesHealthAndMetrics) {
  start();
  const std::uint16_t admin = gateway_->admin_port();
  ASSERT_NE(admin, 0);
  auto health = http_get("127.0.0.1", admin, "/healthz");
  ASSERT_TRUE(health.ok()) << health.status().to_string();
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");

  TlsWebSocketClient client(client_options());
  ASSERT_TRUE(client.connect().ok());
  ASSERT_TRUE(client.send(as_bytes("hello")).ok());
  ASSERT_TRUE(client.receive().ok());

  auto metrics = http_get("127.0.0.1", admin, "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("parley_gateway_connections_open 1\n"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("parley_gateway_frames_received_total 1\n"), std::string::npos);
  EXPECT_NE(metrics->body.find("# TYPE parley_gateway_slow_consumer_drops_total counter"),
            std::string::npos);
  EXPECT_EQ(http_get("127.0.0.1", admin, "/other")->status, 404);

  gateway_->stop_accepting();
  auto stopping = http_get("127.0.0.1", admin, "/healthz");
  ASSERT_TRUE(stopping.ok());
  EXPECT_EQ(stopping->status, 503);
  // New clients are refused while the existing one still works.
  TlsWebSocketClient late(client_options());
  EXPECT_FALSE(late.connect().ok());
  ASSERT_TRUE(client.send(as_bytes("still here")).ok());
  EXPECT_TRUE(client.receive().ok());
}

TEST_F(GatewayTest, StopFlushesAndSaysGoingAway) {
  start();
  std::vector<std::unique_ptr<TlsWebSocketClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<TlsWebSocketClient>(client_options()));
    ASSERT_TRUE(clients.back()->connect().ok());
  }
  ASSERT_TRUE(eventually([&] { return echo_.accepted == 3; }));
  // Frames queued by the core just before shutdown still reach the client.
  {
    std::lock_guard lock(echo_.mutex);
    for (auto& sink : echo_.sinks) {
      for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(
            sink->send(std::make_shared<const Bytes>(to_bytes("last " + std::to_string(i)))));
      }
    }
  }
  std::thread stopper([&] { gateway_->stop(3s); });
  for (auto& client : clients) {
    for (int i = 0; i < 5; ++i) {
      auto frame = client->receive();
      ASSERT_TRUE(frame.ok()) << frame.status().to_string();
      EXPECT_EQ(as_string_view(*frame), "last " + std::to_string(i));
    }
    EXPECT_EQ(client->receive().status().code(), ErrorCode::kConnectionClosed);
    EXPECT_EQ(client->close_code(), 1001);
  }
  stopper.join();
  EXPECT_EQ(echo_.closes, 3);  // every on_close has run when stop() returns
  // A sink kept by the core after the end refuses quietly.
  std::lock_guard lock(echo_.mutex);
  EXPECT_FALSE(echo_.sinks.front()->send(std::make_shared<const Bytes>(to_bytes("late"))));
}

TEST_F(GatewayTest, RefusesAnAdminListenerOffLoopback) {
  config_.admin_address = "0.0.0.0";
  gateway::Gateway gateway(config_, echo_, metrics_);
  EXPECT_EQ(gateway.start().code(), ErrorCode::kInvalidArgument);
}

TEST_F(GatewayTest, RefusesAMissingCertificate) {
  config_.cert_file = dir_.path() + "/missing.pem";
  gateway::Gateway gateway(config_, echo_, metrics_);
  EXPECT_EQ(gateway.start().code(), ErrorCode::kInvalidKey);
}

}  // namespace
}  // namespace parley::testing
