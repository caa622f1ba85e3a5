// SPDX-License-Identifier: AGPL-3.0-or-later
// The transport manager end to end on loopback, with the real parleyd and parley-relay: when the
// server's own address refuses or swallows connections, the client reaches it through a relay
// from a share link, says so, and remembers it for this network. (The censor simulator in
// tests/censor does the same across network namespaces with a real censor in between.)
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "e2e_support.h"
#include "parley/net/relay_link.h"
#include "relay_process.h"

namespace parley::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

#ifdef PARLEY_RELAY_PATH

// A loopback port that accepts TCP (the kernel does) and never answers: a black hole, like a
// censor dropping everything after the SYN-ACK. port 0 after construction means it failed.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      return;
    }
    port_ = ntohs(address.sin_port);
  }
  ~SilentListener() {
    if (fd_ >= 0) ::close(fd_);
  }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

class RouteE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok()) << server_.start_status().to_string();
    relay_ = std::make_unique<relay::testing::RelayProcess>(
        relay_dir_.str(),
        std::vector<std::string>{"--upstream",
                                 "127.0.0.1:" + std::to_string(server_.process().port())});
    ASSERT_OK(relay_->start());
    auto text = relay_->link();
    ASSERT_TRUE(text.ok()) << text.status().to_string();
    auto link = net::parse_relay_link(*text);
    ASSERT_TRUE(link.ok()) << link.status().to_string();
    link_ = *link;
  }

  // Bob's settings: the server at `blocked_port` (refusing or silent) plus the relay.
  client::ServerSettings blocked_with_relay(std::uint16_t blocked_port) {
    client::ServerSettings settings = server_.settings();
    settings.server = "127.0.0.1:" + std::to_string(blocked_port);
    settings.network.relays = {link_};
    return settings;
  }

  static std::string via(Device& device) {
    for (auto it = device.events().rbegin(); it != device.events().rend(); ++it) {
      if (it->kind == client::Event::Kind::kTransport &&
          it->value == static_cast<std::int64_t>(net::TransportState::kConnected)) {
        return it->body;
      }
    }
    return "";
  }

  Server server_;
  TempDir relay_dir_{"parley-e2e-relay"};
  std::unique_ptr<relay::testing::RelayProcess> relay_;
  net::RelayLink link_;
};

TEST_F(RouteE2eTest, ARefusedServerIsReachedThroughTheRelayAndRemembered) {
  std::uint16_t refused = 0;
  {
    SilentListener closed_again;  // a port that was free a moment ago
    refused = closed_again.port();
  }
  ASSERT_NE(refused, 0);
  Device alice(server_), bob(server_);
  ASSERT_OK(alice.sign_up("alice"));
  ASSERT_OK(bob.sign_up("bob", blocked_with_relay(refused)));
  EXPECT_THAT(via(bob), StartsWith("relay 127.0.0.1:"));

  ASSERT_TRUE(alice->queue_text("bob", "through the relay").ok());
  ASSERT_OK(alice->flush());
  ASSERT_OK(bob->sync());
  EXPECT_EQ(bob.texts(), std::vector<std::string>{"through the relay"});
  ASSERT_TRUE(bob->queue_text("alice", "and back").ok());
  ASSERT_OK(bob->flush());
  ASSERT_OK(alice->sync());
  EXPECT_EQ(alice.texts(), std::vector<std::string>{"and back"});

  // The relay saw a Parley session; what worked is remembered for this network, across a restart.
  EXPECT_GE(relay_->metric("parley_relay_parley_sessions_total"), 1);
  ASSERT_OK(bob.reopen());
  auto report = bob->network_report();
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  EXPECT_THAT(report->last_route, StartsWith("relay 127.0.0.1:"));
  EXPECT_FALSE(report->freeze_mode);
  ASSERT_EQ(report->settings.relays.size(), 1u);
  EXPECT_EQ(report->settings.relays[0].secret_hex, link_.secret_hex);
}

TEST_F(RouteE2eTest, ABlackHoledServerLosesTheRaceToTheRelayWithinSeconds) {
  SilentListener black_hole;
  ASSERT_NE(black_hole.port(), 0);
  Device alice(server_), bob(server_);
  ASSERT_OK(alice.sign_up("alice"));
  auto started = std::chrono::steady_clock::now();
  ASSERT_OK(bob.sign_up("bob", blocked_with_relay(black_hole.port())));
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_THAT(via(bob), StartsWith("relay 127.0.0.1:"));
  // The direct attempt hangs until its 15 s deadline; the relay starts after the 1 s stagger and
  // wins. The bar: failover within 10 s.
  EXPECT_LT(took, std::chrono::seconds(10));
  ASSERT_TRUE(alice->queue_text("bob", "no waiting for the black hole").ok());
  ASSERT_OK(alice->flush());
  ASSERT_OK(bob->sync());
  EXPECT_EQ(bob.texts(), std::vector<std::string>{"no waiting for the black hole"});
}

TEST_F(RouteE2eTest, AWrongSecretIsRefusedAndNamedInTheError) {
  std::uint16_t refused = 0;
  {
    SilentListener closed_again;
    refused = closed_again.port();
  }
  client::ServerSettings settings = blocked_with_relay(refused);
  settings.network.relays[0].secret_hex = std::string(32, '0');
  Device bob(server_);
  Status status = bob.sign_up("bob", settings);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("relay 127.0.0.1:"));
  EXPECT_THAT(status.message(), HasSubstr("did not accept the link"));
  EXPECT_EQ(relay_->metric("parley_relay_parley_sessions_total"), 0);
}

#else
TEST(RouteE2eTest, ARefusedServerIsReachedThroughTheRelayAndRemembered) {
  GTEST_SKIP() << "parley-relay is not part of this build";
}
#endif

}  // namespace
}  // namespace parley::e2e
