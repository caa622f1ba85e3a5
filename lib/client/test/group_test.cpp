// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Groups (docs/client.md "Groups"): the state rules as plain functions, then the whole client core
// against the real server core in-process: create, add, remove, leave, a removed member who
// cannot read what follows, concurrent changes that converge, an offline member catching up,
// linked devices, key rotation, one stored ciphertext per group message, and 200 member devices.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <set>
#include <thread>

#include "../src/group_state.h"
#include "assert_ok.h"
#include "loopback_server.h"
#include "parley/client/client.h"
#include "parley/client/database_key.h"
#include "parley/crypto/keys.h"
#include "parley/crypto/random.h"
#include "parley/util/encoding.h"
#include "temp_home.h"

namespace parley::client {
namespace {

using ::testing::ElementsAre;
using testing::LoopbackServer;
using testing::TempHome;
using ::testing::UnorderedElementsAreArray;

// ---- The state rules ----------------------------------------------------------------------------

content::GroupMember member(std::uint8_t id, bool admin) {
  content::GroupMember m;
  m.set_account_id(std::string(16, static_cast<char>(id)));
  m.set_identity_key(std::string(33, static_cast<char>(5)));
  m.set_username("user" + std::to_string(id));
  m.set_admin(admin);
  return m;
}

content::GroupState state_of(std::initializer_list<content::GroupMember> members,
                             std::uint8_t author, std::uint64_t version = 1) {
  content::GroupState state;
  state.set_group_id(std::string(16, 'g'));
  state.set_version(version);
  state.set_name("friends");
  for (const auto& m : members) *state.add_members() = m;
  state.set_author_account_id(std::string(16, static_cast<char>(author)));
  return state;
}

Bytes id_of(std::uint8_t id) {
  return Bytes(16, id);
}

TEST(GroupStateTest, OnlyAdminsChangeAndAnyMemberMayLeave) {
  content::GroupState v1 = state_of({member(1, true), member(2, false), member(3, false)}, 1);
  content::GroupState by_admin = state_of({member(1, true), member(2, false)}, 1, 2);
  content::GroupState by_member = state_of({member(1, true), member(2, false)}, 2, 2);
  EXPECT_TRUE(groups::authorized(v1, by_admin));
  EXPECT_FALSE(groups::authorized(v1, by_member));  // 2 removes 3: not an admin

  content::GroupState leave = groups::without_member(v1, id_of(3));
  leave.set_author_account_id(std::string(16, '\3'));
  EXPECT_TRUE(groups::is_leave_of_author(v1, leave));
  EXPECT_TRUE(groups::authorized(v1, leave));
  content::GroupState leave_and_promote = leave;
  leave_and_promote.mutable_members(1)->set_admin(true);  // 3 leaves and makes 2 an admin
  EXPECT_FALSE(groups::authorized(v1, leave_and_promote));
  content::GroupState leave_and_rename = leave;
  leave_and_rename.set_name("mine now");
  EXPECT_FALSE(groups::authorized(v1, leave_and_rename));

  // The only admin leaving: the lowest remaining member becomes admin in the same state.
  content::GroupState admin_leaves = groups::without_member(v1, id_of(1));
  admin_leaves.set_author_account_id(std::string(16, '\1'));
  ASSERT_EQ(admin_leaves.members_size(), 2);
  EXPECT_TRUE(admin_leaves.members(0).admin());
  EXPECT_FALSE(admin_leaves.members(1).admin());
  EXPECT_TRUE(groups::authorized(v1, admin_leaves));
}

TEST(GroupStateTest, ALostChangeIsMadeAgainOnTopOfTheWinner) {
  content::GroupState v1 = state_of({member(1, true), member(2, true), member(3, false)}, 1);
  content::GroupState ours = v1;  // 1 adds 4 and removes 3
  *ours.add_members() = member(4, false);
  groups::GroupChange remove3;
  remove3.removed.push_back(id_of(3));
  groups::apply_change(ours, remove3);
  content::GroupState theirs = v1;  // 2 adds 5 and renames
  *theirs.add_members() = member(5, false);
  theirs.set_name("renamed");

  content::GroupState merged = theirs;
  EXPECT_TRUE(groups::apply_change(merged, groups::diff(v1, ours)));
  std::vector<std::string> ids;
  for (const auto& m : merged.members()) ids.push_back(m.account_id());
  EXPECT_THAT(ids, ElementsAre(std::string(16, '\1'), std::string(16, '\2'), std::string(16, '\4'),
                               std::string(16, '\5')));
  EXPECT_EQ(merged.name(), "renamed");
  EXPECT_FALSE(groups::apply_change(merged, groups::diff(v1, ours)));  // nothing left to do
}

TEST(GroupStateTest, ParsingRefusesBrokenStatesAndAThousandMembersFit) {
  content::GroupState unordered = state_of({member(2, true), member(1, false)}, 2);
  EXPECT_EQ(groups::parse_state(as_bytes(unordered.SerializeAsString())).status().code(),
            ErrorCode::kMalformedInput);
  content::GroupState duplicate = state_of({member(1, true), member(1, false)}, 1);
  EXPECT_FALSE(groups::parse_state(as_bytes(duplicate.SerializeAsString())).ok());
  content::GroupState no_group = state_of({member(1, true)}, 1);
  no_group.set_group_id("short");
  EXPECT_FALSE(groups::parse_state(as_bytes(no_group.SerializeAsString())).ok());

  // 1,000 members without username hints stay under the one-message budget.
  content::GroupState big = state_of({}, 1);
  for (int i = 0; i < static_cast<int>(groups::kMaxGroupMembers); ++i) {
    content::GroupMember m;
    Bytes id = crypto::random_bytes(16);
    m.set_account_id(id.data(), id.size());
    m.set_identity_key(crypto::KeyPair::generate().public_key.serialize().data(), 33);
    m.set_admin(i == 0);
    *big.add_members() = m;
  }
  groups::sort_members(big);
  std::string bytes = big.SerializeAsString();
  EXPECT_LE(bytes.size(), groups::kMaxGroupStateBytes);
  EXPECT_TRUE(groups::parse_state(as_bytes(bytes)).ok());
  *big.add_members() = member(0, false);
  groups::sort_members(big);
  EXPECT_FALSE(groups::parse_state(as_bytes(big.SerializeAsString())).ok());  // 1,001
}

// ---- The client core
// ------------------------------------------------------------------------------

// One device: a home and a Client, recording every event.
class Device {
 public:
  explicit Device(LoopbackServer& server, const Clock* clock = nullptr)
      : server_(server), clock_(clock) {
    reopen();
  }
  void reopen() {
    client_.reset();
    ClientOptions options;
    options.home = home_.path();
    options.clock = clock_;
    options.connector = server_.connector();
    options.prekey_batch = 10;
    options.prekey_low_water = 2;
    auto opened = Client::open(std::move(options));
    ASSERT_TRUE(opened.ok()) << opened.status().to_string();
    client_ = std::move(*opened);
    client_->set_event_handler([this](const Event& event) { events_.push_back(event); });
  }
  void close() { client_.reset(); }
  Client& operator*() { return *client_; }
  Client* operator->() { return client_.get(); }
  std::vector<Event>& events() { return events_; }
  // Group texts this device showed, "sender: text", in order (ours from other devices too).
  std::vector<std::string> group_texts() const {
    std::vector<std::string> out;
    for (const auto& e : events_) {
      if (e.kind == Event::Kind::kMessage && !e.group_id_hex.empty()) {
        out.push_back(e.peer_username + ": " + e.body);
      }
    }
    return out;
  }
  std::size_t count(Event::Kind kind) const {
    return static_cast<std::size_t>(std::count_if(events_.begin(), events_.end(),
                                                  [&](const Event& e) { return e.kind == kind; }));
  }
  const TempHome& home() const { return home_; }
  Bytes account_id() {
    auto info = client_->whoami();
    return info.ok() ? hex_decode(info->account_id_hex).value_or(Bytes{}) : Bytes{};
  }
  std::uint32_t device_id() {
    auto info = client_->whoami();
    return info.ok() ? info->device_id : 0;
  }

