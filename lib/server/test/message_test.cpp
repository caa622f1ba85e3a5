// SPDX-License-Identifier: AGPL-3.0-or-later
// Mailboxes: send, device-set checks, dedupe, delivery order, acks, caps, retention.
#include <gtest/gtest.h>

#include <thread>

#include "parley/util/encoding.h"
#include "test_harness.h"

namespace parley::server::testing {
namespace {

class MessageTest : public ::testing::Test, public CoreFixture {
 protected:
  // Alice with `devices` devices (all signed in on their own clients) and Bob with one.
  void set_up_accounts(int alice_devices) {
    alice_.push_back(std::make_unique<Client>(*core));
    alice_ids_.resize(1);
    alice_[0]->sign_up_and_in(alice_ids_[0]);
    for (int i = 1; i < alice_devices; ++i) {
      wire::Request r;
      r.mutable_create_link_code();
      std::string code = alice_[0]->call(r).create_link_code().code();
      alice_.push_back(std::make_unique<Client>(*core));
      alice_ids_.emplace_back();
      ASSERT_EQ(status_of(alice_.back()->link_device(alice_ids_.back(), code)), ErrorCode::kOk);
      ASSERT_EQ(status_of(alice_.back()->authenticate(alice_ids_.back())), ErrorCode::kOk);
    }
    bob_ = std::make_unique<Client>(*core);
    bob_->sign_up_and_in(bob_id_);
  }
  store::AccountId alice() const { return alice_ids_[0].account; }

  std::vector<std::unique_ptr<Client>> alice_;
  std::vector<Identity> alice_ids_;
  std::unique_ptr<Client> bob_;
  Identity bob_id_;
};

TEST_F(MessageTest, SendReachesEveryDeviceAtOnce) {
  set_up_accounts(3);
  wire::Response ack = bob_->send_message(alice(), {1, 2, 3}, "message-0001", "hello");
  ASSERT_EQ(status_of(ack), ErrorCode::kOk) << ack.message();
  EXPECT_EQ(ack.send_message().client_message_id(), "message-0001");
  EXPECT_EQ(ack.send_message().stored_copies(), 3u);
  for (int d = 0; d < 3; ++d) {
    ASSERT_TRUE(alice_[d]->wait_for_messages(1));
    auto messages = alice_[d]->messages();
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0].ciphertext(), "hello#" + std::to_string(d + 1));
    EXPECT_EQ(account_from(messages[0].sender_account_id()), bob_id_.account);
    EXPECT_EQ(messages[0].sender_device_id(), 1u);
    EXPECT_EQ(messages[0].seq(), 1u);
  }
  EXPECT_EQ(metrics.value("parley_messages_stored_total"), 3);
  EXPECT_EQ(metrics.value("parley_messages_delivered_total"), 3);
  // Metrics carry no user data: no account id appears in the rendered text.
  std::string rendered = metrics.render_prometheus();
  EXPECT_EQ(rendered.find(hex_encode(alice_ids_[0].account)), std::string::npos);
  EXPECT_EQ(rendered.find(hex_encode(bob_id_.account)), std::string::npos);
  EXPECT_NE(rendered.find("parley_frames_total{type=\"send_message\"} 1"), std::string::npos);
}

TEST_F(MessageTest, DeviceMismatchNamesMissingAndExtraDevices) {
  set_up_accounts(3);
  wire::Response r = bob_->send_message(alice(), {1, 3, 5}, "message-0001", "hello");
  EXPECT_EQ(status_of(r), ErrorCode::kDeviceMismatch);
  ASSERT_TRUE(r.has_device_mismatch());
  EXPECT_EQ(std::vector<std::uint32_t>(r.device_mismatch().missing_devices().begin(),
                                       r.device_mismatch().missing_devices().end()),
            std::vector<std::uint32_t>{2});
  EXPECT_EQ(std::vector<std::uint32_t>(r.device_mismatch().extra_devices().begin(),
                                       r.device_mismatch().extra_devices().end()),
            std::vector<std::uint32_t>{5});
  EXPECT_EQ(store.count_messages({alice(), 1}).value(), 0u);  // nothing written
}

