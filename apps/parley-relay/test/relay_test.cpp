// SPDX-License-Identifier: AGPL-3.0-or-later
//
// parley-relay as a real child process: active probing (every probe without the secret gets
// byte for byte what the decoy site answers), the built-in decoy, forwarding to a real parleyd
// with the client's relay dialer, chaining two relays, and the limits.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "parley/net/relay_handshake.h"
#include "parley/net/relay_link.h"
#include "parley/net/websocket_channel.h"
#include "parley/proto/frame.h"
#include "parleyd_process.h"
#include "relay_process.h"
#include "token_bucket.h"

namespace parley::relay::testing {
namespace {

namespace fs = std::filesystem;

// A fresh directory under the temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::random_device random;
    path_ = (fs::temp_directory_path() /
             ("parley-relay-test-" + std::to_string(random()) + std::to_string(random())))
                .string();
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const {
    fs::create_directories(path_ + "/" + name);
    return path_ + "/" + name;
  }

 private:
  std::string path_;
};

net::RelayLink parsed_link(const RelayProcess& relay) {
  auto text = relay.link();
  EXPECT_TRUE(text.ok()) << text.status().to_string();
  auto link = net::parse_relay_link(text.ok() ? *text : std::string());
  EXPECT_TRUE(link.ok()) << (text.ok() ? *text : "") << ": " << link.status().to_string();
  return link.ok() ? *link : net::RelayLink{};
}

std::string wrong_secret(const std::string& secret) {
  std::string wrong = secret;
  wrong[0] = wrong[0] == '0' ? '1' : '0';
  return wrong;
}

// Random bytes that end a "head" so no server waits for more.
std::string garbage() {
  std::mt19937 random(1234);
  std::string bytes;
  for (int i = 0; i < 200; ++i) bytes += static_cast<char>(random() & 0xff);
  return bytes + "\r\n\r\n";
}

// ---- 1. active probing ----------------------------------------------------------------------

class ProbingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    relay_ = std::make_unique<RelayProcess>(
        dir_.sub("relay"),
        std::vector<std::string>{"--upstream", "127.0.0.1:" + std::to_string(upstream_.port()),
                                 "--decoy-upstream", "127.0.0.1:" + std::to_string(site_.port()),
                                 "--head-timeout-ms", "2000"});
    Status started = relay_->start();
    ASSERT_TRUE(started.ok()) << started.to_string();
    link_ = parsed_link(*relay_);
  }

  // The relay's answer (inside TLS) equals the site's answer to the same bytes sent directly.
  void expect_same_as_site(const std::string& probe, const char* what) {
    auto via_relay = tls_exchange(relay_->port(), probe);
    ASSERT_TRUE(via_relay.ok()) << what << ": " << via_relay.status().to_string() << "\n"
                                << relay_->log();
    auto direct = tcp_exchange(site_.port(), probe);
    ASSERT_TRUE(direct.ok()) << what << ": " << direct.status().to_string();
    EXPECT_FALSE(direct->empty()) << what;
    // The tiny site sends no Date header, so nothing needs to be stripped.
    EXPECT_EQ(*via_relay, *direct) << what;
  }

  TempDir dir_;
  TinySite site_;
  CountingListener upstream_;  // stands in for parleyd: must never see a probe
  std::unique_ptr<RelayProcess> relay_;
  net::RelayLink link_;
};

TEST_F(ProbingTest, ProbesWithoutTheSecretSeeExactlyTheDecoySite) {
  expect_same_as_site("GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: probe\r\n\r\n",
                      "plain HTTPS GET /");
  net::RelayLink wrong = link_;
  wrong.secret_hex = wrong_secret(link_.secret_hex);
  expect_same_as_site(net::relay_request(wrong), "relay request with a wrong cookie secret");
  net::RelayLink none = link_;
  none.secret_hex = std::string(32, 'a');
  expect_same_as_site(net::relay_request(none), "relay request with another secret");
  expect_same_as_site(garbage(), "random bytes after the TLS handshake");

  EXPECT_EQ(upstream_.connections(), 0) << "a probe reached the upstream";
  EXPECT_EQ(relay_->metric("parley_relay_parley_sessions_total"), 0);
  EXPECT_GE(relay_->metric("parley_relay_decoy_sessions_total"), 4);
}

