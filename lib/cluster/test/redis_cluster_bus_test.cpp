// SPDX-License-Identifier: AGPL-3.0-or-later
// RedisClusterBus against a real Redis Cluster: two ServerCores ("nodes") over one MemoryStore,
// each with its own RedisCluster client and bus. Live delivery across nodes, the newer connection
// of a device winning across nodes, and wake-ups after a master with the device's channel is
// killed and its replica takes over (a message committed during the failover arrives once the
// subscription is re-made). And the whole of cluster mode's shared state at once: a link code
// asked for on one node redeemed on the other, the device-list notice crossing back, and one
// rate limit counted across both nodes.
#include "parley/cluster/redis_cluster_bus.h"

#include <gtest/gtest.h>

#include <set>

#include "parley/cluster/redis_link_codes.h"
#include "parley/cluster/redis_rate_limits.h"
#include "parley/redis/crc16.h"
#include "parley/redis/keys.h"
#include "redis_cluster_process.h"
#include "test_harness.h"

namespace parley::cluster {
namespace {

using redis::test::eventually;
using redis::test::RedisClusterProcess;
using server::testing::account_from;
using server::testing::Client;
using server::testing::Identity;
using server::testing::status_of;

constexpr auto kWait = std::chrono::seconds(30);

// Sends per account in the test with shared state: counted across both nodes.
constexpr std::uint64_t kSharedSends = 3;

// One parleyd node: its own Redis client, bus and core; the store is shared. With
// `shared_state`, also the rate limits and link codes in Redis, as parleyd runs in cluster mode.
struct Node {
  Node(RedisClusterProcess& redis_cluster, store::MemoryStore& store, store::MemoryBlobStore& blobs,
       const Clock& clock, const std::string& name, bool shared_state) {
    auto connected = redis::RedisCluster::connect(redis_cluster.seeds());
    EXPECT_TRUE(connected.ok()) << connected.status().to_string();
    if (!connected.ok()) return;
    redis = std::move(connected).value();
    RedisClusterBusOptions options;
    options.node_id = name;
    bus = std::make_unique<RedisClusterBus>(*redis, options);
    server::ServerCoreConfig config = server::testing::CoreFixture::test_config();
    config.worker_threads = 2;  // wake-ups arrive on the bus's reader thread: queue, don't run
    config.cluster_bus = bus.get();
    if (shared_state) {
      limits = std::make_unique<RedisRateLimits>(*redis);
      link_codes = std::make_unique<RedisLinkCodes>(*redis);
      config.shared_rate_limits = limits.get();
      config.link_codes = link_codes.get();
      config.abuse.sends_per_account = {kSharedSends, std::chrono::hours(1)};
    }
    core = std::make_unique<server::ServerCore>(store, blobs, clock, metrics, config);
  }
  ~Node() {
    if (core) core->shutdown();
  }

  server::Metrics metrics;
  std::unique_ptr<redis::RedisCluster> redis;
  std::unique_ptr<RedisClusterBus> bus;
  std::unique_ptr<RedisRateLimits> limits;
  std::unique_ptr<RedisLinkCodes> link_codes;
  std::unique_ptr<server::ServerCore> core;
};

class RedisClusterBusTest : public ::testing::Test {
 protected:
  // Nodes "a" and "b" on `cluster`; Alice signed in on a, Bob on b.
  void start(RedisClusterProcess& cluster, bool shared_state = false) {
    a_ = std::make_unique<Node>(cluster, store_, blobs_, clock_, "node-a", shared_state);
    b_ = std::make_unique<Node>(cluster, store_, blobs_, clock_, "node-b", shared_state);
    ASSERT_TRUE(a_->core && b_->core);
    alice_ = std::make_unique<Client>(*a_->core);
    alice_->sign_up_and_in(alice_id_);
    bob_ = std::make_unique<Client>(*b_->core);
    bob_->sign_up_and_in(bob_id_);
    ASSERT_TRUE(alice_->wait_for_queue_empty());
    ASSERT_TRUE(bob_->wait_for_queue_empty());
  }
  void TearDown() override {
    // Connections first (they detach), then the nodes.
    alice_.reset();
    bob_.reset();
    a_.reset();
    b_.reset();
  }

