// SPDX-License-Identifier: AGPL-3.0-or-later
// Cluster mode in the core: two ServerCores over one MemoryStore, joined by an in-memory
// ClusterBus (fake_cluster_bus.h). Live delivery across nodes, offline delivery, a lost wake-up
// (delivered at the next drain), and one device moving between nodes (the older connection is
// closed like a local replacement).
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "fake_cluster_bus.h"
#include "test_harness.h"

namespace parley::server::testing {
namespace {

class ClusterBusTest : public ::testing::Test {
 protected:
  explicit ClusterBusTest(std::uint32_t worker_threads = 0) {
    ServerCoreConfig config = CoreFixture::test_config();
    config.worker_threads = worker_threads;
    config.cluster_bus = &bus_a_;
    core_a_ = std::make_unique<ServerCore>(store_, blobs_, clock_, metrics_a_, config);
    config.cluster_bus = &bus_b_;
    core_b_ = std::make_unique<ServerCore>(store_, blobs_, clock_, metrics_b_, config);
  }

  // Alice signed in on node A, Bob on node B.
  void sign_in_both() {
    alice_ = std::make_unique<Client>(*core_a_);
    alice_->sign_up_and_in(alice_id_);
    bob_ = std::make_unique<Client>(*core_b_);
    bob_->sign_up_and_in(bob_id_);
    ASSERT_TRUE(bob_->wait_for_queue_empty());
  }

  FakeClock clock_;
  store::MemoryStore store_;
  store::MemoryBlobStore blobs_;
  Metrics metrics_a_;
  Metrics metrics_b_;
  FakeBusNetwork network_;
  FakeClusterBus bus_a_{network_};
  FakeClusterBus bus_b_{network_};
  std::unique_ptr<ServerCore> core_a_;
  std::unique_ptr<ServerCore> core_b_;
  Identity alice_id_;
  Identity bob_id_;
  std::unique_ptr<Client> alice_;
  std::unique_ptr<Client> bob_;
};

TEST_F(ClusterBusTest, LiveMessageReachesARecipientOnAnotherNode) {
  sign_in_both();
  ASSERT_EQ(status_of(alice_->send_message(bob_id_.account, {1}, "message-0001", "hi")),
            ErrorCode::kOk);
  ASSERT_TRUE(bob_->wait_for_messages(1));
  auto messages = bob_->messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].ciphertext(), "hi#1");
  EXPECT_EQ(account_from(messages[0].sender_account_id()), alice_id_.account);
  EXPECT_EQ(metrics_b_.value("parley_messages_delivered_total"), 1);

  // And back, in order, with acks deleting the copies from the shared store.
  ASSERT_EQ(status_of(bob_->send_message(alice_id_.account, {1}, "message-0002", "a")),
            ErrorCode::kOk);
  ASSERT_EQ(status_of(bob_->send_message(alice_id_.account, {1}, "message-0003", "b")),
            ErrorCode::kOk);
  ASSERT_TRUE(alice_->wait_for_messages(2));
  EXPECT_EQ(alice_->messages()[0].ciphertext(), "a#1");
  EXPECT_EQ(alice_->messages()[1].ciphertext(), "b#1");
  EXPECT_EQ(status_of(alice_->ack({alice_->messages()[0].seq(), alice_->messages()[1].seq()})),
            ErrorCode::kOk);
  EXPECT_EQ(*store_.count_messages({alice_id_.account, 1}), 0u);
}

TEST_F(ClusterBusTest, BothOnOneNodeAreServedLocallyExactlyOnce) {
  alice_ = std::make_unique<Client>(*core_a_);
  alice_->sign_up_and_in(alice_id_);
  bob_ = std::make_unique<Client>(*core_a_);
  bob_->sign_up_and_in(bob_id_);
  ASSERT_EQ(status_of(alice_->send_message(bob_id_.account, {1}, "message-0001", "hi")),
            ErrorCode::kOk);
  ASSERT_TRUE(bob_->wait_for_messages(1));
  EXPECT_EQ(bob_->messages().size(), 1u);
  EXPECT_EQ(metrics_a_.value("parley_messages_delivered_total"), 1);
}

