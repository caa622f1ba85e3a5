// SPDX-License-Identifier: AGPL-3.0-or-later
// Shared abuse limits in the core (ServerCoreConfig::shared_rate_limits): two ServerCores over one
// MemoryStore count one account's requests in one bucket, an unreachable shared limiter falls back
// to each node's own limit (and is counted), and disabled limits and connections never ask it.
#include "parley/server/shared_rate_limits.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "test_harness.h"

namespace parley::server::testing {
namespace {

using namespace std::chrono_literals;

// What a cluster's shared state would do, in memory: one RateLimiter per limit name, every key
// in it. Records every call, and can fail like an unreachable Redis.
class FakeSharedRateLimits final : public SharedRateLimits {
 public:
  struct Call {
    std::string name;
    std::uint64_t limit_count;
    std::uint64_t cost;
  };

  explicit FakeSharedRateLimits(const Clock& clock) : clock_(clock) {}

  Result<RateLimiter::Decision> acquire(std::string_view name, const RateLimit& limit,
                                        std::string_view key, std::uint64_t cost) override {
    std::lock_guard lock(mutex_);
    calls_.push_back({std::string(name), limit.count, cost});
    if (failing_) return Status::error(ErrorCode::kUnavailable, "shared limits are unreachable");
    auto& limiter = limiters_[std::string(name)];
    if (!limiter) limiter = std::make_unique<RateLimiter>(limit, 1000, clock_);
    return limiter->acquire(key, cost);
  }

