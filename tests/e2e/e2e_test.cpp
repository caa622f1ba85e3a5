// SPDX-License-Identifier: AGPL-3.0-or-later
//
// The client core end to end against the real parleyd binary over TLS WebSocket (the default
// connector, the server's self-signed certificate pinned as the CA): offline delivery and
// receipts, linked devices, client restarts, a server crash mid-conversation, many messages in
// random interleaving, identity changes, and the `parley` CLI.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "e2e_support.h"

namespace parley::e2e {
namespace {

using client::Event;
using client::MessageDirection;
using ::testing::ElementsAre;

void send(Device& device, const std::string& to, const std::string& text) {
  auto queued = device->queue_text(to, text);
  ASSERT_TRUE(queued.ok()) << queued.status().to_string();
  ASSERT_OK(device->flush());
}

// Counts for the tests that move many messages: what arrived against what was sent, per pair.
struct Tally {
  std::size_t sent = 0, received = 0, duplicates = 0, lost = 0, out_of_order = 0;
};

Tally tally(const std::vector<std::string>& sent, const std::vector<std::string>& got) {
  Tally t;
  t.sent = sent.size();
  t.received = got.size();
  std::map<std::string, int> seen;
  for (const auto& text : got) {
    if (++seen[text] > 1) ++t.duplicates;
  }
  for (const auto& text : sent) {
    if (seen.count(text) == 0) ++t.lost;
  }
  std::vector<std::string> unique_got;
  std::map<std::string, bool> taken;
  for (const auto& text : got) {
    if (!taken[text]) unique_got.push_back(text), taken[text] = true;
  }
  std::vector<std::string> expected_order;
  for (const auto& text : sent) {
    if (taken.count(text)) expected_order.push_back(text);
  }
  if (unique_got != expected_order) t.out_of_order = 1;
  return t;
}

void print(const std::string& what, const Tally& t) {
  std::printf("[ counts   ] %s: sent=%zu received=%zu duplicates=%zu lost=%zu in_order=%s\n",
              what.c_str(), t.sent, t.received, t.duplicates, t.lost,
              t.out_of_order ? "no" : "yes");
  (void)std::fflush(stdout);
}

TEST(E2eTest, AliceWritesBobWhileOfflineThenBothWaysWithReceipts) {
  START_SERVER(server);
  Device alice(server), bob(server);
  ASSERT_OK(alice.sign_up("alice"));
  ASSERT_OK(bob.sign_up("bob"));
  bob.close();  // Bob's app is not running

  send(alice, "bob", "hello bob");
  EXPECT_EQ(alice.count(Event::Kind::kSent), 1u);
  ASSERT_OK(bob.reopen());
  ASSERT_OK(bob->sync());
  EXPECT_THAT(bob.texts(), ElementsAre("hello bob"));
  EXPECT_EQ(bob.events().back().peer_username, "alice");

  send(bob, "alice", "hi alice");
  ASSERT_OK(alice->sync());
  EXPECT_THAT(alice.texts(), ElementsAre("hi alice"));
  EXPECT_EQ(alice.count(Event::Kind::kDelivered), 1u);  // Bob's receipt for "hello bob"
  auto history = alice->history("bob", 10);
  ASSERT_TRUE(history.ok()) << history.status().to_string();
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].body, "hello bob");
  EXPECT_EQ((*history)[0].direction, MessageDirection::kOutgoing);
  EXPECT_EQ((*history)[1].body, "hi alice");
  EXPECT_EQ((*history)[1].direction, MessageDirection::kIncoming);
}