TEST_F(ClusterBusTest, OfflineMessageIsDrainedWhenTheRecipientConnectsToAnotherNode) {
  alice_ = std::make_unique<Client>(*core_a_);
  alice_->sign_up_and_in(alice_id_);
  {
    Client registering(*core_b_);
    ASSERT_EQ(status_of(registering.register_account(bob_id_)), ErrorCode::kOk);
  }
  ASSERT_EQ(status_of(alice_->send_message(bob_id_.account, {1}, "message-0001", "while away")),
            ErrorCode::kOk);
  EXPECT_EQ(network_.attachments(), 1u);  // only Alice: nothing to wake for Bob

  bob_ = std::make_unique<Client>(*core_b_);
  ASSERT_EQ(status_of(bob_->authenticate(bob_id_)), ErrorCode::kOk);
  ASSERT_TRUE(bob_->wait_for_queue_empty());
  ASSERT_EQ(bob_->messages().size(), 1u);
  EXPECT_EQ(bob_->messages()[0].ciphertext(), "while away#1");
}

TEST_F(ClusterBusTest, LostWakeUpIsDeliveredAtTheNextDrain) {
  sign_in_both();
  network_.set_drop_wakes(true);
  ASSERT_EQ(status_of(alice_->send_message(bob_id_.account, {1}, "message-0001", "lost")),
            ErrorCode::kOk);
  EXPECT_EQ(network_.dropped_wakes(), 1u);
  // Inline workers: had the wake-up arrived, the push would have happened before send returned.
  EXPECT_TRUE(bob_->messages().empty());
  network_.set_drop_wakes(false);

  // The bus re-made its subscriptions (as after a Redis failover): it wakes every attachment.
  bus_b_.resubscribed();
  ASSERT_TRUE(bob_->wait_for_messages(1));
  EXPECT_EQ(bob_->messages()[0].ciphertext(), "lost#1");

  // Lost again, and this time Bob reconnects (to node B again): the drain on connect has it.
  network_.set_drop_wakes(true);
  ASSERT_EQ(status_of(alice_->send_message(bob_id_.account, {1}, "message-0002", "lost too")),
            ErrorCode::kOk);
  EXPECT_EQ(bob_->messages().size(), 1u);
  bob_->close();
  bob_ = std::make_unique<Client>(*core_b_);
  ASSERT_EQ(status_of(bob_->authenticate(bob_id_)), ErrorCode::kOk);
  ASSERT_TRUE(bob_->wait_for_queue_empty());
  auto messages = bob_->messages();
  ASSERT_EQ(messages.size(), 2u);  // the first was never acked, so it comes again
  EXPECT_EQ(messages[0].ciphertext(), "lost#1");
  EXPECT_EQ(messages[1].ciphertext(), "lost too#1");
}

TEST_F(ClusterBusTest, SameDeviceOnAnotherNodeReplacesTheOlderConnection) {
  sign_in_both();
  Client bob_elsewhere(*core_a_);
  ASSERT_EQ(status_of(bob_elsewhere.authenticate(bob_id_)), ErrorCode::kOk);
  // Closed with the error a replacement on one node uses.
  EXPECT_EQ(bob_->sink().close_reason(), ErrorCode::kConnectionClosed);
  EXPECT_FALSE(bob_elsewhere.sink().close_reason().has_value());
  EXPECT_EQ(metrics_b_.value("parley_authenticated_connections"), 0);
  bob_->close();                          // the gateway reports the close: node B detaches
  EXPECT_EQ(network_.attachments(), 2u);  // Alice and the new Bob, both on node A

  // Messages now reach the newer connection (on A, where Alice is too) and only it.
  ASSERT_EQ(status_of(alice_->send_message(bob_id_.account, {1}, "message-0001", "moved")),
            ErrorCode::kOk);
  ASSERT_TRUE(bob_elsewhere.wait_for_messages(1));
  EXPECT_EQ(bob_elsewhere.messages()[0].ciphertext(), "moved#1");
  EXPECT_TRUE(bob_->messages().empty());

  // Back to node B: the connection on A is replaced in turn.
  Client bob_back(*core_b_);
  ASSERT_EQ(status_of(bob_back.authenticate(bob_id_)), ErrorCode::kOk);
  EXPECT_EQ(bob_elsewhere.sink().close_reason(), ErrorCode::kConnectionClosed);
  EXPECT_FALSE(bob_back.sink().close_reason().has_value());
}

