// SPDX-License-Identifier: AGPL-3.0-or-later
// Group fan-out: one ciphertext for many devices, checked per recipient account like a
// one-to-one send, stored once, delivered and acked like any message.
#include <gtest/gtest.h>

#include "test_harness.h"

namespace parley::server::testing {
namespace {

using Members = std::vector<std::pair<store::AccountId, std::vector<std::uint32_t>>>;

wire::Request group_request(const Members& members, const std::string& client_message_id,
                            const std::string& ciphertext) {
  wire::Request request;
  auto* send = request.mutable_send_group_message();
  send->set_client_message_id(client_message_id);
  send->set_ciphertext(ciphertext);
  for (const auto& [account, devices] : members) {
    auto* recipient = send->add_recipients();
    recipient->set_account_id(account_bytes(account));
    for (std::uint32_t d : devices) recipient->add_device_ids(d);
  }
  return request;
}

std::vector<std::uint32_t> ids(const google::protobuf::RepeatedField<std::uint32_t>& field) {
  return {field.begin(), field.end()};
}

class GroupSendTest : public ::testing::Test, public CoreFixture {
 protected:
  explicit GroupSendTest(ServerCoreConfig config = test_config()) : CoreFixture(config) {}

  // A new account with `devices` devices, every device signed in on its own client.
  struct Member {
    std::vector<std::unique_ptr<Client>> clients;
    std::vector<Identity> ids;
    store::AccountId account() const { return ids[0].account; }
  };
  Member add_member(int devices) {
    Member m;
    m.clients.push_back(std::make_unique<Client>(*core));
    m.ids.resize(1);
    m.clients[0]->sign_up_and_in(m.ids[0]);
    for (int i = 1; i < devices; ++i) {
      wire::Request r;
      r.mutable_create_link_code();
      std::string code = m.clients[0]->call(r).create_link_code().code();
      m.clients.push_back(std::make_unique<Client>(*core));
      m.ids.emplace_back();
      EXPECT_EQ(status_of(m.clients.back()->link_device(m.ids.back(), code)), ErrorCode::kOk);
      EXPECT_EQ(status_of(m.clients.back()->authenticate(m.ids.back())), ErrorCode::kOk);
    }
    return m;
  }
};

TEST_F(GroupSendTest, OneCiphertextReachesEveryDeviceIncludingTheSendersOthers) {
  Member alice = add_member(3), bob = add_member(1), carol = add_member(2);
  // Ten more members who are offline (signed up, then disconnected).
  std::vector<Member> offline;
  for (int i = 0; i < 10; ++i) {
    offline.push_back(add_member(1));
    offline.back().clients[0]->close();
  }
  Members members{{alice.account(), {2, 3}}, {bob.account(), {1}}, {carol.account(), {1, 2}}};
  for (const Member& m : offline) members.push_back({m.account(), {1}});

  wire::Response ack = alice.clients[0]->call(group_request(members, "group-msg-0001", "sk-msg"));
  ASSERT_EQ(status_of(ack), ErrorCode::kOk) << ack.message();
  EXPECT_EQ(ack.send_group_message().client_message_id(), "group-msg-0001");
  EXPECT_EQ(ack.send_group_message().stored_copies(), 15u);

  for (Client* online : {alice.clients[1].get(), alice.clients[2].get(), bob.clients[0].get(),
                         carol.clients[0].get(), carol.clients[1].get()}) {
    ASSERT_TRUE(online->wait_for_messages(1));
    auto messages = online->messages();
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0].ciphertext(), "sk-msg");
    EXPECT_EQ(account_from(messages[0].sender_account_id()), alice.account());
    EXPECT_EQ(messages[0].sender_device_id(), 1u);
  }
  EXPECT_TRUE(alice.clients[0]->messages().empty());  // not to itself

  // Stored once: one shared payload for 15 mailbox entries.
  EXPECT_EQ(store.stats().shared_payloads_written, 1u);
  EXPECT_EQ(store.stats().shared_payloads_live, 1u);
  EXPECT_EQ(store.stats().envelopes_written, 15u);
  EXPECT_EQ(metrics.value("parley_group_messages_total"), 1);
  EXPECT_EQ(metrics.value("parley_group_fanout_copies_total"), 15);