TEST_F(ProbingTest, AnUnfinishedRequestHeadGoesToTheDecoyAfterTheTimeout) {
  // A head that looks like the start of a Parley request but never ends: the relay waits for its
  // head timeout (2 s here), then hands every byte read to the site. The prober finishes its
  // head afterwards and gets exactly the site's answer to the whole request.
  const std::string start = "GET /ws HTTP/1.1\r\nHost: localhost\r\n";
  TlsConnection connection;
  ASSERT_TRUE(connection.connect(relay_->port()).ok());
  ASSERT_TRUE(connection.write(start).ok());
  // Polls the site's connection count: the relay connects it when its head timeout elapses.
  for (int i = 0; i < 200 && site_.connections() == 0; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(site_.connections(), 1) << relay_->log();
  ASSERT_TRUE(connection.write("\r\n").ok());
  std::string answer;
  for (;;) {
    auto chunk = connection.read_some(5s);
    if (!chunk.ok()) break;
    answer += *chunk;
  }
  auto direct = tcp_exchange(site_.port(), start + "\r\n");
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(answer, *direct);
  EXPECT_EQ(relay_->metric("parley_relay_head_timeouts_total"), 1);
  EXPECT_EQ(upstream_.connections(), 0);
}

TEST_F(ProbingTest, ReplayedTcpCaptureOfARealSessionIsNotForwarded) {
  // A real session through a recording forwarder: what a censor on the path captures.
  RecordingForwarder capture(relay_->port());
  {
    TlsConnection client;
    ASSERT_TRUE(client.connect(capture.port()).ok());
    ASSERT_TRUE(client.write(net::relay_request(link_)).ok());
    std::string answer;
    net::RelayResponseCheck check;
    while (check.verdict == net::RelayResponseVerdict::kIncomplete) {
      auto chunk = client.read_some(5s);
      ASSERT_TRUE(chunk.ok()) << chunk.status().to_string() << "\n" << relay_->log();
      answer += *chunk;
      check = net::check_relay_response(answer);
    }
    ASSERT_EQ(check.verdict, net::RelayResponseVerdict::kAccepted);
    for (int i = 0; i < 100 && upstream_.connections() == 0; ++i) std::this_thread::sleep_for(20ms);
    ASSERT_EQ(upstream_.connections(), 1);  // the genuine session was forwarded
  }
  const std::string captured = capture.client_bytes();
  ASSERT_FALSE(captured.empty());

  // The captured bytes (ClientHello, Finished, the encrypted request) on a new TCP connection:
  // the relay's fresh handshake cannot accept them, so nothing is forwarded.
  auto replay = tcp_exchange(relay_->port(), captured, 5s);
  if (replay.ok()) {
    EXPECT_EQ(replay->find("101 Switching"), std::string::npos);
  }
  EXPECT_EQ(upstream_.connections(), 1) << "the replay reached the upstream";
  EXPECT_EQ(site_.connections(), 0) << "the replay got past TLS";
  EXPECT_EQ(relay_->metric("parley_relay_parley_sessions_total"), 1);
}

// ---- the built-in decoy ---------------------------------------------------------------------

class StaticDecoyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    relay_ = std::make_unique<RelayProcess>(
        dir_.sub("relay"),
        std::vector<std::string>{"--upstream", "127.0.0.1:" + std::to_string(upstream_.port()),
                                 "--head-timeout-ms", "2000"});
    Status started = relay_->start();
    ASSERT_TRUE(started.ok()) << started.to_string();
    link_ = parsed_link(*relay_);
  }

  TempDir dir_;
  CountingListener upstream_;
  std::unique_ptr<RelayProcess> relay_;
  net::RelayLink link_;
};

