// SPDX-License-Identifier: AGPL-3.0-or-later
//
// The client core end to end against the real server core (in-process, no sockets): sign-up,
// both directions, receipts, offline outbox, linked devices, identity changes, restarts,
// disappearing messages, and many messages in random interleaving exactly once and in order.

#include "parley/client/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <thread>

#include "loopback_server.h"
#include "parley/crypto/keys.h"
#include "parley/wire/frame.pb.h"
#include "temp_home.h"

namespace parley::client {
namespace {

using testing::LoopbackServer;
using testing::TempHome;

// One device: a home and a Client, recording every event.
class Device {
 public:
  Device(LoopbackServer& server, const Clock* clock = nullptr, Connector connector = {})
      : server_(server), clock_(clock), connector_(std::move(connector)) {
    reopen();
  }
  void reopen() {
    client_.reset();
    ClientOptions options;
    options.home = home_.path();
    options.clock = clock_;
    options.connector = connector_ ? connector_ : server_.connector();
    options.prekey_batch = 20;
    auto opened = Client::open(std::move(options));
    ASSERT_TRUE(opened.ok()) << opened.status().to_string();
    client_ = std::move(*opened);
    client_->set_event_handler([this](const Event& event) { events_.push_back(event); });
  }
  Client& operator*() { return *client_; }
  Client* operator->() { return client_.get(); }
  std::vector<Event>& events() { return events_; }
  std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (const auto& e : events_) {
      if (e.kind == Event::Kind::kMessage && !e.outgoing) out.push_back(e.body);
    }
    return out;
  }
  std::size_t count(Event::Kind kind) const {
    return static_cast<std::size_t>(std::count_if(events_.begin(), events_.end(),
                                                  [&](const Event& e) { return e.kind == kind; }));
  }
  const TempHome& home() const { return home_; }

 private:
  LoopbackServer& server_;
  const Clock* clock_;
  Connector connector_;
  TempHome home_;
  std::unique_ptr<Client> client_;
  std::vector<Event> events_;
};

ServerSettings loopback_settings() {
  return {"loopback:1", {}, {}};
}

void sign_up(Device& device, const std::string& name) {
  Status created = device->create_account(loopback_settings(), name, nullptr);
  ASSERT_TRUE(created.ok()) << created.to_string();
}

void send(Device& device, const std::string& to, const std::string& text) {
  auto queued = device->queue_text(to, text);
  ASSERT_TRUE(queued.ok()) << queued.status().to_string();
  Status flushed = device->flush();
  ASSERT_TRUE(flushed.ok()) << flushed.to_string();
}

void sync(Device& device) {
  Status synced = device->sync();
  ASSERT_TRUE(synced.ok()) << synced.to_string();
}

TEST(ClientTest, AliceWritesBobWhileOfflineThenBothWaysWithReceipts) {
  LoopbackServer server;
  Device alice(server), bob(server);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  bob->disconnect();

  send(alice, "bob", "hello bob");
  EXPECT_EQ(alice.count(Event::Kind::kSent), 1u);
  sync(bob);
  EXPECT_THAT(bob.texts(), ::testing::ElementsAre("hello bob"));
  ASSERT_EQ(bob.events().back().peer_username, "alice");  // the claimed name checked by lookup

  send(bob, "alice", "hi alice");
  sync(alice);
  EXPECT_THAT(alice.texts(), ::testing::ElementsAre("hi alice"));
  EXPECT_EQ(alice.count(Event::Kind::kDelivered), 1u);  // bob's receipt for "hello bob"

  ASSERT_TRUE(bob->mark_read("alice").ok());
  sync(bob);
  sync(alice);
  EXPECT_EQ(alice.count(Event::Kind::kRead), 1u);
  auto history = alice->history("bob", 10);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].body, "hello bob");
  EXPECT_EQ((*history)[0].status, MessageStatus::kRead);
  EXPECT_EQ((*history)[1].body, "hi alice");
  EXPECT_EQ((*history)[1].direction, MessageDirection::kIncoming);
}