TEST(E2eTest, LinkedDevicesGetEveryMessageAndSeeWhatTheOthersSent) {
  START_SERVER(server);
  Device alice(server), alice2(server), bob(server), bob2(server);
  ASSERT_OK(alice.sign_up("alice"));
  ASSERT_OK(bob.sign_up("bob"));

  // Links `second` to `primary`'s account: the primary waits in a thread as its app would.
  auto link = [](Device& primary, Device& second) {
    auto code = primary->create_link_code();
    ASSERT_TRUE(code.ok()) << code.status().to_string();
    Result<std::uint32_t> linked = Status::error(ErrorCode::kInternal, "not run");
    std::thread waiter([&] { linked = primary->wait_for_link(*code, std::chrono::seconds(30)); });
    Status joined = second.join(code->text);
    waiter.join();
    ASSERT_OK(joined);
    ASSERT_TRUE(linked.ok()) << linked.status().to_string();
    EXPECT_EQ(*linked, 2u);
    EXPECT_EQ(primary.count(Event::Kind::kDeviceLinked), 1u);
  };
  link(bob, bob2);
  link(alice, alice2);
  auto bob_info = bob->whoami();
  ASSERT_TRUE(bob_info.ok());
  EXPECT_THAT(bob_info->devices, ElementsAre(1u, 2u));

  const std::vector<std::string> to_bob = {"one", "two", "three"};
  for (const auto& text : to_bob) send(alice, "bob", text);
  ASSERT_OK(bob->sync());
  ASSERT_OK(bob2->sync());
  EXPECT_EQ(bob.texts(), to_bob);
  EXPECT_EQ(bob2.texts(), to_bob);

  // Alice's second device shows what her first one sent.
  ASSERT_OK(alice2->sync());
  auto alice2_history = alice2->history("bob", 10);
  ASSERT_TRUE(alice2_history.ok()) << alice2_history.status().to_string();
  ASSERT_EQ(alice2_history->size(), to_bob.size());
  for (std::size_t i = 0; i < to_bob.size(); ++i) {
    EXPECT_EQ((*alice2_history)[i].body, to_bob[i]);
    EXPECT_EQ((*alice2_history)[i].direction, MessageDirection::kOutgoing);
  }

  send(bob2, "alice", "from bob's second device");
  ASSERT_OK(alice->sync());
  ASSERT_OK(alice2->sync());
  ASSERT_OK(bob->sync());
  EXPECT_THAT(alice.texts(), ElementsAre("from bob's second device"));
  EXPECT_THAT(alice2.texts(), ElementsAre("from bob's second device"));
  auto bob_history = bob->history("alice", 10);
  ASSERT_TRUE(bob_history.ok());
  ASSERT_EQ(bob_history->size(), 4u);
  EXPECT_EQ(bob_history->back().body, "from bob's second device");
  EXPECT_EQ(bob_history->back().direction, MessageDirection::kOutgoing);
  EXPECT_EQ(bob_history->back().sender_device, 2u);
}

TEST(E2eTest, RestartOfEitherClientLosesNothing) {
  START_SERVER(server);
  Device alice(server), bob(server);
  ASSERT_OK(alice.sign_up("alice"));
  ASSERT_OK(bob.sign_up("bob"));
  send(alice, "bob", "one");
  ASSERT_OK(bob->sync());

  ASSERT_OK(alice.reopen());
  send(alice, "bob", "two");
  ASSERT_TRUE(alice->queue_text("bob", "three (queued, then the app quit)").ok());
  ASSERT_OK(alice.reopen());  // the outbox is on disk
  ASSERT_OK(alice->flush());
  EXPECT_EQ(*alice->outbox_size(), 0u);

  ASSERT_OK(bob.reopen());
  ASSERT_OK(bob->sync());
  send(bob, "alice", "four");
  ASSERT_OK(bob.reopen());
  send(bob, "alice", "five");
  ASSERT_OK(alice.reopen());
  ASSERT_OK(alice->sync());

  EXPECT_THAT(bob.texts(), ElementsAre("one", "two", "three (queued, then the app quit)"));
  EXPECT_THAT(alice.texts(), ElementsAre("four", "five"));
  auto bob_history = bob->history("alice", 10);
  ASSERT_TRUE(bob_history.ok());
  EXPECT_EQ(bob_history->size(), 5u);
  auto alice_history = alice->history("bob", 10);
  ASSERT_TRUE(alice_history.ok());
  EXPECT_EQ(alice_history->size(), 5u);
}