TEST_F(MessageTest, SendingToOwnOtherDevicesExcludesTheSender) {
  set_up_accounts(2);
  EXPECT_EQ(status_of(alice_[0]->send_message(alice(), {1, 2}, "sync-000001", "x")),
            ErrorCode::kDeviceMismatch);
  ASSERT_EQ(status_of(alice_[0]->send_message(alice(), {2}, "sync-000001", "x")), ErrorCode::kOk);
  EXPECT_TRUE(alice_[1]->wait_for_messages(1));
}

TEST_F(MessageTest, RetryWithTheSameIdIsStoredAndDeliveredOnce) {
  set_up_accounts(1);
  wire::Response first = bob_->send_message(alice(), {1}, "message-0001", "hello");
  wire::Response retry = bob_->send_message(alice(), {1}, "message-0001", "hello");
  ASSERT_EQ(status_of(first), ErrorCode::kOk);
  ASSERT_EQ(status_of(retry), ErrorCode::kOk);
  first.clear_id();
  retry.clear_id();
  EXPECT_EQ(first.SerializeAsString(), retry.SerializeAsString());  // the same ack
  EXPECT_EQ(store.count_messages({alice(), 1}).value(), 1u);
  ASSERT_TRUE(alice_[0]->wait_for_messages(1));
  EXPECT_EQ(alice_[0]->messages().size(), 1u);
  EXPECT_EQ(metrics.value("parley_messages_duplicate_total"), 1);
  // A new id is a new message.
  ASSERT_EQ(status_of(bob_->send_message(alice(), {1}, "message-0002", "again")), ErrorCode::kOk);
  EXPECT_EQ(store.count_messages({alice(), 1}).value(), 2u);
}

TEST_F(MessageTest, OfflineDeviceDrainsInOrderThenGetsQueueEmpty) {
  set_up_accounts(1);
  alice_[0]->close();
  for (int i = 0; i < 250; ++i) {  // more than one drain batch
    char id[32];
    (void)std::snprintf(id, sizeof id, "message-%04d", i);
    ASSERT_EQ(status_of(bob_->send_message(alice(), {1}, id, "m" + std::to_string(i))),
              ErrorCode::kOk);
  }
  Client reconnect(*core);
  wire::Response authed = reconnect.authenticate(alice_ids_[0]);
  ASSERT_EQ(status_of(authed), ErrorCode::kOk);
  EXPECT_EQ(authed.authenticate().queued_messages(), 250u);
  ASSERT_TRUE(reconnect.wait_for_queue_empty());
  auto frames = reconnect.sink().frames();
  // Order on the wire: the authenticate response, 250 messages in seq order, then queue empty.
  std::vector<std::uint64_t> seqs;
  bool empty_seen = false;
  for (const auto& f : frames) {
    if (!f.has_push()) continue;
    if (f.push().has_queue_empty()) {
      empty_seen = true;
      continue;
    }
    ASSERT_FALSE(empty_seen) << "message after queue empty";
    seqs.push_back(f.push().message().seq());
  }
  ASSERT_EQ(seqs.size(), 250u);
  for (std::size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i + 1);
  EXPECT_EQ(reconnect.messages()[0].ciphertext(), "m0#1");
}

TEST_F(MessageTest, AckDeletesTheCopyAndUnackedMessagesAreRedelivered) {
  set_up_accounts(1);
  ASSERT_EQ(status_of(bob_->send_message(alice(), {1}, "message-0001", "a")), ErrorCode::kOk);
  ASSERT_EQ(status_of(bob_->send_message(alice(), {1}, "message-0002", "b")), ErrorCode::kOk);
  ASSERT_TRUE(alice_[0]->wait_for_messages(2));
  wire::Response acked = alice_[0]->ack({1});
  ASSERT_EQ(status_of(acked), ErrorCode::kOk);
  EXPECT_EQ(acked.ack_messages().deleted(), 1u);
  EXPECT_EQ(store.count_messages({alice(), 1}).value(), 1u);
  EXPECT_EQ(alice_[0]->ack({1}).ack_messages().deleted(), 0u);  // idempotent
  alice_[0]->close();
  Client reconnect(*core);
  ASSERT_EQ(status_of(reconnect.authenticate(alice_ids_[0])), ErrorCode::kOk);
  ASSERT_TRUE(reconnect.wait_for_queue_empty());
  ASSERT_EQ(reconnect.messages().size(), 1u);
  EXPECT_EQ(reconnect.messages()[0].seq(), 2u);
  EXPECT_EQ(metrics.value("parley_messages_acked_total"), 1);
}