  void set_failing(bool failing) {
    std::lock_guard lock(mutex_);
    failing_ = failing;
  }
  std::vector<Call> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  const Clock& clock_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<RateLimiter>> limiters_;
  std::vector<Call> calls_;
  bool failing_ = false;
};

// Every limit off except the ones a test turns on.
ServerCoreConfig no_limits() {
  ServerCoreConfig config = CoreFixture::test_config();
  config.abuse = AbuseLimits{{0}, 0, {0}, {0}, {0}, {0}, {0}, {0}, {0}, 100'000};
  return config;
}

wire::Request create_attachment(std::uint64_t size) {
  wire::Request r;
  r.mutable_create_attachment()->set_size(size);
  return r;
}

wire::Request bundle_request(const store::AccountId& account) {
  wire::Request r;
  r.mutable_get_prekey_bundle()->set_account_id(account_bytes(account));
  return r;
}

const std::string kSends = "limit=\"sends_per_account\"";

class SharedRateLimitsTest : public ::testing::Test {
 protected:
  void start(const ServerCoreConfig& base) {
    ServerCoreConfig config = base;
    config.shared_rate_limits = &shared_;
    core_a_ = std::make_unique<ServerCore>(store_, blobs_, clock_, metrics_a_, config);
    core_b_ = std::make_unique<ServerCore>(store_, blobs_, clock_, metrics_b_, config);
  }

  // Alice's one device connected to both nodes (no bus here, so neither replaces the other), and
  // Bob on node B to send to.
  void connect_alice_to_both() {
    alice_a_ = std::make_unique<Client>(*core_a_);
    alice_a_->sign_up_and_in(alice_);
    alice_b_ = std::make_unique<Client>(*core_b_);
    ASSERT_EQ(status_of(alice_b_->authenticate(alice_)), ErrorCode::kOk);
    bob_client_ = std::make_unique<Client>(*core_b_);
    bob_client_->sign_up_and_in(bob_);
  }

  ErrorCode send(Client& from, std::string* message = nullptr) {
    wire::Response r =
        from.send_message(bob_.account, {1}, "message-" + std::to_string(next_++), "hi");
    if (message) *message = r.message();
    return status_of(r);
  }

  FakeClock clock_;
  store::MemoryStore store_;
  store::MemoryBlobStore blobs_;
  FakeSharedRateLimits shared_{clock_};
  Metrics metrics_a_;
  Metrics metrics_b_;
  std::unique_ptr<ServerCore> core_a_;
  std::unique_ptr<ServerCore> core_b_;
  Identity alice_;
  Identity bob_;
  std::unique_ptr<Client> alice_a_;
  std::unique_ptr<Client> alice_b_;
  std::unique_ptr<Client> bob_client_;
  int next_ = 1000;
};

TEST_F(SharedRateLimitsTest, OneAccountsSendsAreCountedTogetherOnEveryNode) {
  auto config = no_limits();
  config.abuse.sends_per_account = {3, 60s};
  start(config);
  connect_alice_to_both();
  EXPECT_EQ(send(*alice_a_), ErrorCode::kOk);
  EXPECT_EQ(send(*alice_a_), ErrorCode::kOk);
  EXPECT_EQ(send(*alice_b_), ErrorCode::kOk);

  // The fourth is refused on either node, with the same words as a node's own limit.
  std::string message;
  EXPECT_EQ(send(*alice_a_, &message), ErrorCode::kRateLimited);
  EXPECT_NE(message.find("message sends per account: at most 3 per minute; retry in 20 s"),
            std::string::npos)
      << message;
  EXPECT_EQ(send(*alice_b_, &message), ErrorCode::kRateLimited);
  EXPECT_NE(message.find("message sends per account: at most 3 per minute"), std::string::npos)
      << message;
  EXPECT_EQ(metrics_a_.value("parley_rate_limited_total", kSends), 1);
  EXPECT_EQ(metrics_b_.value("parley_rate_limited_total", kSends), 1);
  EXPECT_FALSE(alice_a_->sink().close_reason());
  EXPECT_FALSE(alice_b_->sink().close_reason());

  // Another account has its own bucket; the shared one refills like a local one.
  EXPECT_EQ(status_of(bob_client_->send_message(alice_.account, {1}, "message-b1", "hi")),
            ErrorCode::kOk);
  clock_.advance(20s);
  EXPECT_EQ(send(*alice_b_), ErrorCode::kOk);
  EXPECT_EQ(send(*alice_a_), ErrorCode::kRateLimited);
  EXPECT_EQ(metrics_a_.value("parley_shared_rate_limit_errors_total", kSends), 0);
}

TEST_F(SharedRateLimitsTest, AnUnreachableSharedLimiterFallsBackToEachNodesOwnLimit) {
  auto config = no_limits();
  config.abuse.sends_per_account = {3, 60s};
  start(config);
  connect_alice_to_both();
  shared_.set_failing(true);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(send(*alice_a_), ErrorCode::kOk) << i;
  std::string message;
  EXPECT_EQ(send(*alice_a_, &message), ErrorCode::kRateLimited);
  EXPECT_NE(message.find("message sends per account: at most 3 per minute; retry in 20 s"),
            std::string::npos)
      << message;
  EXPECT_EQ(metrics_a_.value("parley_shared_rate_limit_errors_total", kSends), 4);
  EXPECT_EQ(metrics_a_.value("parley_rate_limited_total", kSends), 1);
  EXPECT_NE(metrics_a_.render_prometheus().find("# HELP parley_shared_rate_limit_errors_total"),
            std::string::npos);

  // Each node counts alone meanwhile: node B still has its own three.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(send(*alice_b_), ErrorCode::kOk) << i;
  EXPECT_EQ(send(*alice_b_), ErrorCode::kRateLimited);
  EXPECT_EQ(metrics_b_.value("parley_shared_rate_limit_errors_total", kSends), 4);

  // Reachable again: the shared bucket decides (it was never charged), not node A's empty one.
  shared_.set_failing(false);
  EXPECT_EQ(send(*alice_a_), ErrorCode::kOk);
  EXPECT_EQ(metrics_a_.value("parley_shared_rate_limit_errors_total", kSends), 4);
}

TEST_F(SharedRateLimitsTest, EveryInRequestLimitAsksTheSharedLimiterByName) {
  auto config = no_limits();
  config.abuse.connections_per_ip = {100, 60s};
  config.abuse.max_connections_per_ip = 10;
  config.abuse.signups_per_ip = {30, 1h};
  config.abuse.prekey_fetches_per_account = {300, 60s};
  config.abuse.prekey_fetches_per_pair = {20, 1h};
  config.abuse.prekey_fetches_per_target = {1000, 1h};
  config.abuse.sends_per_account = {600, 60s};
  config.abuse.attachments_per_account = {200, 1h};
  config.abuse.attachment_bytes_per_account = {1'000'000, 1h};
  start(config);
  Client alice(*core_a_, "203.0.113.9");
  alice.sign_up_and_in(alice_);
  Client bob(*core_b_);  // no address: no per-IP key, so no sign-up check at all
  bob.sign_up_and_in(bob_);
  ASSERT_EQ(status_of(alice.call(bundle_request(bob_.account))), ErrorCode::kOk);
  ASSERT_EQ(status_of(alice.send_message(bob_.account, {1}, "message-0001", "hi")), ErrorCode::kOk);
  ASSERT_EQ(status_of(alice.call(create_attachment(6'000))), ErrorCode::kOk);

  // Connections stay per node (checked at accept, on a gateway thread): never asked.
  std::vector<std::tuple<std::string, std::uint64_t, std::uint64_t>> expected = {
      {"signups_per_ip", 30, 1},
      {"prekey_fetches_per_account", 300, 1},
      {"prekey_fetches_per_pair", 20, 1},
      {"prekey_fetches_per_target", 1000, 1},
      {"sends_per_account", 600, 1},
      {"attachments_per_account", 200, 1},
      {"attachment_bytes_per_account", 1'000'000, 6'000},
  };
  std::vector<std::tuple<std::string, std::uint64_t, std::uint64_t>> seen;
  for (const auto& call : shared_.calls())
    seen.emplace_back(call.name, call.limit_count, call.cost);
  EXPECT_EQ(seen, expected);
}

TEST_F(SharedRateLimitsTest, DisabledLimitsNeverAskTheSharedLimiter) {
  auto config = no_limits();
  config.abuse.connections_per_ip = {100, 60s};  // on, but local only
  start(config);
  Client alice(*core_a_, "203.0.113.9");
  alice.sign_up_and_in(alice_);
  Client bob(*core_b_, "203.0.113.10");
  bob.sign_up_and_in(bob_);
  EXPECT_EQ(status_of(alice.call(bundle_request(bob_.account))), ErrorCode::kOk);
  EXPECT_EQ(status_of(alice.send_message(bob_.account, {1}, "message-0001", "hi")), ErrorCode::kOk);
  EXPECT_EQ(status_of(alice.call(create_attachment(6'000))), ErrorCode::kOk);
  EXPECT_TRUE(shared_.calls().empty());
  EXPECT_EQ(metrics_a_.value("parley_shared_rate_limit_errors_total", kSends), 0);
}

}  // namespace
}  // namespace parley::server::testing