TEST(ClientTest, OutboxSendsExactlyOnceWhenTheNetworkReturns) {
  LoopbackServer server;
  Device alice(server), bob(server);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  ASSERT_TRUE(alice->lookup("bob").ok());

  server.set_reachable(false);
  alice->disconnect();
  ASSERT_TRUE(alice->queue_text("bob", "typed offline 1").ok());
  ASSERT_TRUE(alice->queue_text("bob", "typed offline 2").ok());
  Status offline = alice->flush();
  EXPECT_EQ(offline.code(), ErrorCode::kUnavailable);
  EXPECT_EQ(*alice->outbox_size(), 4u);  // two texts + two transcripts for other devices

  alice.reopen();  // the app restarted meanwhile: the outbox is on disk
  server.set_reachable(true);
  ASSERT_TRUE(alice->flush().ok());
  ASSERT_TRUE(alice->flush().ok());  // nothing left to send twice
  EXPECT_EQ(*alice->outbox_size(), 0u);
  sync(bob);
  EXPECT_THAT(bob.texts(), ::testing::ElementsAre("typed offline 1", "typed offline 2"));
}

TEST(ClientTest, LinkedDevicesGetEveryMessageAndSeeWhatTheOthersSent) {
  LoopbackServer server;
  Device alice(server), bob(server), bob2(server);
  sign_up(alice, "alice");
  sign_up(bob, "bob");

  auto code = bob->create_link_code();
  ASSERT_TRUE(code.ok()) << code.status().to_string();
  Result<std::uint32_t> linked = Status::error(ErrorCode::kInternal, "not run");
  std::thread primary([&] { linked = bob->wait_for_link(*code, std::chrono::seconds(20)); });
  Status joined = bob2->join_device(loopback_settings(), code->text, std::chrono::seconds(20));
  primary.join();
  ASSERT_TRUE(joined.ok()) << joined.to_string();
  ASSERT_TRUE(linked.ok()) << linked.status().to_string();
  EXPECT_EQ(*linked, 2u);
  auto bob2_account = bob2->whoami();
  ASSERT_TRUE(bob2_account.ok());
  EXPECT_EQ(bob2_account->username, "bob");  // learned from the signed device list
  EXPECT_THAT(bob2_account->devices, ::testing::ElementsAre(1u, 2u));
  EXPECT_EQ(bob.count(Event::Kind::kDeviceLinked), 1u);

  send(alice, "bob", "to both of bob's devices");
  sync(bob);
  sync(bob2);
  EXPECT_THAT(bob.texts(), ::testing::ElementsAre("to both of bob's devices"));
  EXPECT_THAT(bob2.texts(), ::testing::ElementsAre("to both of bob's devices"));

  send(bob2, "alice", "from bob's second device");
  sync(alice);
  sync(bob);
  EXPECT_THAT(alice.texts(), ::testing::ElementsAre("from bob's second device"));
  // Bob's first device shows what his second one sent.
  auto history = bob->history("alice", 10);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[1].body, "from bob's second device");
  EXPECT_EQ((*history)[1].direction, MessageDirection::kOutgoing);
  EXPECT_EQ((*history)[1].sender_device, 2u);
}

TEST(ClientTest, WrongLinkSecretIsRefusedByThePrimary) {
  LoopbackServer server;
  Device bob(server), intruder(server);
  sign_up(bob, "bob");
  auto code = bob->create_link_code();
  ASSERT_TRUE(code.ok());
  std::string forged = code->text.substr(0, code->text.rfind('-')) + "-aaaaaaaaaaaaaaaa";
  Result<std::uint32_t> linked = Status::error(ErrorCode::kInternal, "not run");
  std::thread primary([&] { linked = bob->wait_for_link(*code, std::chrono::seconds(3)); });
  Status joined = intruder->join_device(loopback_settings(), forged, std::chrono::seconds(2));
  primary.join();
  EXPECT_EQ(joined.code(), ErrorCode::kTimeout);  // never confirmed
  EXPECT_EQ(linked.status().code(), ErrorCode::kTimeout);
  EXPECT_EQ(bob.count(Event::Kind::kWarning), 1u);  // the refused attempt is reported
  auto me = bob->whoami();
  ASSERT_TRUE(me.ok());
  EXPECT_THAT(me->devices, ::testing::ElementsAre(1u));
}