TEST(MessageQueueCap, FullMailboxIsAClearError) {
  auto config = CoreFixture::test_config();
  config.max_queue_per_device = 3;
  CoreFixture f(config);
  Client alice(*f.core), bob(*f.core);
  Identity a, b;
  alice.sign_up_and_in(a);
  alice.close();
  bob.sign_up_and_in(b);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(status_of(bob.send_message(a.account, {1}, "message-000" + std::to_string(i), "x")),
              ErrorCode::kOk);
  }
  wire::Response full = bob.send_message(a.account, {1}, "message-0009", "x");
  EXPECT_EQ(status_of(full), ErrorCode::kQueueFull);
  EXPECT_NE(full.message().find("limit"), std::string::npos);
  EXPECT_EQ(f.store.count_messages({a.account, 1}).value(), 3u);
}

TEST(MessageWindow, DeliveryPausesAtTheWindowAndResumesOnAcks) {
  auto config = CoreFixture::test_config();
  config.delivery_window = 10;
  CoreFixture f(config);
  Client alice(*f.core), bob(*f.core);
  Identity a, b;
  alice.sign_up_and_in(a);
  alice.close();
  bob.sign_up_and_in(b);
  for (int i = 0; i < 25; ++i) {
    ASSERT_EQ(
        status_of(bob.send_message(a.account, {1}, "message-00" + std::to_string(10 + i), "x")),
        ErrorCode::kOk);
  }
  Client device(*f.core);
  ASSERT_EQ(status_of(device.authenticate(a)), ErrorCode::kOk);
  ASSERT_TRUE(device.wait_for_messages(10));
  EXPECT_EQ(device.messages().size(), 10u);  // window full: paused
  EXPECT_FALSE(device.queue_empty_received());
  std::uint64_t next = 1;
  while (device.messages().size() < 25) {
    std::vector<std::uint64_t> seqs;
    for (const auto& m : device.messages()) {
      if (m.seq() >= next) seqs.push_back(m.seq());
    }
    ASSERT_FALSE(seqs.empty());
    next = seqs.back() + 1;
    ASSERT_EQ(status_of(device.ack(seqs)), ErrorCode::kOk);
  }
  ASSERT_TRUE(device.wait_for_queue_empty());
  auto messages = device.messages();
  for (std::size_t i = 0; i < messages.size(); ++i) EXPECT_EQ(messages[i].seq(), i + 1);
}

TEST(MessageWindow, TheByteWindowPausesDeliveryToo) {
  auto config = CoreFixture::test_config();
  config.delivery_window_bytes = 10;  // each ciphertext below is 3 bytes ("x#1")
  CoreFixture f(config);
  Client alice(*f.core), bob(*f.core);
  Identity a, b;
  alice.sign_up_and_in(a);
  alice.close();
  bob.sign_up_and_in(b);
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(status_of(bob.send_message(a.account, {1}, "message-000" + std::to_string(i), "x")),
              ErrorCode::kOk);
  }
  Client device(*f.core);
  ASSERT_EQ(status_of(device.authenticate(a)), ErrorCode::kOk);
  ASSERT_TRUE(device.wait_for_messages(4));
  EXPECT_EQ(device.messages().size(), 4u);  // 12 bytes >= 10: paused
  ASSERT_EQ(status_of(device.ack({1, 2, 3, 4})), ErrorCode::kOk);
  ASSERT_TRUE(device.wait_for_messages(8));
  ASSERT_EQ(status_of(device.ack({5, 6, 7, 8})), ErrorCode::kOk);
  ASSERT_TRUE(device.wait_for_queue_empty());
  EXPECT_EQ(device.messages().size(), 8u);
}