TEST(E2eTest, ServerCrashMidConversationLosesNothing) {
  START_SERVER(server);
  Device alice(server), bob(server);
  ASSERT_OK(alice.sign_up("alice"));
  ASSERT_OK(bob.sign_up("bob"));
  ASSERT_TRUE(alice->lookup("bob").ok());

  std::vector<std::string> sent;
  int failed_flushes = 0;
  auto queue_and_flush = [&](int i) {
    std::string text = "message " + std::to_string(i);
    auto queued = alice->queue_text("bob", text);
    ASSERT_TRUE(queued.ok()) << queued.status().to_string();
    sent.push_back(text);
    if (!alice->flush().ok()) ++failed_flushes;  // expected while the server is down
  };

  for (int i = 0; i < 10; ++i) queue_and_flush(i);
  ASSERT_OK(bob->sync());  // Bob received and acked part of the conversation
  server.process().kill9();
  for (int i = 10; i < 20; ++i) queue_and_flush(i);
  EXPECT_EQ(failed_flushes, 10);
  EXPECT_GT(*alice->outbox_size(), 0u);
  ASSERT_OK(server.process().start());
  for (int i = 20; i < 25; ++i) queue_and_flush(i);

  // A crash while a batch is in flight: the server may have stored some of it without Alice
  // hearing back. Those must not arrive twice.
  for (int i = 25; i < 225; ++i) {
    std::string text = "message " + std::to_string(i);
    ASSERT_TRUE(alice->queue_text("bob", text).ok());
    sent.push_back(text);
  }
  std::thread crash([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server.process().kill9();
  });
  Status in_flight = alice->flush();
  crash.join();
  std::printf("[ crash    ] flush during the crash: %s; outbox afterwards: %zu\n",
              in_flight.ok() ? "ok" : in_flight.to_string().c_str(), *alice->outbox_size());
  // 200 sends take far longer than 100 ms: the crash lands inside the flush.
  EXPECT_FALSE(in_flight.ok());
  EXPECT_GT(*alice->outbox_size(), 0u);
  ASSERT_OK(server.process().start());

  ASSERT_OK(alice->flush());
  EXPECT_EQ(*alice->outbox_size(), 0u);
  ASSERT_OK(bob->sync());
  ASSERT_OK(bob->sync());
  Tally t = tally(sent, bob.texts());
  print("alice -> bob across two server crashes", t);
  EXPECT_EQ(bob.texts(), sent);
  EXPECT_EQ(t.duplicates, 0u);
  EXPECT_EQ(t.lost, 0u);
}

TEST(E2eTest, ThousandMessagesInRandomInterleavingArriveOnceInOrder) {
  START_SERVER(server);
  const std::vector<std::string> names = {"ann", "ben", "cat"};
  std::vector<std::unique_ptr<Device>> people;
  for (const auto& name : names) {
    people.push_back(std::make_unique<Device>(server));
    ASSERT_OK(people.back()->sign_up(name));
  }
  auto started = std::chrono::steady_clock::now();
  std::mt19937 random(20261123);
  std::map<std::pair<int, int>, std::vector<std::string>> sent;  // (from, to) -> texts in order
  int flushes = 0, syncs = 0, drops = 0, restarts = 0;
  for (int i = 0; i < 1000; ++i) {
    int from = static_cast<int>(random() % 3);
    int to = static_cast<int>((from + 1 + random() % 2) % 3);
    std::string text = names[from] + "->" + names[to] + " #" + std::to_string(i);
    ASSERT_TRUE((*people[from])->queue_text(names[to], text).ok());
    sent[{from, to}].push_back(text);
    switch (random() % 8) {  // flush, receive, drop the line or restart at random points
      case 0:
        ASSERT_OK((*people[from])->flush());
        ++flushes;
        break;
      case 1:
        ASSERT_OK((*people[to])->sync());
        ++syncs;
        break;
      case 2:
        (*people[to])->disconnect();
        ++drops;
        break;
      case 3:
        if (random() % 10 == 0) {
          ASSERT_OK(people[from]->reopen());
          ++restarts;
        }
        break;
      default:
        break;
    }
  }
  for (auto& person : people) ASSERT_OK((**person).sync());
  for (auto& person : people) ASSERT_OK((**person).sync());
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "[ timing   ] 1000 messages over TLS to parleyd: %.1f s (%d flushes, %d syncs, "
      "%d dropped connections, %d restarts)\n",
      seconds, flushes, syncs, drops, restarts);

  Tally total;
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
      Tally t = tally(sent[{from, to}], got[from]);
      print(names[from] + " -> " + names[to], t);
      total.sent += t.sent;
      total.received += t.received;
      total.duplicates += t.duplicates;
      total.lost += t.lost;
      total.out_of_order += t.out_of_order;
      EXPECT_EQ(got[from], (sent[{from, to}])) << names[from] << " -> " << names[to];
    }
  }
  print("all", total);
  EXPECT_EQ(total.sent, 1000u);
  EXPECT_EQ(total.received, 1000u);
}

