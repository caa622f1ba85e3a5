// SPDX-License-Identifier: AGPL-3.0-or-later
// Notices across nodes (ClusterBus::notify): two ServerCores over one MemoryStore, joined by the
// in-memory bus and one link-code registry. A device list changed on one node reaches the
// account's connections on the other; a removed device and a deleted account's devices are closed
// wherever they are connected; low one-time prekeys are pushed to the device's node.
#include <gtest/gtest.h>

#include "../src/link_codes.h"
#include "fake_cluster_bus.h"
#include "test_harness.h"

namespace parley::server::testing {
namespace {

std::size_t list_changes(const Client& client) {
  std::size_t n = 0;
  for (const auto& p : client.pushes()) n += p.has_device_list_changed();
  return n;
}

std::vector<std::uint64_t> prekeys_low(const Client& client) {
  std::vector<std::uint64_t> counts;
  for (const auto& p : client.pushes()) {
    if (p.has_prekeys_low()) counts.push_back(p.prekeys_low().one_time_prekey_count());
  }
  return counts;
}

class ClusterNoticeTest : public ::testing::Test {
 protected:
  ClusterNoticeTest() {
    ServerCoreConfig config = CoreFixture::test_config();
    config.link_codes = &link_codes_;
    config.cluster_bus = &bus_a_;
    core_a_ = std::make_unique<ServerCore>(store_, blobs_, clock_, metrics_a_, config);
    config.cluster_bus = &bus_b_;
    core_b_ = std::make_unique<ServerCore>(store_, blobs_, clock_, metrics_b_, config);
  }

  // Links `device` through `via` with a code from `primary`, then signs it in there.
  void link_and_sign_in(Client& primary, Client& via, Identity& device) {
    wire::Request r;
    r.mutable_create_link_code();
    wire::Response code = primary.call(r);
    ASSERT_EQ(status_of(code), ErrorCode::kOk) << code.message();
    wire::Response linked = via.link_device(device, code.create_link_code().code());
    ASSERT_EQ(status_of(linked), ErrorCode::kOk) << linked.message();
    ASSERT_EQ(status_of(via.authenticate(device)), ErrorCode::kOk);
  }

  FakeClock clock_;
  store::MemoryStore store_;
  store::MemoryBlobStore blobs_;
  LinkCodes link_codes_{clock_};
  Metrics metrics_a_;
  Metrics metrics_b_;
  FakeBusNetwork network_;
  FakeClusterBus bus_a_{network_};
  FakeClusterBus bus_b_{network_};
  std::unique_ptr<ServerCore> core_a_;
  std::unique_ptr<ServerCore> core_b_;
};

TEST_F(ClusterNoticeTest, ADeviceLinkedOnOneNodeIsAnnouncedToThePrimaryOnTheOther) {
  Client primary(*core_b_);
  Identity a;
  primary.sign_up_and_in(a);
  Client second(*core_a_);
  Identity b;
  link_and_sign_in(primary, second, b);
  EXPECT_TRUE(primary.sink().wait_until([](const std::vector<wire::Frame>& frames) {
    for (const auto& f : frames) {
      if (f.has_push() && f.push().has_device_list_changed()) return true;
    }
    return false;
  }));
  EXPECT_EQ(list_changes(primary), 1u);
  EXPECT_EQ(network_.notices_sent(), 2u);  // one per device of the account
  EXPECT_FALSE(primary.sink().close_reason());
}

TEST_F(ClusterNoticeTest, ADeviceOnTheSameNodeHearsTheChangeOnce) {
  Client primary(*core_a_);
  Identity a;
  primary.sign_up_and_in(a);
  Client second(*core_a_);
  Identity b;
  link_and_sign_in(primary, second, b);
  // Pushed here directly; the bus does not echo the notice back to this node.
  EXPECT_EQ(list_changes(primary), 1u);
}

TEST_F(ClusterNoticeTest, ADeviceRemovedWhileConnectedToAnotherNodeIsClosed) {
  Client primary(*core_a_);
  Identity a;
  primary.sign_up_and_in(a);
  Client second(*core_b_), third(*core_b_);
  Identity b, c;
  link_and_sign_in(primary, second, b);
  link_and_sign_in(primary, third, c);
  const std::size_t third_heard = list_changes(third);
  const std::size_t primary_heard = list_changes(primary);

  wire::Request remove;
  remove.mutable_remove_device()->set_device_id(b.device);
  ASSERT_EQ(status_of(primary.call(remove)), ErrorCode::kOk);
  EXPECT_EQ(second.sink().close_reason(), ErrorCode::kConnectionClosed);
  // The devices left hear that the list changed, wherever they are; nobody else is closed.
  EXPECT_EQ(list_changes(third), third_heard + 1);
  EXPECT_EQ(list_changes(primary), primary_heard + 1);
  EXPECT_FALSE(third.sink().close_reason());
  EXPECT_FALSE(primary.sink().close_reason());
  second.close();  // the gateway reports the close: node B detaches it
  EXPECT_EQ(network_.attachments(), 2u);
}

TEST_F(ClusterNoticeTest, ADeletedAccountsDevicesOnAnotherNodeAreClosed) {
  Client primary(*core_a_);
  Identity a;
  primary.sign_up_and_in(a);
  Client second(*core_b_);
  Identity b;
  link_and_sign_in(primary, second, b);
  Client bystander(*core_b_);
  Identity other;
  bystander.sign_up_and_in(other);

  wire::Request del;
  del.mutable_delete_account();
  ASSERT_EQ(status_of(primary.call(del)), ErrorCode::kOk);
  EXPECT_EQ(primary.sink().close_reason(), ErrorCode::kConnectionClosed);
  EXPECT_EQ(second.sink().close_reason(), ErrorCode::kConnectionClosed);
  EXPECT_FALSE(bystander.sink().close_reason());
}

TEST_F(ClusterNoticeTest, LowPrekeysAfterFetchesOnOneNodeArePushedOnTheOther) {
  Client alice(*core_a_);
  Identity a;
  alice.sign_up_and_in(a);
  Client bob(*core_b_);
  Identity b;
  bob.sign_up_and_in(b);
  ASSERT_EQ(status_of(bob.upload_prekeys(b, 1, 11)), ErrorCode::kOk);  // threshold: 10

  wire::Request fetch;
  fetch.mutable_get_prekey_bundle()->set_account_id(account_bytes(b.account));
  ASSERT_EQ(status_of(alice.call(fetch)), ErrorCode::kOk);  // 10 left: not low yet
  EXPECT_TRUE(prekeys_low(bob).empty());
  ASSERT_EQ(status_of(alice.call(fetch)), ErrorCode::kOk);  // 9 left
  ASSERT_TRUE(bob.sink().wait_until([](const std::vector<wire::Frame>& frames) {
    for (const auto& f : frames) {
      if (f.has_push() && f.push().has_prekeys_low()) return true;
    }
    return false;
  }));
  EXPECT_EQ(prekeys_low(bob), std::vector<std::uint64_t>{9});
  EXPECT_TRUE(prekeys_low(alice).empty());
}

}  // namespace
}  // namespace parley::server::testing