TEST(ClientTest, IdentityChangeWarnsAndBlocksAVerifiedContact) {
  LoopbackServer server;
  Device alice(server), bob(server);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  send(alice, "bob", "first");
  auto before = alice->safety_number("bob");
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->digits.size(), 60u);
  ASSERT_TRUE(alice->mark_verified("bob").ok());

  // Bob reinstalls: the old account gives the name up, a new one takes it.
  ASSERT_TRUE(bob->set_username("").ok());
  Device new_bob(server);
  sign_up(new_bob, "bob");

  auto refused = alice->queue_text("bob", "are you still you?");
  EXPECT_EQ(refused.status().code(), ErrorCode::kUntrustedIdentity);
  ASSERT_EQ(alice.count(Event::Kind::kIdentityChanged), 1u);
  auto after = alice->safety_number("bob");
  ASSERT_TRUE(after.ok());
  EXPECT_NE(after->digits, before->digits);
  ASSERT_TRUE(alice->mark_verified("bob").ok());
  send(alice, "bob", "verified again");
  sync(new_bob);
  EXPECT_THAT(new_bob.texts(), ::testing::ElementsAre("verified again"));
}

// A server that answers lookups of one account with an attacker's identity key.
class KeySwappingChannel final : public net::FrameChannel {
 public:
  KeySwappingChannel(std::unique_ptr<net::FrameChannel> inner, const bool& active,
                     const Bytes& attacker_key)
      : inner_(std::move(inner)), active_(active), attacker_key_(attacker_key) {}
  Status send(ByteView frame) override { return inner_->send(frame); }
  Result<Bytes> receive(std::chrono::milliseconds timeout) override {
    auto frame = inner_->receive(timeout);
    if (!frame.ok() || !active_) return frame;
    wire::Frame parsed;
    if (!parsed.ParseFromArray(frame->data(), static_cast<int>(frame->size())) ||
        !parsed.response().has_lookup_username()) {
      return frame;
    }
    parsed.mutable_response()->mutable_lookup_username()->set_identity_key(attacker_key_.data(),
                                                                           attacker_key_.size());
    return to_bytes(parsed.SerializeAsString());
  }
  void close() override { inner_->close(); }

 private:
  std::unique_ptr<net::FrameChannel> inner_;
  const bool& active_;
  Bytes attacker_key_;
};

TEST(ClientTest, ServerSwappingAnIdentityKeyIsRefusedNotAdopted) {
  LoopbackServer server;
  bool swapping = false;
  Bytes attacker_key = crypto::KeyPair::generate().public_key.serialize();
  Connector base = server.connector();
  Connector swapper =
      [&](const std::string& where,
          const net::TlsTrust& trust) -> Result<std::unique_ptr<net::FrameChannel>> {
    PARLEY_ASSIGN_OR_RETURN(auto inner, base(where, trust));
    return std::unique_ptr<net::FrameChannel>(
        std::make_unique<KeySwappingChannel>(std::move(inner), swapping, attacker_key));
  };
  Device alice(server, nullptr, swapper), bob(server);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  send(alice, "bob", "before");
  auto pinned = alice->safety_number("bob");
  ASSERT_TRUE(pinned.ok());

  swapping = true;
  auto refused = alice->queue_text("bob", "for bob only");
  EXPECT_EQ(refused.status().code(), ErrorCode::kUntrustedIdentity);
  EXPECT_EQ(alice.count(Event::Kind::kIdentityChanged), 1u);
  swapping = false;
  auto still = alice->safety_number("bob");
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->digits, pinned->digits);  // the pinned key was kept
  send(alice, "bob", "after");
  sync(bob);
  EXPECT_THAT(bob.texts(), ::testing::ElementsAre("before", "after"));
}