TEST(E2eTest, NewAccountUnderAKnownUsernameWarnsOfTheIdentityChange) {
  START_SERVER(server);
  Device alice(server), bob(server);
  ASSERT_OK(alice.sign_up("alice"));
  ASSERT_OK(bob.sign_up("bob"));
  send(alice, "bob", "first");
  ASSERT_OK(bob->sync());
  auto before = alice->safety_number("bob");
  ASSERT_TRUE(before.ok()) << before.status().to_string();
  EXPECT_EQ(before->digits.size(), 60u);
  EXPECT_EQ(alice.count(Event::Kind::kIdentityChanged), 0u);

  // Bob reinstalls: the old account gives the name up, a new one takes it.
  ASSERT_OK(bob->set_username(""));
  Device new_bob(server);
  ASSERT_OK(new_bob.sign_up("bob"));

  auto queued = alice->queue_text("bob", "is this still you?");
  ASSERT_EQ(alice.count(Event::Kind::kIdentityChanged), 1u);
  EXPECT_EQ(alice.events().back().kind, Event::Kind::kIdentityChanged);
  EXPECT_EQ(alice.events().back().peer_username, "bob");
  auto after = alice->safety_number("bob");
  ASSERT_TRUE(after.ok());
  EXPECT_NE(after->digits, before->digits);

  // Bob was never verified, so the message goes to the account that holds the name now.
  ASSERT_TRUE(queued.ok()) << queued.status().to_string();
  ASSERT_OK(alice->flush());
  ASSERT_OK(new_bob->sync());
  ASSERT_OK(bob->sync());
  EXPECT_THAT(new_bob.texts(), ElementsAre("is this still you?"));
  EXPECT_THAT(bob.texts(), ElementsAre("first"));
}

#ifdef PARLEY_CLI_PATH
TEST(E2eTest, CliSendsAndReceives) {
  if (!std::filesystem::exists(PARLEY_CLI_PATH)) GTEST_SKIP() << "the parley CLI is not built";
  START_SERVER(server);
  TempDir home_a("parley-e2e-cli"), home_b("parley-e2e-cli");
  const std::string cli = PARLEY_CLI_PATH;
  const std::string address = server.settings().server;
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), cli);
    return run_command(args, std::chrono::seconds(60));
  };
  auto init_a = run({"--home", home_a.str(), "init", "--server", address, "--ca",
                     server.cert_file(), "--username", "alice"});
  ASSERT_EQ(init_a.exit_code, 0) << init_a.err;
  auto init_b = run({"--home", home_b.str(), "init", "--server", address, "--ca",
                     server.cert_file(), "--username", "bob"});
  ASSERT_EQ(init_b.exit_code, 0) << init_b.err;
  auto sent = run({"--home", home_a.str(), "send", "bob", "hello"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  auto received = run({"--home", home_b.str(), "receive", "--json"});
  ASSERT_EQ(received.exit_code, 0) << received.err;
  EXPECT_THAT(received.out, ::testing::HasSubstr("\"hello\"")) << received.out;
  EXPECT_THAT(received.out, ::testing::HasSubstr("alice")) << received.out;
}
#else
TEST(E2eTest, CliSendsAndReceives) {
  GTEST_SKIP() << "the parley CLI target is not part of this build";
}
#endif

}  // namespace
}  // namespace parley::e2e
