// SPDX-License-Identifier: AGPL-3.0-or-later
// A LinkCodeRegistry shared by two ServerCores over one MemoryStore (ServerCoreConfig::link_codes),
// as in cluster mode: a code handed out by one node links a device through the other, once; a
// registry that cannot be reached answers its error, never "unknown code".
#include "parley/server/link_code_registry.h"

#include <gtest/gtest.h>

#include <memory>
#include <mutex>

#include "../src/link_codes.h"
#include "test_harness.h"

namespace parley::server::testing {
namespace {

// The in-memory registry behind a switch that makes it unreachable, like Redis during an outage.
// While failing it neither creates nor takes anything.
class FlakyRegistry final : public LinkCodeRegistry {
 public:
  explicit FlakyRegistry(const Clock& clock) : codes_(clock) {}

  Result<std::string> create(const store::AccountId& account,
                             std::chrono::milliseconds ttl) override {
    if (failing()) return unreachable();
    return codes_.create(account, ttl);
  }
  Result<std::optional<store::AccountId>> take(std::string_view code) override {
    if (failing()) return unreachable();
    return codes_.take(code);
  }
  Status erase_account(const store::AccountId& account) override {
    if (failing()) return unreachable();
    return codes_.erase_account(account);
  }

  void set_failing(bool failing) {
    std::lock_guard lock(mutex_);
    failing_ = failing;
  }
  std::size_t size() const { return codes_.size(); }

 private:
  static Status unreachable() {
    return Status::error(ErrorCode::kUnavailable, "link codes are unreachable");
  }
  bool failing() const {
    std::lock_guard lock(mutex_);
    return failing_;
  }

  LinkCodes codes_;
  mutable std::mutex mutex_;
  bool failing_ = false;
};

wire::Request create_link_code() {
  wire::Request r;
  r.mutable_create_link_code();
  return r;
}

class LinkCodeRegistryTest : public ::testing::Test {
 protected:
  LinkCodeRegistryTest() {
    ServerCoreConfig config = CoreFixture::test_config();
    config.link_codes = &registry_;
    core_a_ = std::make_unique<ServerCore>(store_, blobs_, clock_, metrics_a_, config);
    core_b_ = std::make_unique<ServerCore>(store_, blobs_, clock_, metrics_b_, config);
  }

  // A code for the primary signed in on node A.
  std::string code_on_a(Client& primary) {
    wire::Response response = primary.call(create_link_code());
    EXPECT_EQ(status_of(response), ErrorCode::kOk) << response.message();
    return response.create_link_code().code();
  }

  FakeClock clock_;
  store::MemoryStore store_;
  store::MemoryBlobStore blobs_;
  FlakyRegistry registry_{clock_};
  Metrics metrics_a_;
  Metrics metrics_b_;
  std::unique_ptr<ServerCore> core_a_;
  std::unique_ptr<ServerCore> core_b_;
};

TEST_F(LinkCodeRegistryTest, ACodeFromOneNodeLinksThroughTheOtherOnce) {
  Client primary(*core_a_);
  Identity a;
  primary.sign_up_and_in(a);
  std::string code = code_on_a(primary);
  EXPECT_EQ(code.size(), kLinkCodeLength);
  EXPECT_EQ(registry_.size(), 1u);

  Client second(*core_b_);
  Identity b;
  wire::Response linked = second.link_device(b, code);
  ASSERT_EQ(status_of(linked), ErrorCode::kOk) << linked.message();
  EXPECT_EQ(b.account, a.account);
  EXPECT_EQ(b.device, 2u);
  EXPECT_EQ(status_of(second.authenticate(b)), ErrorCode::kOk);
  EXPECT_EQ(registry_.size(), 0u);

  // Single use on every node.
  Client again_b(*core_b_), again_a(*core_a_);
  Identity c, d;
  EXPECT_EQ(status_of(again_b.link_device(c, code)), ErrorCode::kChallengeInvalid);
  EXPECT_EQ(status_of(again_a.link_device(d, code)), ErrorCode::kChallengeInvalid);
  EXPECT_EQ(store_.list_devices(a.account)->size(), 2u);
}

TEST_F(LinkCodeRegistryTest, AnUnreachableRegistryIsUnavailableNeverUnknownCode) {
  Client primary(*core_a_);
  Identity a;
  primary.sign_up_and_in(a);
  std::string code = code_on_a(primary);

  registry_.set_failing(true);
  EXPECT_EQ(status_of(primary.call(create_link_code())), ErrorCode::kUnavailable);
  Client second(*core_b_);
  Identity b;
  wire::Response refused = second.link_device(b, code);
  EXPECT_EQ(status_of(refused), ErrorCode::kUnavailable);
  EXPECT_EQ(refused.message().find("unknown"), std::string::npos) << refused.message();
  EXPECT_FALSE(second.sink().close_reason());

  // Nothing was taken meanwhile: the same code works once the registry is back.
  registry_.set_failing(false);
  EXPECT_EQ(status_of(second.link_device(b, code)), ErrorCode::kOk);
}

TEST_F(LinkCodeRegistryTest, DeletingTheAccountErasesItsCode) {
  Client primary(*core_a_);
  Identity a;
  primary.sign_up_and_in(a);
  (void)code_on_a(primary);
  wire::Request del;
  del.mutable_delete_account();
  ASSERT_EQ(status_of(primary.call(del)), ErrorCode::kOk);
  EXPECT_EQ(registry_.size(), 0u);
}

TEST_F(LinkCodeRegistryTest, AnAccountIsDeletedEvenWhenItsCodeCannotBeErased) {
  Client primary(*core_a_);
  Identity a;
  primary.sign_up_and_in(a);
  std::string code = code_on_a(primary);
  registry_.set_failing(true);
  wire::Request del;
  del.mutable_delete_account();
  ASSERT_EQ(status_of(primary.call(del)), ErrorCode::kOk);
  registry_.set_failing(false);
  // The code left behind links nothing: its account is gone.
  Client second(*core_b_);
  Identity b;
  EXPECT_NE(status_of(second.link_device(b, code)), ErrorCode::kOk);
  EXPECT_EQ(store_.get_account(a.account).status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace parley::server::testing