  bool bob_has(const std::string& ciphertext) const {
    for (const auto& m : bob_->messages()) {
      if (m.ciphertext() == ciphertext) return true;
    }
    return false;
  }

  FakeClock clock_;
  store::MemoryStore store_;
  store::MemoryBlobStore blobs_;
  std::unique_ptr<Node> a_;
  std::unique_ptr<Node> b_;
  Identity alice_id_;
  Identity bob_id_;
  std::unique_ptr<Client> alice_;
  std::unique_ptr<Client> bob_;
};

RedisClusterProcess* shared(std::string* error) {
  return redis::test::shared_cluster(error);
}

TEST_F(RedisClusterBusTest, LiveMessagesCrossNodesBothWays) {
  std::string error;
  RedisClusterProcess* cluster = shared(&error);
  ASSERT_NE(cluster, nullptr) << error;
  start(*cluster);
  EXPECT_EQ(a_->bus->attachments(), 1u);
  EXPECT_EQ(b_->bus->attachments(), 1u);

  ASSERT_EQ(status_of(alice_->send_message(bob_id_.account, {1}, "message-0001", "hi bob")),
            ErrorCode::kOk);
  ASSERT_TRUE(bob_->wait_for_messages(1));
  EXPECT_EQ(bob_->messages()[0].ciphertext(), "hi bob#1");
  EXPECT_EQ(account_from(bob_->messages()[0].sender_account_id()), alice_id_.account);

  constexpr int kCount = 20;
  for (int i = 0; i < kCount; ++i) {
    std::string id = "message-" + std::to_string(2000 + i);
    ASSERT_EQ(status_of(bob_->send_message(alice_id_.account, {1}, id, id)), ErrorCode::kOk);
  }
  ASSERT_TRUE(alice_->wait_for_messages(kCount));
  auto received = alice_->messages();
  ASSERT_EQ(received.size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(received[static_cast<std::size_t>(i)].ciphertext(),
              "message-" + std::to_string(2000 + i) + "#1");
  }
  // Published after each send's response, so the last may still be on its way.
  EXPECT_TRUE(eventually(
      [&] { return b_->bus->stats().wakes_published >= static_cast<std::uint64_t>(kCount); },
      kWait));
  EXPECT_GE(a_->bus->stats().wakes_received, 1u);

  // Closing detaches: nothing stays subscribed.
  alice_->close();
  bob_->close();
  EXPECT_EQ(a_->bus->attachments(), 0u);
  EXPECT_EQ(b_->bus->attachments(), 0u);
}

// One group message from node a to devices attached on node b whose channels live on every
// master: node a wakes them all with one pipelined batch and every device gets the message.
TEST_F(RedisClusterBusTest, GroupSendWakesEveryDeviceOnTheOtherNode) {
  std::string error;
  RedisClusterProcess* cluster = shared(&error);
  ASSERT_NE(cluster, nullptr) << error;
  start(*cluster);

  std::vector<store::DeviceAddress> devices = {{bob_id_.account, bob_id_.device}};
  std::vector<std::unique_ptr<Client>> members;
  std::set<int> masters;
  auto master_of = [&](const store::DeviceAddress& d) {
    return a_->redis
        ->master_for_slot(redis::key_slot(redis::wakeup_channel(d.account_id, d.device_id)))
        ->port;
  };
  masters.insert(master_of(devices[0]));
  // At least 20 members, and as many as it takes for their channels to cover every master.
  while (members.size() < 20 || (masters.size() < 3 && members.size() < 200)) {
    Identity id;
    members.push_back(std::make_unique<Client>(*b_->core));
    members.back()->sign_up_and_in(id);
    ASSERT_TRUE(members.back()->wait_for_queue_empty());
    devices.push_back({id.account, id.device});
    masters.insert(master_of(devices.back()));
  }
  ASSERT_EQ(masters.size(), 3u);

  wire::Request request;
  auto* send = request.mutable_send_group_message();
  send->set_client_message_id("group-msg-0001");
  send->set_ciphertext("to everyone on b");
  for (const store::DeviceAddress& device : devices) {
    auto* recipient = send->add_recipients();
    recipient->set_account_id(server::testing::account_bytes(device.account_id));
    recipient->add_device_ids(device.device_id);
  }
  const RedisClusterBusStats before = a_->bus->stats();
  wire::Response ack = alice_->call(request);
  ASSERT_EQ(status_of(ack), ErrorCode::kOk) << ack.message();
  ASSERT_EQ(ack.send_group_message().stored_copies(), devices.size());

  ASSERT_TRUE(bob_->wait_for_messages(1));
  EXPECT_EQ(bob_->messages()[0].ciphertext(), "to everyone on b");
  for (const auto& member : members) {
    ASSERT_TRUE(member->wait_for_messages(1));
    EXPECT_EQ(member->messages()[0].ciphertext(), "to everyone on b");
  }
  // Counted per device; published after the response, so possibly still under way.
  EXPECT_TRUE(eventually(
      [&] { return a_->bus->stats().wakes_published - before.wakes_published == devices.size(); },
      kWait));
  EXPECT_EQ(a_->bus->stats().wake_errors, before.wake_errors);
  EXPECT_GE(b_->bus->stats().wakes_received, devices.size());
}

TEST_F(RedisClusterBusTest, NewerConnectionOnAnotherNodeClosesTheOlder) {
  std::string error;
  RedisClusterProcess* cluster = shared(&error);
  ASSERT_NE(cluster, nullptr) << error;
  start(*cluster);

  Client bob_on_a(*a_->core);
  ASSERT_EQ(status_of(bob_on_a.authenticate(bob_id_)), ErrorCode::kOk);
  ASSERT_TRUE(eventually([&] { return bob_->sink().close_reason().has_value(); }, kWait));
  EXPECT_EQ(bob_->sink().close_reason(), ErrorCode::kConnectionClosed);
  EXPECT_FALSE(bob_on_a.sink().close_reason().has_value());
  EXPECT_EQ(b_->bus->stats().replaced, 1u);
  bob_->close();  // the gateway reports the close

  // Messages reach the newer connection only.
  ASSERT_EQ(status_of(alice_->send_message(bob_id_.account, {1}, "message-0001", "moved")),
            ErrorCode::kOk);
  ASSERT_TRUE(bob_on_a.wait_for_messages(1));
  EXPECT_EQ(bob_on_a.messages()[0].ciphertext(), "moved#1");
  EXPECT_TRUE(bob_->messages().empty());

  // And back: the connection on a is replaced in turn, by b.
  Client bob_on_b(*b_->core);
  ASSERT_EQ(status_of(bob_on_b.authenticate(bob_id_)), ErrorCode::kOk);
  ASSERT_TRUE(eventually([&] { return bob_on_a.sink().close_reason().has_value(); }, kWait));
  EXPECT_FALSE(bob_on_b.sink().close_reason().has_value());
}

TEST_F(RedisClusterBusTest, WakeUpsSurviveAFailoverOfTheDevicesMaster) {
  auto started = RedisClusterProcess::start({.masters = 3, .replicas = true});
  ASSERT_TRUE(started.ok()) << started.status().to_string();
  RedisClusterProcess& cluster = **started;
  start(cluster);

  ASSERT_EQ(status_of(alice_->send_message(bob_id_.account, {1}, "message-0001", "before")),
            ErrorCode::kOk);
  ASSERT_TRUE(bob_->wait_for_messages(1));

  // Kill the master that carries Bob's wake-up channel, once its replica has everything.
  const std::string channel = redis::wakeup_channel(bob_id_.account, bob_id_.device);
  auto doomed = cluster.master_index_for_slot(redis::key_slot(channel));
  ASSERT_TRUE(doomed.ok()) << doomed.status().to_string();
  int doomed_port = cluster.nodes()[static_cast<std::size_t>(*doomed)].port;
  ASSERT_TRUE(cluster.node_command(doomed_port, {"WAIT", "1", "5000"}).ok());
  cluster.kill_node(*doomed);

  // Committed while the channel's master is down: its wake-up may be lost or delayed. The store
  // has it, and the re-made subscription wakes Bob's connection, which drains it.
  ASSERT_EQ(status_of(alice_->send_message(bob_id_.account, {1}, "message-0002", "during")),
            ErrorCode::kOk);
  ASSERT_TRUE(
      eventually([&] { return b_->bus->stats().resubscriptions >= 1; }, std::chrono::seconds(60)));
  ASSERT_TRUE(eventually([&] { return bob_has("during#1"); }, kWait));

  // And live wake-ups work again through the replica that took over.
  ASSERT_EQ(status_of(alice_->send_message(bob_id_.account, {1}, "message-0003", "after")),
            ErrorCode::kOk);
  ASSERT_TRUE(eventually([&] { return bob_has("after#1"); }, kWait));
  auto messages = bob_->messages();
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[1].ciphertext(), "during#1");
  EXPECT_EQ(messages[2].ciphertext(), "after#1");
}

TEST_F(RedisClusterBusTest, LinkCodesNoticesAndRateLimitsAreSharedByTheNodes) {
  std::string error;
  RedisClusterProcess* cluster = shared(&error);
  ASSERT_NE(cluster, nullptr) << error;
  start(*cluster, /*shared_state=*/true);

  // Alice's primary asks node a for a code; her new device redeems it on node b.
  wire::Request ask;
  ask.mutable_create_link_code();
  wire::Response code = alice_->call(ask);
  ASSERT_EQ(status_of(code), ErrorCode::kOk) << code.message();
  EXPECT_EQ(a_->link_codes->stats().created, 1u);
  Identity second;
  Client second_on_b(*b_->core);
  wire::Response linked = second_on_b.link_device(second, code.create_link_code().code());
  ASSERT_EQ(status_of(linked), ErrorCode::kOk) << linked.message();
  EXPECT_EQ(second.account, alice_id_.account);
  EXPECT_EQ(second.device, 2u);
  EXPECT_EQ(b_->link_codes->stats().taken, 1u);

  // Used once: neither node takes it again.
  Identity third;
  Client third_on_a(*a_->core);
  EXPECT_EQ(status_of(third_on_a.link_device(third, code.create_link_code().code())),
            ErrorCode::kChallengeInvalid);

  // The link happened on b; Alice's primary on a hears that her device list changed.
  ASSERT_TRUE(alice_->sink().wait_until([](const std::vector<wire::Frame>& frames) {
    for (const auto& frame : frames) {
      if (frame.has_push() && frame.push().has_device_list_changed()) return true;
    }
    return false;
  }));
  EXPECT_GE(a_->bus->stats().notices_received, 1u);

  // Alice's sends count once across both nodes: her primary on a and her new device on b.
  ASSERT_EQ(status_of(second_on_b.authenticate(second)), ErrorCode::kOk);
  std::vector<ErrorCode> answers;
  for (std::uint64_t i = 0; i <= kSharedSends; ++i) {
    Client& sender = i % 2 == 0 ? *alice_ : second_on_b;
    std::string id = "message-" + std::to_string(3000 + i);
    answers.push_back(status_of(sender.send_message(bob_id_.account, {1}, id, id)));
  }
  for (std::uint64_t i = 0; i < kSharedSends; ++i) EXPECT_EQ(answers[i], ErrorCode::kOk) << i;
  EXPECT_EQ(answers[kSharedSends], ErrorCode::kRateLimited);
  EXPECT_EQ(a_->limits->stats().errors + b_->limits->stats().errors, 0u);
  EXPECT_EQ(a_->limits->stats().refused + b_->limits->stats().refused, 1u);
}

}  // namespace
}  // namespace parley::cluster
