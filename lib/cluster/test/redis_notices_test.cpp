// SPDX-License-Identifier: AGPL-3.0-or-later
// RedisClusterBus notices between two buses ("nodes") on a real Redis Cluster: each kind reaches
// the other node's attachment with its count, the sending node ignores its own, and anything on
// the channel that does not parse strictly is ignored and counted.
#include <gtest/gtest.h>

#include <mutex>

#include "cluster_fixtures.h"
#include "parley/cluster/redis_cluster_bus.h"
#include "parley/crypto/random.h"
#include "parley/redis/keys.h"
#include "redis_cluster_process.h"

namespace parley::cluster {
namespace {

using redis::test::eventually;
using server::DeviceNotice;
using Kind = server::DeviceNotice::Kind;

constexpr auto kWait = std::chrono::seconds(30);

store::DeviceAddress random_device() {
  store::DeviceAddress device;
  Bytes random = crypto::random_bytes(device.account_id.size());
  std::copy(random.begin(), random.end(), device.account_id.begin());
  device.device_id = 1;
  return device;
}

// What one attachment was told.
class Recorder {
 public:
  server::ClusterBus::Callbacks callbacks() {
    server::ClusterBus::Callbacks callbacks;
    callbacks.on_wake = [] {};
    callbacks.on_replaced = [this] {
      std::lock_guard lock(mutex_);
      replaced_ = true;
    };
    callbacks.on_notice = [this](const DeviceNotice& notice) {
      std::lock_guard lock(mutex_);
      notices_.push_back(notice);
    };
    return callbacks;
  }
  std::vector<DeviceNotice> notices() const {
    std::lock_guard lock(mutex_);
    return notices_;
  }
  bool replaced() const {
    std::lock_guard lock(mutex_);
    return replaced_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<DeviceNotice> notices_;
  bool replaced_ = false;
};

class RedisNoticesTest : public redis::test::TwoClientsTest {
 protected:
  void SetUp() override {
    TwoClientsTest::SetUp();
    if (HasFatalFailure()) return;
    RedisClusterBusOptions options;
    options.node_id = "node-a";
    a_ = std::make_unique<RedisClusterBus>(*node_a_, options);
    options.node_id = "node-b";
    b_ = std::make_unique<RedisClusterBus>(*node_b_, options);
  }