// A group message wakes the other nodes once per send, with every recipient device in one batch
// (which RedisClusterBus sends as one pipeline), not once per device.
TEST_F(ClusterBusTest, GroupSendWakesEveryRecipientDeviceInOneBatch) {
  sign_in_both();
  // Eight more members on node B: five stay signed in, three go offline.
  std::vector<Identity> members(8);
  std::vector<std::unique_ptr<Client>> online;
  for (std::size_t i = 0; i < members.size(); ++i) {
    auto client = std::make_unique<Client>(*core_b_);
    client->sign_up_and_in(members[i]);
    if (i < 5) {
      ASSERT_TRUE(client->wait_for_queue_empty());
      online.push_back(std::move(client));
    } else {
      client->close();
    }
  }
  std::vector<store::DeviceAddress> expected = {{bob_id_.account, bob_id_.device}};
  for (const Identity& member : members) expected.push_back({member.account, member.device});

  wire::Request request;
  auto* send = request.mutable_send_group_message();
  send->set_client_message_id("group-msg-0001");
  send->set_ciphertext("to the group");
  for (const store::DeviceAddress& device : expected) {
    auto* recipient = send->add_recipients();
    recipient->set_account_id(account_bytes(device.account_id));
    recipient->add_device_ids(device.device_id);
  }
  const std::size_t batches_before = bus_a_.wake_batches().size();
  wire::Response ack = alice_->call(request);
  ASSERT_EQ(status_of(ack), ErrorCode::kOk) << ack.message();
  ASSERT_EQ(ack.send_group_message().stored_copies(), expected.size());

  // Inline workers: the wake-ups were sent before call() returned.
  auto batches = bus_a_.wake_batches();
  ASSERT_EQ(batches.size(), batches_before + 1);
  std::vector<store::DeviceAddress> woken = batches.back();
  std::sort(woken.begin(), woken.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(woken, expected);
  EXPECT_TRUE(bus_b_.wake_batches().empty());

  // Everyone signed in on node B got it through those wake-ups.
  std::vector<Client*> receivers = {bob_.get()};
  for (const auto& client : online) receivers.push_back(client.get());
  for (Client* client : receivers) {
    ASSERT_TRUE(client->wait_for_messages(1));
    EXPECT_EQ(client->messages()[0].ciphertext(), "to the group");
  }

  // A one-to-one send is one batch as well, of the recipient's devices.
  ASSERT_EQ(status_of(alice_->send_message(bob_id_.account, {1}, "message-0002", "hi")),
            ErrorCode::kOk);
  batches = bus_a_.wake_batches();
  ASSERT_EQ(batches.size(), batches_before + 2);
  EXPECT_EQ(batches.back(), (std::vector<store::DeviceAddress>{{bob_id_.account, bob_id_.device}}));
}

TEST_F(ClusterBusTest, ClosedConnectionsDetach) {
  sign_in_both();
  EXPECT_EQ(network_.attachments(), 2u);
  alice_->close();
  bob_->close();
  EXPECT_EQ(network_.attachments(), 0u);
}

// The same across nodes with real worker threads: wake-ups arrive on another thread.
class ClusterBusThreadedTest : public ClusterBusTest {
 protected:
  ClusterBusThreadedTest() : ClusterBusTest(4) {}
};

TEST_F(ClusterBusThreadedTest, ManyMessagesBothWaysArriveInOrder) {
  sign_in_both();
  constexpr int kCount = 50;
  for (int i = 0; i < kCount; ++i) {
    std::string id = "message-" + std::to_string(1000 + i);
    ASSERT_EQ(status_of(alice_->send_message(bob_id_.account, {1}, id, "to-bob" + id)),
              ErrorCode::kOk);
    ASSERT_EQ(status_of(bob_->send_message(alice_id_.account, {1}, id, "to-alice" + id)),
              ErrorCode::kOk);
  }
  ASSERT_TRUE(bob_->wait_for_messages(kCount));
  ASSERT_TRUE(alice_->wait_for_messages(kCount));
  auto to_bob = bob_->messages();
  auto to_alice = alice_->messages();
  ASSERT_EQ(to_bob.size(), static_cast<std::size_t>(kCount));
  ASSERT_EQ(to_alice.size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    std::string id = "message-" + std::to_string(1000 + i);
    EXPECT_EQ(to_bob[static_cast<std::size_t>(i)].ciphertext(), "to-bob" + id + "#1");
    EXPECT_EQ(to_alice[static_cast<std::size_t>(i)].ciphertext(), "to-alice" + id + "#1");
  }
}

}  // namespace
}  // namespace parley::server::testing