  // An offline member drains it on sign-in.
  Client again(*core);
  ASSERT_EQ(status_of(again.authenticate(offline[3].ids[0])), ErrorCode::kOk);
  ASSERT_TRUE(again.wait_for_queue_empty());
  ASSERT_EQ(again.messages().size(), 1u);
  EXPECT_EQ(again.messages()[0].ciphertext(), "sk-msg");
}

TEST_F(GroupSendTest, MismatchListsOnlyTheAccountsThatDifferAndStoresNothing) {
  Member alice = add_member(2), bob = add_member(1), carol = add_member(2), dave = add_member(1);
  store::AccountId unknown{};
  unknown.fill(0x42);
  Members members{{alice.account(), {2}},
                  {bob.account(), {1, 2}},
                  {carol.account(), {1}},
                  {dave.account(), {1}},
                  {unknown, {1}}};
  wire::Response r = alice.clients[0]->call(group_request(members, "group-msg-0001", "x"));
  EXPECT_EQ(status_of(r), ErrorCode::kDeviceMismatch);
  ASSERT_TRUE(r.has_group_device_mismatch()) << r.message();
  const auto& accounts = r.group_device_mismatch().accounts();
  ASSERT_EQ(accounts.size(), 3);
  EXPECT_EQ(account_from(accounts[0].account_id()), bob.account());
  EXPECT_EQ(ids(accounts[0].extra_devices()), std::vector<std::uint32_t>{2});
  EXPECT_TRUE(accounts[0].missing_devices().empty());
  EXPECT_FALSE(accounts[0].account_gone());
  EXPECT_EQ(account_from(accounts[1].account_id()), carol.account());
  EXPECT_EQ(ids(accounts[1].missing_devices()), std::vector<std::uint32_t>{2});
  EXPECT_EQ(account_from(accounts[2].account_id()), unknown);
  EXPECT_TRUE(accounts[2].account_gone());
  EXPECT_EQ(store.stats().shared_payloads_written, 0u);
  EXPECT_EQ(store.count_messages({dave.account(), 1}).value(), 0u);

  // The sender's own account is checked too: its other devices, never the sender itself.
  r = alice.clients[0]->call(group_request({{alice.account(), {1, 2}}}, "group-msg-0002", "x"));
  ASSERT_EQ(status_of(r), ErrorCode::kDeviceMismatch);
  ASSERT_EQ(r.group_device_mismatch().accounts_size(), 1);
  EXPECT_EQ(ids(r.group_device_mismatch().accounts(0).extra_devices()),
            std::vector<std::uint32_t>{1});

  // Fixed, the same id goes through.
  members = {{alice.account(), {2}},
             {bob.account(), {1}},
             {carol.account(), {1, 2}},
             {dave.account(), {1}}};
  EXPECT_EQ(status_of(alice.clients[0]->call(group_request(members, "group-msg-0001", "x"))),
            ErrorCode::kOk);
}

TEST_F(GroupSendTest, RetryIsStoredAndDeliveredOnce) {
  Member alice = add_member(1), bob = add_member(1);
  Members members{{bob.account(), {1}}};
  wire::Response first = alice.clients[0]->call(group_request(members, "group-msg-0001", "x"));
  wire::Response retry = alice.clients[0]->call(group_request(members, "group-msg-0001", "x"));
  ASSERT_EQ(status_of(first), ErrorCode::kOk);
  ASSERT_EQ(status_of(retry), ErrorCode::kOk);
  EXPECT_EQ(retry.send_group_message().SerializeAsString(),
            first.send_group_message().SerializeAsString());
  EXPECT_EQ(store.stats().shared_payloads_written, 1u);
  EXPECT_EQ(store.count_messages({bob.account(), 1}).value(), 1u);
  EXPECT_EQ(metrics.value("parley_messages_duplicate_total"), 1);
  ASSERT_TRUE(bob.clients[0]->wait_for_messages(1));
  // A one-to-one send is keyed the same way (sender device + client message id): reusing the id
  // answers from the group message's record instead of storing a second message.
  EXPECT_EQ(status_of(alice.clients[0]->send_message(bob.account(), {1}, "group-msg-0001", "y")),
            ErrorCode::kOk);
  EXPECT_EQ(store.count_messages({bob.account(), 1}).value(), 1u);
}