TEST(ClientTest, RestartLosesNothingAndSessionsContinue) {
  LoopbackServer server;
  Device alice(server), bob(server);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  send(alice, "bob", "one");
  sync(bob);
  alice.reopen();
  bob.reopen();
  send(alice, "bob", "two");
  send(bob, "alice", "three");
  sync(bob);
  sync(alice);
  EXPECT_THAT(bob.texts(), ::testing::ElementsAre("one", "two"));
  EXPECT_THAT(alice.texts(), ::testing::ElementsAre("three"));
  auto history = bob->history("alice", 10);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 3u);
}

TEST(ClientTest, DisappearingMessagesGoAfterTheTimer) {
  LoopbackServer server;
  FakeClock clock;
  Device alice(server, &clock), bob(server, &clock);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  ASSERT_TRUE(alice->set_disappearing_timer("bob", 60).ok());
  send(alice, "bob", "this goes away");
  sync(bob);
  EXPECT_EQ(bob.count(Event::Kind::kTimerChanged), 1u);
  EXPECT_THAT(bob.texts(), ::testing::ElementsAre("this goes away"));
  auto chats = bob->chats();
  ASSERT_TRUE(chats.ok());
  ASSERT_EQ(chats->size(), 1u);
  EXPECT_EQ((*chats)[0].disappearing_seconds, 60);

  clock.advance(std::chrono::seconds(61));
  auto bob_history = bob->history("alice", 10);
  ASSERT_TRUE(bob_history.ok());
  for (const auto& message : *bob_history) EXPECT_NE(message.body, "this goes away");
  auto alice_history = alice->history("bob", 10);
  ASSERT_TRUE(alice_history.ok());
  for (const auto& message : *alice_history) EXPECT_NE(message.body, "this goes away");
}

TEST(ClientTest, ThousandMessagesInRandomInterleavingArriveOnceInOrder) {
  LoopbackServer server;
  std::vector<std::unique_ptr<Device>> people;
  const std::vector<std::string> names = {"ann", "ben", "cat"};
  for (const auto& name : names) {
    people.push_back(std::make_unique<Device>(server));
    sign_up(*people.back(), name);
  }
  std::mt19937 random(20261123);
  std::map<std::pair<int, int>, std::vector<std::string>> sent;  // (from, to) -> texts in order
  for (int i = 0; i < 1000; ++i) {
    int from = static_cast<int>(random() % 3);
    int to = static_cast<int>((from + 1 + random() % 2) % 3);
    std::string text = names[from] + "->" + names[to] + " #" + std::to_string(i);
    ASSERT_TRUE((*people[from])->queue_text(names[to], text).ok());
    sent[{from, to}].push_back(text);
    switch (random() % 8) {  // flush, receive, restart or drop the line at random points
      case 0:
        ASSERT_TRUE((*people[from])->flush().ok());
        break;
      case 1:
        sync(*people[to]);
        break;
      case 2:
        (*people[to])->disconnect();
        break;
      case 3:
        if (random() % 10 == 0) people[from]->reopen();
        break;
      default:
        break;
    }
  }
  for (auto& person : people) sync(*person);
  for (auto& person : people) sync(*person);
  for (int to = 0; to < 3; ++to) {
    std::map<int, std::vector<std::string>> got;
    for (const auto& event : people[to]->events()) {
      if (event.kind != Event::Kind::kMessage || event.outgoing) continue;
      int from = static_cast<int>(std::find(names.begin(), names.end(), event.peer_username) -
                                  names.begin());
      got[from].push_back(event.body);
    }
    for (int from = 0; from < 3; ++from) {
      if (from == to) continue;
      EXPECT_EQ(got[from], (sent[{from, to}])) << names[from] << " -> " << names[to];
    }
  }
}

}  // namespace
}  // namespace parley::client