TEST_F(StaticDecoyTest, ServesAHomepageA404AndA400) {
  auto home = tls_exchange(relay_->port(),
                           "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(home.ok()) << home.status().to_string();
  EXPECT_EQ(home->rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << *home;
  EXPECT_NE(home->find("text/html"), std::string::npos);
  EXPECT_NE(home->find("<!DOCTYPE html>"), std::string::npos);
  EXPECT_EQ(home->find("\r\nDate:"), std::string::npos);  // deterministic answers

  auto missing = tls_exchange(
      relay_->port(), "GET /wp-admin/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << *missing;

  auto traversal = tls_exchange(
      relay_->port(), "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(traversal.ok());
  EXPECT_EQ(traversal->rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << *traversal;

  auto bad = tls_exchange(relay_->port(), garbage());
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << *bad;

  auto head = tls_exchange(relay_->port(),
                           "HEAD / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_EQ(head->find("<!DOCTYPE"), std::string::npos);  // no body for HEAD

  EXPECT_EQ(upstream_.connections(), 0);
}

TEST_F(StaticDecoyTest, AWrongSecretGetsTheSameBytesAsNoSecret) {
  const std::string plain = "GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  const std::string with_cookie =
      "GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
      "Cookie: sid=" +
      wrong_secret(link_.secret_hex) + "\r\n\r\n";
  auto a = tls_exchange(relay_->port(), plain);
  auto b = tls_exchange(relay_->port(), with_cookie);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->rfind("HTTP/1.1 404", 0), 0u) << *a;
  EXPECT_EQ(upstream_.connections(), 0);
}

TEST_F(StaticDecoyTest, KeepsTheConnectionOpenForASecondRequest) {
  TlsConnection connection;
  ASSERT_TRUE(connection.connect(relay_->port()).ok());
  ASSERT_TRUE(connection
                  .write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
                         "GET /missing HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                  .ok());
  std::string answer;
  for (;;) {
    auto chunk = connection.read_some(5s);
    if (!chunk.ok()) break;
    answer += *chunk;
  }
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK", 0), 0u);
  EXPECT_NE(answer.find("HTTP/1.1 404 Not Found"), std::string::npos);
}

TEST(DecoyDirTest, ServesTheOperatorsFilesFromATomlConfigAndNothingOutside) {
  TempDir dir;
  CountingListener upstream;
  const std::string site = dir.sub("site");
  fs::create_directories(site + "/notes");
  std::ofstream(site + "/index.html") << "<html>my own page</html>\n";
  std::ofstream(site + "/notes/a.txt") << "plain notes\n";
  std::ofstream(site + "/404.html") << "<html>my own 404</html>\n";
  std::ofstream(dir.path() + "/secret-outside.txt") << "must not be served\n";
  const std::string config = dir.path() + "/relay.toml";
  std::ofstream(config) << "upstream = \"127.0.0.1:" << upstream.port() << "\"\n"
                        << "decoy_dir = \"" << site << "\"\n";
  RelayProcess relay(dir.sub("relay"), {"--config", config});
  Status started = relay.start();
  ASSERT_TRUE(started.ok()) << started.to_string();
  const auto get = [&](const std::string& target) {
    auto answer = tls_exchange(
        relay.port(), "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_TRUE(answer.ok());
    return answer.ok() ? *answer : std::string();
  };
  std::string home = get("/");
  EXPECT_EQ(home.rfind("HTTP/1.1 200 OK", 0), 0u);
  EXPECT_NE(home.find("my own page"), std::string::npos);
  std::string notes = get("/notes/a.txt?x=1");
  EXPECT_NE(notes.find("text/plain"), std::string::npos);
  EXPECT_NE(notes.find("plain notes"), std::string::npos);
  for (const char* outside : {"/../secret-outside.txt", "/notes/../../secret-outside.txt",
                              "/%2e%2e/secret-outside.txt", "/.hidden", "//etc/passwd"}) {
    std::string answer = get(outside);
    EXPECT_EQ(answer.rfind("HTTP/1.1 404 Not Found", 0), 0u) << outside;
    EXPECT_NE(answer.find("my own 404"), std::string::npos) << outside;
    EXPECT_EQ(answer.find("must not be served"), std::string::npos) << outside;
  }
  EXPECT_EQ(upstream.connections(), 0);
}

// ---- 2. forwarding to a real parleyd --------------------------------------------------------

Bytes ping_frame(std::uint64_t id) {
  wire::Request request;
  request.set_id(id);
  request.mutable_ping();
  return proto::encode_frame(proto::request_frame(std::move(request)));
}

void expect_ping_round_trip(net::FrameChannel& channel, std::uint64_t id) {
  ASSERT_TRUE(channel.send(ping_frame(id)).ok());
  auto frame = channel.receive(std::chrono::seconds(10));
  ASSERT_TRUE(frame.ok()) << frame.status().to_string();
  auto decoded = proto::decode_server_frame(*frame, proto::Limits{});
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  ASSERT_TRUE(decoded->has_response());
  EXPECT_EQ(decoded->response().id(), id);
  EXPECT_TRUE(decoded->response().has_ping());
}

class ForwardingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    parleyd_ = std::make_unique<parley::testing::ParleydProcess>(dir_.sub("parleyd"));
    Status started = parleyd_->start();
    ASSERT_TRUE(started.ok()) << started.to_string();
  }

  std::unique_ptr<RelayProcess> start_relay(const std::string& name,
                                            std::vector<std::string> args) {
    auto relay = std::make_unique<RelayProcess>(dir_.sub(name), std::move(args));
    Status started = relay->start();
    EXPECT_TRUE(started.ok()) << started.to_string();
    return started.ok() ? std::move(relay) : nullptr;
  }

  std::vector<std::string> to_parleyd() const {
    return {"--upstream", "127.0.0.1:" + std::to_string(parleyd_->port())};
  }

  net::WebSocketChannelOptions options_via(const net::RelayLink& link) const {
    net::WebSocketChannelOptions options;
    options.host = "127.0.0.1";
    options.port = parleyd_->port();
    options.trust.ca_file = parleyd_->data_dir() + "/tls/server-cert.pem";
    options.relay = link;
    options.connect_timeout = std::chrono::seconds(10);
    return options;
  }

  TempDir dir_;
  std::unique_ptr<parley::testing::ParleydProcess> parleyd_;
};

TEST_F(ForwardingTest, AClientWithTheLinkReachesParleydThroughTheRelay) {
  auto relay = start_relay("relay", to_parleyd());
  ASSERT_NE(relay, nullptr);
  const net::RelayLink link = parsed_link(*relay);
  auto channel = net::connect_websocket(options_via(link));
  ASSERT_TRUE(channel.ok()) << channel.status().to_string() << "\n" << relay->log();
  expect_ping_round_trip(**channel, 1);
  expect_ping_round_trip(**channel, 2);
  EXPECT_EQ(relay->metric("parley_relay_parley_sessions_total"), 1);
  EXPECT_EQ(relay->metric("parley_relay_decoy_sessions_total"), 0);
  EXPECT_GT(relay->metric("parley_relay_bytes_up_total"), 0);
  EXPECT_GT(relay->metric("parley_relay_bytes_down_total"), 0);
  (*channel)->close();
  // The relay never logs its secret.
  EXPECT_EQ(relay->log().find(link.secret_hex), std::string::npos);
}

TEST_F(ForwardingTest, AWrongSecretIsRefusedAndAWrongPinIsUntrusted) {
  auto relay = start_relay("relay", to_parleyd());
  ASSERT_NE(relay, nullptr);
  const net::RelayLink link = parsed_link(*relay);

  net::RelayLink wrong_secret_link = link;
  wrong_secret_link.secret_hex = wrong_secret(link.secret_hex);
  auto refused = net::connect_websocket(options_via(wrong_secret_link));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kRelayRefused) << refused.status().to_string();

  net::RelayLink wrong_pin_link = link;
  wrong_pin_link.pin_hex = std::string(64, '0');
  auto untrusted = net::connect_websocket(options_via(wrong_pin_link));
  ASSERT_FALSE(untrusted.ok());
  EXPECT_EQ(untrusted.status().code(), ErrorCode::kCertificateUntrusted)
      << untrusted.status().to_string();
  EXPECT_EQ(relay->metric("parley_relay_parley_sessions_total"), 0);
}

TEST_F(ForwardingTest, TwoChainedRelaysCarryARoundTrip) {
  auto far = start_relay("relay-b", to_parleyd());
  ASSERT_NE(far, nullptr);
  auto far_link = far->link();
  ASSERT_TRUE(far_link.ok());
  auto near = start_relay("relay-a", {"--upstream-link", *far_link});
  ASSERT_NE(near, nullptr);
  auto channel = net::connect_websocket(options_via(parsed_link(*near)));
  ASSERT_TRUE(channel.ok()) << channel.status().to_string() << "\n"
                            << near->log() << "\n"
                            << far->log();
  expect_ping_round_trip(**channel, 11);
  EXPECT_EQ(near->metric("parley_relay_parley_sessions_total"), 1);
  EXPECT_EQ(far->metric("parley_relay_parley_sessions_total"), 1);
  (*channel)->close();
}

// ---- 4. limits ------------------------------------------------------------------------------

TEST(RelayLimitsTest, TheConnectionCapPerIpClosesTheExtraConnectionBeforeTls) {
  TempDir dir;
  CountingListener upstream;
  RelayProcess relay(dir.sub("relay"),
                     {"--upstream", "127.0.0.1:" + std::to_string(upstream.port()),
                      "--max-connections-per-ip", "1", "--shutdown-grace-ms", "500"});
  ASSERT_TRUE(relay.start().ok());
  TlsConnection held;  // waits for its head: holds the one slot
  ASSERT_TRUE(held.connect(relay.port()).ok());
  TlsConnection extra;
  EXPECT_FALSE(extra.connect(relay.port(), 5s).ok());
  EXPECT_EQ(relay.metric("parley_relay_refused_total{limit=\"max_connections_per_ip\"}"), 1);
  EXPECT_EQ(relay.metric("parley_relay_connections_active"), 1);
  EXPECT_EQ(relay.terminate(), 0);
}

TEST(RelayLimitsTest, TheTokenBucketHoldsTheRate) {
  using Clock = TokenBucket::Clock;
  const Clock::time_point start{};
  TokenBucket bucket(1000, start);                 // 1000 bytes/s, a burst of one second
  EXPECT_EQ(bucket.take(1000, start).count(), 0);  // the burst
  // Another 500 bytes at once must wait half a second.
  EXPECT_EQ(bucket.take(500, start), std::chrono::milliseconds(500));
  // Sending 10 kB in 1 kB pieces, each after the wait it was told, takes about 10 s.
  Clock::time_point now = start + std::chrono::milliseconds(500);
  for (int i = 0; i < 10; ++i) now += bucket.take(1000, now);
  EXPECT_GE(now - start, std::chrono::milliseconds(10'400));
  EXPECT_LE(now - start, std::chrono::milliseconds(10'600));
  TokenBucket unlimited(0, start);
  EXPECT_EQ(unlimited.take(1u << 30, start).count(), 0);
}

TEST(RelayLimitsTest, TheBandwidthCapSlowsAForwardedConnection) {
  TempDir dir;
  TinySite site;
  CountingListener upstream;
  // The decoy pass-through is forwarded like a Parley session, so it shows the limiter without
  // a server: 64 KiB/s, and a probe whose request is 200 KiB.
  RelayProcess relay(
      dir.sub("relay"),
      {"--upstream", "127.0.0.1:" + std::to_string(upstream.port()), "--decoy-upstream",
       "127.0.0.1:" + std::to_string(site.port()), "--bandwidth-per-connection", "65536"});
  ASSERT_TRUE(relay.start().ok());
  const std::string big = "GET / HTTP/1.1\r\nX-Pad: " + std::string(200UL * 1024, 'a') + "\r\n\r\n";
  const auto started = std::chrono::steady_clock::now();
  auto answer = tls_exchange(relay.port(), big, 20s);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(answer.ok()) << answer.status().to_string();
  EXPECT_EQ(answer->rfind("HTTP/1.1 200 OK", 0), 0u);
  // 200 KiB at 64 KiB/s with a 64 KiB burst cannot take less than ~2 s; only a lower bound is
  // asserted (a slow machine only makes it longer).
  EXPECT_GE(elapsed, std::chrono::milliseconds(1900));
}

TEST(RelayLinkCommandTest, TheLinkIsStableAcrossRunsAndTheFilesArePrivate) {
  TempDir dir;
  CountingListener upstream;
  RelayProcess relay(dir.sub("relay"), {"--upstream", "127.0.0.1:1"});
  auto first = relay.link();
  auto second = relay.link();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
  auto link = net::parse_relay_link(*first);
  ASSERT_TRUE(link.ok()) << *first;
  EXPECT_EQ(link->host, "127.0.0.1");
  EXPECT_EQ(link->secret_hex.size(), 32u);
  EXPECT_EQ(link->pin_hex.size(), 64u);
  struct stat info {};
  ASSERT_EQ(::stat((relay.data_dir() + "/secret").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((relay.data_dir() + "/tls/server-key.pem").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

}  // namespace
}  // namespace parley::relay::testing