TEST_F(GroupSendTest, GroupAndOneToOneMessagesArriveInSendOrder) {
  Member alice = add_member(1), bob = add_member(1);
  ASSERT_EQ(status_of(alice.clients[0]->send_message(bob.account(), {1}, "direct-0001", "one")),
            ErrorCode::kOk);
  ASSERT_EQ(status_of(alice.clients[0]->call(
                group_request({{bob.account(), {1}}}, "group-msg-0001", "two"))),
            ErrorCode::kOk);
  ASSERT_EQ(status_of(alice.clients[0]->send_message(bob.account(), {1}, "direct-0002", "three")),
            ErrorCode::kOk);
  ASSERT_TRUE(bob.clients[0]->wait_for_messages(3));
  auto messages = bob.clients[0]->messages();
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].ciphertext(), "one#1");
  EXPECT_EQ(messages[1].ciphertext(), "two");
  EXPECT_EQ(messages[2].ciphertext(), "three#1");
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(messages[i].seq(), i + 1);

  // The same order for a device that was offline.
  bob.clients[0]->close();
  Client again(*core);
  ASSERT_EQ(status_of(again.authenticate(bob.ids[0])), ErrorCode::kOk);
  ASSERT_TRUE(again.wait_for_queue_empty());
  ASSERT_EQ(again.messages().size(), 3u);
  EXPECT_EQ(again.messages()[1].ciphertext(), "two");
}

TEST_F(GroupSendTest, TheLastAckFreesTheSharedCiphertext) {
  Member alice = add_member(1), bob = add_member(2), carol = add_member(1);
  Members members{{bob.account(), {1, 2}}, {carol.account(), {1}}};
  ASSERT_EQ(status_of(alice.clients[0]->call(group_request(members, "group-msg-0001", "x"))),
            ErrorCode::kOk);
  std::vector<Client*> receivers{bob.clients[0].get(), bob.clients[1].get(),
                                 carol.clients[0].get()};
  for (Client* c : receivers) ASSERT_TRUE(c->wait_for_messages(1));
  for (std::size_t i = 0; i < receivers.size(); ++i) {
    EXPECT_EQ(store.stats().shared_payloads_live, 1u);
    wire::Response acked = receivers[i]->ack({receivers[i]->messages()[0].seq()});
    ASSERT_EQ(status_of(acked), ErrorCode::kOk);
    EXPECT_EQ(acked.ack_messages().deleted(), 1u);
  }
  EXPECT_EQ(store.stats().shared_payloads_live, 0u);
}

TEST_F(GroupSendTest, NeedsASignedInDevice) {
  Member bob = add_member(1);
  Client stranger(*core);
  wire::Response r = stranger.call(group_request({{bob.account(), {1}}}, "group-msg-0001", "x"));
  EXPECT_EQ(status_of(r), ErrorCode::kUnauthenticated);
}

ServerCoreConfig small_queues() {
  ServerCoreConfig config = CoreFixture::test_config();
  config.max_queue_per_device = 1;
  return config;
}

class GroupSendQueueTest : public GroupSendTest {
 protected:
  GroupSendQueueTest() : GroupSendTest(small_queues()) {}
};

TEST_F(GroupSendQueueTest, OneFullMailboxRefusesTheWholeGroupMessage) {
  Member alice = add_member(1), bob = add_member(1), carol = add_member(1);
  bob.clients[0]->close();  // Bob's mailbox fills up while he is away
  ASSERT_EQ(status_of(alice.clients[0]->send_message(bob.account(), {1}, "direct-0001", "one")),
            ErrorCode::kOk);
  Members members{{bob.account(), {1}}, {carol.account(), {1}}};
  wire::Response r = alice.clients[0]->call(group_request(members, "group-msg-0001", "x"));
  EXPECT_EQ(status_of(r), ErrorCode::kQueueFull);
  EXPECT_NE(r.message().find("device 1 of account"), std::string::npos) << r.message();
  EXPECT_EQ(store.count_messages({carol.account(), 1}).value(), 0u);  // all or nothing
  EXPECT_EQ(store.stats().shared_payloads_live, 0u);
}

}  // namespace
}  // namespace parley::server::testing