// A client on a freezing network asks for a small byte window at sign-in (docs/client.md).
TEST(MessageWindow, AClientMayAskForASmallerByteWindow) {
  CoreFixture f;
  Client alice(*f.core), bob(*f.core);
  Identity a, b;
  alice.sign_up_and_in(a);
  alice.close();
  bob.sign_up_and_in(b);
  const std::string text(600, 'p');  // two of them fill a 1 KiB window
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(status_of(bob.send_message(a.account, {1}, "message-000" + std::to_string(i), text)),
              ErrorCode::kOk);
  }
  {
    Client small(*f.core);
    // Below the floor: the server uses 1024.
    ASSERT_EQ(status_of(small.authenticate(a, 10)), ErrorCode::kOk);
    ASSERT_TRUE(small.wait_for_messages(2));
    EXPECT_EQ(small.messages().size(), 2u);  // 1,200 bytes >= 1,024: paused
    EXPECT_FALSE(small.queue_empty_received());
    ASSERT_EQ(status_of(small.ack({1, 2})), ErrorCode::kOk);
    ASSERT_TRUE(small.wait_for_messages(4));
    EXPECT_EQ(small.messages().size(), 4u);
    ASSERT_EQ(status_of(small.ack({3, 4})), ErrorCode::kOk);
    ASSERT_TRUE(small.wait_for_messages(6));
    ASSERT_EQ(status_of(small.ack({5, 6})), ErrorCode::kOk);
    ASSERT_TRUE(small.wait_for_queue_empty());
  }
  // Without the field the server's own window applies: everything at once.
  for (int i = 6; i < 12; ++i) {
    ASSERT_EQ(
        status_of(bob.send_message(a.account, {1}, "message-00" + std::to_string(10 + i), text)),
        ErrorCode::kOk);
  }
  Client normal(*f.core);
  ASSERT_EQ(status_of(normal.authenticate(a)), ErrorCode::kOk);
  ASSERT_TRUE(normal.wait_for_queue_empty());
  EXPECT_EQ(normal.messages().size(), 6u);
}

TEST(MessageRetention, MaintenancePurgesOldMessages) {
  auto config = CoreFixture::test_config();
  config.message_retention = std::chrono::hours(24);
  CoreFixture f(config);
  Client alice(*f.core), bob(*f.core);
  Identity a, b;
  alice.sign_up_and_in(a);
  alice.close();
  bob.sign_up_and_in(b);
  ASSERT_EQ(status_of(bob.send_message(a.account, {1}, "message-0001", "old")), ErrorCode::kOk);
  f.clock.advance(std::chrono::hours(23));
  ASSERT_EQ(status_of(bob.send_message(a.account, {1}, "message-0002", "new")), ErrorCode::kOk);
  f.clock.advance(std::chrono::hours(2));
  ASSERT_TRUE(f.core->run_maintenance().ok());
  auto left = f.store.read_messages({a.account, 1}, 0, 10);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->at(0).payload, to_bytes("new#1"));
  EXPECT_EQ(f.metrics.value("parley_messages_purged_total"), 1);
}

// Many senders on many threads while the recipient connects: every message arrives exactly once
// and in seq order, whatever the interleaving of drain and live pushes.
TEST(MessageConcurrency, DrainAndLivePushesHaveNoGapsOrDuplicates) {
  auto config = CoreFixture::test_config();
  config.worker_threads = 4;
  CoreFixture f(config);
  Identity a;
  {
    Client setup(*f.core);
    setup.sign_up_and_in(a);
  }
  constexpr int kSenders = 4;
  constexpr int kEach = 60;
  std::vector<std::unique_ptr<Client>> senders;
  std::vector<Identity> ids(kSenders);
  for (auto& id : ids) {
    senders.push_back(std::make_unique<Client>(*f.core));
    senders.back()->sign_up_and_in(id);
  }
  std::vector<std::thread> threads;
  for (int s = 0; s < kSenders; ++s) {
    threads.emplace_back([&, s] {
      for (int i = 0; i < kEach; ++i) {
        char id[32];
        (void)std::snprintf(id, sizeof id, "m-%02d-%04d", s, i);
        EXPECT_EQ(status_of(senders[s]->send_message(a.account, {1}, id, "x")), ErrorCode::kOk);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  Client device(*f.core);
  ASSERT_EQ(status_of(device.authenticate(a)), ErrorCode::kOk);
  for (auto& t : threads) t.join();
  ASSERT_TRUE(device.wait_for_messages(std::size_t{kSenders} * kEach));
  ASSERT_TRUE(device.wait_for_queue_empty());
  auto messages = device.messages();
  ASSERT_EQ(messages.size(), static_cast<std::size_t>(kSenders * kEach));
  for (std::size_t i = 0; i < messages.size(); ++i) EXPECT_EQ(messages[i].seq(), i + 1);
}

}  // namespace
}  // namespace parley::server::testing