  std::unique_ptr<RedisClusterBus> a_;
  std::unique_ptr<RedisClusterBus> b_;
};

TEST_F(RedisNoticesTest, EveryKindReachesTheOtherNodeWithItsCount) {
  const store::DeviceAddress device = random_device();
  Recorder on_b;
  ASSERT_TRUE(b_->attach(device, 1, on_b.callbacks()).ok());

  a_->notify(device, {Kind::kDeviceListChanged, 0});
  a_->notify(device, {Kind::kPrekeysLow, 7});
  a_->notify(device, {Kind::kDeviceListChanged, 99});  // the count is only for kPrekeysLow
  a_->notify(device, {Kind::kRemoved, 0});
  ASSERT_TRUE(eventually([&] { return on_b.notices().size() >= 4; }, kWait));
  auto notices = on_b.notices();
  ASSERT_EQ(notices.size(), 4u);
  EXPECT_EQ(notices[0].kind, Kind::kDeviceListChanged);
  EXPECT_EQ(notices[1].kind, Kind::kPrekeysLow);
  EXPECT_EQ(notices[1].count, 7u);
  EXPECT_EQ(notices[2].kind, Kind::kDeviceListChanged);
  EXPECT_EQ(notices[2].count, 0u);
  EXPECT_EQ(notices[3].kind, Kind::kRemoved);
  EXPECT_EQ(a_->stats().notices_published, 4u);
  EXPECT_EQ(a_->stats().notice_errors, 0u);
  EXPECT_EQ(b_->stats().notices_received, 4u);
  EXPECT_EQ(b_->stats().ignored_messages, 0u);
  EXPECT_FALSE(on_b.replaced());
  b_->detach(device, 1);
}

TEST_F(RedisNoticesTest, TheSendingNodeIgnoresItsOwn) {
  const store::DeviceAddress device = random_device();
  Recorder on_a;
  ASSERT_TRUE(a_->attach(device, 1, on_a.callbacks()).ok());
  a_->notify(device, {Kind::kPrekeysLow, 3});
  a_->notify(device, {Kind::kRemoved, 0});
  // Published after a's (to the same master, which delivers in order): once b's arrives, a's two
  // have been read and dropped.
  b_->notify(device, {Kind::kPrekeysLow, 5});
  ASSERT_TRUE(eventually([&] { return !on_a.notices().empty(); }, kWait));
  auto notices = on_a.notices();
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].kind, Kind::kPrekeysLow);
  EXPECT_EQ(notices[0].count, 5u);
  EXPECT_EQ(a_->stats().notices_received, 1u);
  EXPECT_EQ(a_->stats().ignored_messages, 0u);
  a_->detach(device, 1);
}

TEST_F(RedisNoticesTest, ReplacedAttachmentsGetNoNoticesAndCallbacksMayDetach) {
  const store::DeviceAddress device = random_device();
  Recorder older;
  ASSERT_TRUE(b_->attach(device, 1, older.callbacks()).ok());
  // A newer connection of the device on a replaces the one on b.
  Recorder newer_on_a;
  ASSERT_TRUE(a_->attach(device, 2, newer_on_a.callbacks()).ok());
  ASSERT_TRUE(eventually([&] { return older.replaced(); }, kWait));

  // The core closes the connection on kRemoved, which detaches inside the callback.
  Recorder newer_on_b;
  server::ClusterBus::Callbacks callbacks = newer_on_b.callbacks();
  auto record = callbacks.on_notice;
  callbacks.on_notice = [this, device, record](const DeviceNotice& notice) {
    record(notice);
    if (notice.kind == Kind::kRemoved) b_->detach(device, 3);
  };
  ASSERT_TRUE(b_->attach(device, 3, callbacks).ok());
  ASSERT_TRUE(eventually([&] { return newer_on_a.replaced(); }, kWait));
  a_->detach(device, 2);

  a_->notify(device, {Kind::kRemoved, 0});
  ASSERT_TRUE(eventually([&] { return !newer_on_b.notices().empty(); }, kWait));
  EXPECT_TRUE(older.notices().empty());
  EXPECT_EQ(newer_on_b.notices().size(), 1u);
  // Detached by its own callback; the older (replaced) one is still attached until its close.
  EXPECT_EQ(b_->attachments(), 1u);
  b_->detach(device, 1);
  EXPECT_EQ(b_->attachments(), 0u);
}

TEST_F(RedisNoticesTest, GarbageOnTheChannelIsIgnoredAndCounted) {
  const store::DeviceAddress device = random_device();
  Recorder on_b;
  ASSERT_TRUE(b_->attach(device, 1, on_b.callbacks()).ok());
  const std::string channel = redis::wakeup_channel(device.account_id, device.device_id);
  const std::vector<std::string> garbage = {
      "",
      "bogus",
      "note:",
      "note:node-z",
      "note:node-z:prekeys",
      ":prekeys:1",
      "note::prekeys:1",                           // no node
      "note:node-z:unknown:0",                     // a kind this node does not know
      "note:node-z:Prekeys:1",                     // kinds are exact
      "note:node-z:removed:5",                     // a count on a kind without one
      "note:node-z:prekeys:",                      // no count
      "note:node-z:prekeys:-1",                    // signed
      "note:node-z:prekeys:+1",                    // signed
      "note:node-z:prekeys: 1",                    // space
      "note:node-z:prekeys:12x",                   // trailing
      "note:node-z:prekeys:99999999999999999999",  // past 64 bits
      std::string("note:node-z:prekeys:1\0", 22),  // a NUL after the digits
      "serve:",
      "serve:abc",
      "serve:0",
  };
  for (const std::string& message : garbage) {
    ASSERT_TRUE(redis::spublish(*node_a_, channel, message).ok());
  }
  // A node id may hold colons: the kind and count are read from the right.
  ASSERT_TRUE(redis::spublish(*node_a_, channel, "note:zone:1:node-z:prekeys:4").ok());
  ASSERT_TRUE(eventually([&] { return !on_b.notices().empty(); }, kWait));
  auto notices = on_b.notices();
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].kind, Kind::kPrekeysLow);
  EXPECT_EQ(notices[0].count, 4u);
  EXPECT_EQ(b_->stats().ignored_messages, garbage.size());
  EXPECT_FALSE(on_b.replaced());
  b_->detach(device, 1);
}

}  // namespace
}  // namespace parley::cluster