 private:
  LoopbackServer& server_;
  const Clock* clock_;
  TempHome home_;
  std::unique_ptr<Client> client_;
  std::vector<Event> events_;
};

ServerSettings loopback_settings() {
  return {"loopback:1", {}, {}};
}

void sign_up(Device& device, const std::string& name) {
  ASSERT_OK(device->create_account(loopback_settings(), name, nullptr));
}

void sync(Device& device) {
  ASSERT_OK(device->sync());
}

void flush(Device& device) {
  ASSERT_OK(device->flush());
}

void sync_all(std::initializer_list<Device*> devices, int rounds = 2) {
  for (int round = 0; round < rounds; ++round) {
    for (Device* device : devices) sync(*device);
  }
}

// Warnings a device reported (none expected in the happy paths).
std::vector<std::string> warnings(Device& device) {
  std::vector<std::string> out;
  for (const auto& e : device.events()) {
    if (e.kind == Event::Kind::kWarning) out.push_back(e.body);
  }
  return out;
}

void say(Device& device, const std::string& group, const std::string& text) {
  auto queued = device->queue_group_text(group, text);
  ASSERT_TRUE(queued.ok()) << queued.status().to_string();
  flush(device);
}

std::vector<std::string> member_names(Device& device, const std::string& group) {
  auto info = device->group_info(group);
  EXPECT_TRUE(info.ok()) << info.status().to_string();
  std::vector<std::string> names;
  if (info.ok()) {
    for (const auto& m : info->members) names.push_back(m.username);
  }
  return names;
}

void link(Device& primary, Device& linked) {
  auto code = primary->create_link_code();
  ASSERT_TRUE(code.ok()) << code.status().to_string();
  Result<std::uint32_t> done = Status::error(ErrorCode::kInternal, "not run");
  std::thread waiting([&] { done = primary->wait_for_link(*code, std::chrono::seconds(20)); });
  Status joined = linked->join_device(loopback_settings(), code->text, std::chrono::seconds(20));
  waiting.join();
  ASSERT_OK(joined);
  ASSERT_TRUE(done.ok()) << done.status().to_string();
}

store::DeviceAddress address_of(Device& device) {
  store::DeviceAddress address;
  Bytes id = device.account_id();
  std::copy(id.begin(), id.end(), address.account_id.begin());
  address.device_id = device.device_id();
  return address;
}

// The Sender Key ciphertexts waiting in a device's mailbox on the server, oldest first.
std::vector<Bytes> group_ciphertexts(LoopbackServer& server, Device& device) {
  auto stored = server.store().read_messages(address_of(device), 0, 10'000);
  EXPECT_TRUE(stored.ok());
  std::vector<Bytes> out;
  if (!stored.ok()) return out;
  for (const auto& envelope : *stored) {
    if (!envelope.payload.empty() && envelope.payload[0] == 4) out.push_back(envelope.payload);
  }
  return out;
}

Bytes distribution_id(const Bytes& ciphertext) {
  return Bytes(ciphertext.begin() + 1, ciphertext.begin() + 17);
}

TEST(GroupTest, CreateAndTalkBothWays) {
  LoopbackServer server;
  Device alice(server), bob(server), carol(server);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  sign_up(carol, "carol");

  auto created = alice->create_group("friends", {"bob", "carol"});
  ASSERT_TRUE(created.ok()) << created.status().to_string();
  EXPECT_EQ(created->version, 1u);
  EXPECT_TRUE(created->is_admin);
  EXPECT_EQ(created->members.size(), 3u);
  const std::string group = created->group_id_hex;
  flush(alice);
  sync_all({&bob, &carol});
  EXPECT_EQ(bob.count(Event::Kind::kGroupChanged), 1u);
  auto at_bob = bob->group_info("friends");  // by name
  ASSERT_TRUE(at_bob.ok()) << at_bob.status().to_string();
  EXPECT_EQ(at_bob->group_id_hex, group);
  EXPECT_TRUE(at_bob->is_member);
  EXPECT_FALSE(at_bob->is_admin);
  EXPECT_THAT(member_names(bob, group.substr(0, 8)),  // by id prefix
              UnorderedElementsAreArray({"alice", "bob", "carol"}));

  say(alice, group, "hello group");
  sync_all({&bob, &carol});
  EXPECT_THAT(bob.group_texts(), ElementsAre("alice: hello group"));
  EXPECT_THAT(carol.group_texts(), ElementsAre("alice: hello group"));
  EXPECT_EQ(bob.events().back().group_name, "friends");

  say(bob, "friends", "hi from bob");
  say(carol, "friends", "and carol");
  sync_all({&alice, &bob, &carol});
  EXPECT_THAT(alice.group_texts(), ElementsAre("bob: hi from bob", "carol: and carol"));
  EXPECT_THAT(carol.group_texts(), ElementsAre("alice: hello group", "bob: hi from bob"));

  auto history = alice->group_history(group, 10);
  ASSERT_TRUE(history.ok());
  std::vector<std::string> bodies;
  for (const auto& m : *history) {
    if (m.kind == MessageKind::kText) bodies.push_back(m.body);
  }
  EXPECT_THAT(bodies, ElementsAre("hello group", "hi from bob", "and carol"));
  EXPECT_EQ(history->back().sender, carol.account_id());
  EXPECT_EQ((*history)[1].status, MessageStatus::kSent);  // the server took ours
  auto listed = carol->groups();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_GT((*listed)[0].unread, 0u);

  for (Device* device : {&alice, &bob, &carol}) EXPECT_THAT(warnings(*device), ElementsAre());

  // Nobody outside the group can change it or write to it.
  EXPECT_EQ(bob->add_group_members(group, {"carol"}).code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(bob->queue_group_text("nonexistent", "x").status().code(), ErrorCode::kNotFound);
}

TEST(GroupTest, AddedMemberReadsWhatFollowsOnly) {
  LoopbackServer server;
  Device alice(server), bob(server), dave(server);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  sign_up(dave, "dave");
  auto created = alice->create_group("club", {"bob"});
  ASSERT_TRUE(created.ok());
  flush(alice);
  say(alice, "club", "before dave");
  sync(bob);
  say(bob, "club", "bob before dave");

  ASSERT_OK(alice->add_group_members("club", {"dave"}));
  flush(alice);
  sync_all({&bob, &dave});
  EXPECT_THAT(member_names(dave, "club"), UnorderedElementsAreArray({"alice", "bob", "dave"}));
  EXPECT_THAT(member_names(bob, "club"), UnorderedElementsAreArray({"alice", "bob", "dave"}));
  say(alice, "club", "welcome dave");
  say(bob, "club", "hi dave");
  sync_all({&dave, &alice});
  EXPECT_THAT(dave.group_texts(), ElementsAre("alice: welcome dave", "bob: hi dave"));
  EXPECT_THAT(alice.group_texts(), ElementsAre("bob: bob before dave", "bob: hi dave"));
}

TEST(GroupTest, RemovedMemberCannotReadWhatFollows) {
  LoopbackServer server;
  Device alice(server), bob(server), carol(server);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  sign_up(carol, "carol");
  auto created = alice->create_group("team", {"bob", "carol"});
  ASSERT_TRUE(created.ok());
  flush(alice);
  sync_all({&bob, &carol});
  say(alice, "team", "everyone reads this");
  std::vector<Bytes> before = group_ciphertexts(server, bob);
  ASSERT_EQ(before.size(), 1u);
  sync_all({&bob, &carol});
  EXPECT_THAT(carol.group_texts(), ElementsAre("alice: everyone reads this"));

  ASSERT_OK(alice->remove_group_member("team", "carol"));
  flush(alice);
  sync_all({&bob, &carol});
  auto at_carol = carol->group_info("team");
  ASSERT_TRUE(at_carol.ok());
  EXPECT_FALSE(at_carol->is_member);
  EXPECT_THAT(member_names(bob, "team"), UnorderedElementsAreArray({"alice", "bob"}));
  EXPECT_EQ(carol->queue_group_text("team", "still here?").status().code(),
            ErrorCode::kPermissionDenied);

  say(alice, "team", "carol must not read this");
  say(bob, "team", "nor this");
  // Read the group messages from the remaining members' mailboxes before they fetch them.
  std::vector<Bytes> from_alice = group_ciphertexts(server, bob);
  std::vector<Bytes> from_bob = group_ciphertexts(server, alice);
  ASSERT_EQ(from_alice.size(), 1u);
  ASSERT_EQ(from_bob.size(), 1u);
  // A new key (distribution id) that carol never got, not the one she had.
  EXPECT_NE(distribution_id(from_alice[0]), distribution_id(before[0]));
  // Nor did the server give carol either message.
  EXPECT_TRUE(group_ciphertexts(server, carol).empty());

  // A server that hands them to carol anyway gets nothing readable out of her client.
  store::DeviceAddress carol_address = address_of(carol);
  store::DeviceAddress alice_address = address_of(alice);
  store::DeviceAddress bob_address = address_of(bob);
  carol->disconnect();  // she fetches the forged copies when she signs in again
  std::size_t warnings = carol.count(Event::Kind::kWarning);
  for (const auto& [ciphertext, sender] :
       {std::pair{from_alice[0], alice_address}, std::pair{from_bob[0], bob_address}}) {
    store::AppendRequest forged;
    store::NewEnvelope envelope;
    envelope.recipient = carol_address;
    envelope.sender = sender;
    envelope.timestamp_ms = 1;
    envelope.payload = ciphertext;
    forged.envelopes.push_back(envelope);
    ASSERT_TRUE(server.store().append_messages(forged).ok());
  }
  sync(carol);
  EXPECT_THAT(carol.group_texts(), ElementsAre("alice: everyone reads this"));
  EXPECT_EQ(carol.count(Event::Kind::kWarning), warnings + 2);
  EXPECT_EQ(carol.events().back().code, ErrorCode::kNoSession);

  sync_all({&alice, &bob});
  EXPECT_THAT(bob.group_texts(),
              ElementsAre("alice: everyone reads this", "alice: carol must not read this"));
  EXPECT_THAT(alice.group_texts(), ElementsAre("bob: nor this"));
}

TEST(GroupTest, MemberLeavesAndTheOnlyAdminLeavingHandsOver) {
  LoopbackServer server;
  Device alice(server), bob(server), carol(server);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  sign_up(carol, "carol");
  ASSERT_TRUE(alice->create_group("trio", {"bob", "carol"}).ok());
  flush(alice);
  sync_all({&bob, &carol});

  ASSERT_OK(bob->leave_group("trio"));
  flush(bob);
  sync_all({&alice, &carol});
  EXPECT_THAT(member_names(alice, "trio"), UnorderedElementsAreArray({"alice", "carol"}));
  EXPECT_THAT(member_names(carol, "trio"), UnorderedElementsAreArray({"alice", "carol"}));
  EXPECT_FALSE(bob->group_info("trio")->is_member);
  say(alice, "trio", "bob is gone");
  EXPECT_TRUE(group_ciphertexts(server, bob).empty());

  // The only admin leaves: carol, the last member, is admin in the same state.
  ASSERT_OK(alice->leave_group("trio"));
  flush(alice);
  sync(carol);
  auto at_carol = carol->group_info("trio");
  ASSERT_TRUE(at_carol.ok());
  ASSERT_EQ(at_carol->members.size(), 1u);
  EXPECT_TRUE(at_carol->is_admin);
  EXPECT_THAT(carol.group_texts(), ElementsAre("alice: bob is gone"));
}

TEST(GroupTest, ConcurrentAddsByTwoAdminsConverge) {
  LoopbackServer server;
  Device alice(server), bob(server), carol(server), dave(server), erin(server);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  sign_up(carol, "carol");
  sign_up(dave, "dave");
  sign_up(erin, "erin");
  ASSERT_TRUE(alice->create_group("board", {"bob", "carol"}).ok());
  ASSERT_OK(alice->set_group_admin("board", "bob", true));
  flush(alice);
  sync_all({&bob, &carol});
  ASSERT_TRUE(bob->group_info("board")->is_admin);

  // Both admins change version 3 at the same time, neither having seen the other's change.
  ASSERT_OK(alice->add_group_members("board", {"dave"}));
  ASSERT_OK(bob->add_group_members("board", {"erin"}));
  flush(alice);
  flush(bob);
  sync_all({&alice, &bob, &carol, &dave, &erin}, 3);

  std::vector<std::string> everyone{"alice", "bob", "carol", "dave", "erin"};
  std::optional<std::uint64_t> version;
  for (Device* device : {&alice, &bob, &carol, &dave, &erin}) {
    auto info = (*device)->group_info("board");
    ASSERT_TRUE(info.ok()) << info.status().to_string();
    EXPECT_TRUE(info->is_member);
    EXPECT_THAT(member_names(*device, "board"), UnorderedElementsAreArray(everyone));
    if (!version) version = info->version;
    EXPECT_EQ(info->version, *version);  // one state everywhere
  }
  EXPECT_EQ(*version, 4u);  // the losing change was made again on top of the winner

  say(carol, "board", "hello all five");
  sync_all({&alice, &bob, &dave, &erin});
  for (Device* device : {&alice, &bob, &dave, &erin}) {
    EXPECT_THAT(device->group_texts(), ElementsAre("carol: hello all five"));
  }
  for (Device* device : {&alice, &bob, &carol, &dave, &erin}) {
    EXPECT_THAT(warnings(*device), ElementsAre());
  }
}

TEST(GroupTest, OfflineMemberCatchesUpInOrder) {
  LoopbackServer server;
  Device alice(server), bob(server), carol(server), dave(server);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  sign_up(carol, "carol");
  sign_up(dave, "dave");
  carol->disconnect();  // carol is away for all of what follows

  ASSERT_TRUE(alice->create_group("later", {"bob", "carol"}).ok());
  flush(alice);
  say(alice, "later", "one");
  say(alice, "later", "two");
  sync(bob);
  say(bob, "later", "three");
  ASSERT_OK(alice->add_group_members("later", {"dave"}));
  flush(alice);
  say(alice, "later", "four");
  sync(bob);
  say(bob, "later", "five");

  carol.reopen();  // the app restarts and fetches everything at once
  sync(carol);
  EXPECT_THAT(carol.group_texts(),
              ElementsAre("alice: one", "alice: two", "bob: three", "alice: four", "bob: five"));
  EXPECT_THAT(member_names(carol, "later"),
              UnorderedElementsAreArray({"alice", "bob", "carol", "dave"}));
  sync(dave);
  EXPECT_THAT(dave.group_texts(), ElementsAre("alice: four", "bob: five"));
  for (Device* device : {&alice, &bob, &carol, &dave}) {
    EXPECT_THAT(warnings(*device), ElementsAre());
  }
}

TEST(GroupTest, LinkedDevicesSendReceiveAndSeeTheirOwn) {
  LoopbackServer server;
  Device alice(server), alice2(server), bob(server);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  link(alice, alice2);
  sync(alice);

  ASSERT_TRUE(alice->create_group("pair", {"bob"}).ok());
  flush(alice);
  sync_all({&alice2, &bob});
  auto at_alice2 = alice2->group_info("pair");
  ASSERT_TRUE(at_alice2.ok()) << at_alice2.status().to_string();
  EXPECT_TRUE(at_alice2->is_admin);
  // Changing the group needs the primary's identity key.
  EXPECT_EQ(alice2->rename_group("pair", "other").code(), ErrorCode::kPermissionDenied);

  say(alice2, "pair", "from alice's laptop");
  say(alice, "pair", "from alice's phone");
  say(bob, "pair", "from bob");
  sync_all({&alice, &alice2, &bob});
  EXPECT_THAT(bob.group_texts(),
              ElementsAre("alice: from alice's laptop", "alice: from alice's phone"));
  EXPECT_THAT(alice.group_texts(), ElementsAre("alice: from alice's laptop", "bob: from bob"));
  EXPECT_THAT(alice2.group_texts(), ElementsAre("alice: from alice's phone", "bob: from bob"));
  auto history = alice->group_history("pair", 10);
  ASSERT_TRUE(history.ok());
  std::size_t outgoing = 0;
  for (const auto& m : *history) {
    if (m.kind == MessageKind::kText && m.direction == MessageDirection::kOutgoing) ++outgoing;
  }
  EXPECT_EQ(outgoing, 2u);  // both of alice's devices' messages are "ours"
  for (Device* device : {&alice, &alice2, &bob}) EXPECT_THAT(warnings(*device), ElementsAre());
}

TEST(GroupTest, KeyRotatesWhenAMemberDeviceGoesAndPeriodically) {
  LoopbackServer server;
  FakeClock clock;
  Device alice(server, &clock), bob(server), bob2(server);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  link(bob, bob2);
  ASSERT_TRUE(alice->create_group("keys", {"bob"}).ok());
  flush(alice);
  sync_all({&bob, &bob2});

  say(alice, "keys", "one");
  say(alice, "keys", "two");
  std::vector<Bytes> first = group_ciphertexts(server, bob);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(distribution_id(first[0]), distribution_id(first[1]));  // one key for both
  sync_all({&bob, &bob2});

  ASSERT_OK(bob->remove_device(2));  // bob's second device held alice's key
  say(alice, "keys", "three");
  std::vector<Bytes> after_removal = group_ciphertexts(server, bob);
  ASSERT_EQ(after_removal.size(), 1u);
  EXPECT_NE(distribution_id(after_removal[0]), distribution_id(first[0]));
  sync(bob);

  clock.advance(std::chrono::hours(24 * 8));  // past a week: a new key anyway
  say(alice, "keys", "four");
  std::vector<Bytes> after_week = group_ciphertexts(server, bob);
  ASSERT_EQ(after_week.size(), 1u);
  EXPECT_NE(distribution_id(after_week[0]), distribution_id(after_removal[0]));
  sync(bob);
  EXPECT_THAT(bob.group_texts(),
              ElementsAre("alice: one", "alice: two", "alice: three", "alice: four"));
}

TEST(GroupTest, AGroupMessageIsStoredOnceOnTheServer) {
  LoopbackServer server;
  std::deque<Device> members;
  std::vector<std::string> names;
  Device alice(server);
  sign_up(alice, "alice");
  for (int i = 0; i < 6; ++i) {
    names.push_back("member" + std::to_string(i));
    members.emplace_back(server);
    sign_up(members.back(), names.back());
  }
  ASSERT_TRUE(alice->create_group("many", names).ok());
  flush(alice);
  for (auto& m : members) sync(m);
  say(alice, "many", "warm up");  // keys go out pairwise first
  for (auto& m : members) sync(m);

  store::StoreStats before = server.store().stats();
  say(alice, "many", "stored once");
  store::StoreStats after = server.store().stats();
  EXPECT_EQ(after.shared_payloads_written - before.shared_payloads_written, 1u);
  EXPECT_EQ(after.envelopes_written - before.envelopes_written, members.size());
  EXPECT_EQ(after.shared_payloads_live, 1u);
  // Every member's mailbox holds the very same bytes.
  std::set<Bytes> payloads;
  for (auto& m : members) {
    std::vector<Bytes> waiting = group_ciphertexts(server, m);
    ASSERT_EQ(waiting.size(), 1u);
    payloads.insert(waiting[0]);
  }
  EXPECT_EQ(payloads.size(), 1u);
  for (auto& m : members) sync(m);
  EXPECT_EQ(server.store().stats().shared_payloads_live, 0u);  // gone with the last ack
  for (auto& m : members) {
    EXPECT_THAT(m.group_texts(), ElementsAre("alice: warm up", "alice: stored once"));
  }
}

// 200 member devices: 180 accounts, 20 of them with a linked second device, plus the creator.
// (Linking waits for the primary's signed list, ~0.4 s each, so most members have one device.)
TEST(GroupScaleTest, TwoHundredMemberDevices) {
  constexpr std::size_t kAccounts = 180;
  constexpr std::size_t kLinked = 20;
  LoopbackServer server;
  Device alice(server);
  sign_up(alice, "alice");
  std::deque<Device> phones, laptops;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < kAccounts; ++i) {
    names.push_back("user" + std::to_string(i));
    phones.emplace_back(server);
    sign_up(phones.back(), names.back());
    if (i < kLinked) {
      laptops.emplace_back(server);
      link(phones.back(), laptops.back());
      laptops.back()->disconnect();
    }
    phones.back()->disconnect();
  }
  std::vector<Device*> devices;
  for (auto& d : phones) devices.push_back(&d);
  for (auto& d : laptops) devices.push_back(&d);
  ASSERT_EQ(devices.size(), 200u);

  auto created = alice->create_group("crowd", names);
  ASSERT_TRUE(created.ok()) << created.status().to_string();
  ASSERT_EQ(created->members.size(), kAccounts + 1);
  flush(alice);
  store::StoreStats before = server.store().stats();
  say(alice, "crowd", "hello crowd");
  store::StoreStats after = server.store().stats();
  EXPECT_EQ(after.shared_payloads_written - before.shared_payloads_written, 1u);
  EXPECT_GE(after.envelopes_written - before.envelopes_written, 200u);  // + the keys, pairwise

  for (Device* device : devices) {
    sync(*device);
    EXPECT_THAT(device->group_texts(), ElementsAre("alice: hello crowd"));
    (*device)->disconnect();
  }
  // A member with two devices answers: its key goes pairwise to every other device, its message
  // once.
  before = server.store().stats();
  say(phones[7], "crowd", "hello alice");
  EXPECT_EQ(server.store().stats().shared_payloads_written - before.shared_payloads_written, 1u);
  sync(alice);
  sync(laptops[7]);
  sync(phones[150]);
  EXPECT_THAT(alice.group_texts(), ElementsAre("user7: hello alice"));
  EXPECT_THAT(phones[150].group_texts(), ElementsAre("alice: hello crowd", "user7: hello alice"));
  EXPECT_THAT(laptops[7].group_texts(), ElementsAre("alice: hello crowd", "user7: hello alice"));
}

}  // namespace
}  // namespace parley::client
