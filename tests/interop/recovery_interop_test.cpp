// SPDX-License-Identifier: AGPL-3.0-or-later
// The awkward paths between Parley and libsignal-protocol-c: both sides starting a session at
// once, a session restarted while old messages are still in flight, a changed identity key, and
// several devices behind one name.
#include <gtest/gtest.h>

#include "conversation.h"
#include "libsignal_peer.h"
#include "oracle_endpoint.h"
#include "parley/crypto/messages.h"
#include "parley_peer.h"

namespace parley::interop {
namespace {

using crypto::MessageType;

Bytes text(const std::string& s) {
  return to_bytes(s);
}

// Each side processes the other's bundle and sends a PreKeySignalMessage before seeing the other's.
TEST(RecoveryInteropTest, SimultaneousInitiate) {
  ParleyPeer parley("parley-user", 1);
  auto oracle = LibsignalPeer::create("libsignal-user", 1);
  auto oracle_bundle = to_parley(oracle->make_bundle(10, 11).value);
  ASSERT_TRUE(oracle_bundle.ok());
  ASSERT_TRUE(parley.process_bundle(oracle->address(), *oracle_bundle).ok());
  ASSERT_EQ(oracle->process_bundle(parley.oracle_address(), to_oracle(parley.make_bundle(20, 21))),
            kSgOk);

  auto to_oracle_msg = parley.encrypt(oracle->address(), text("from parley"));
  auto to_parley_msg = oracle->encrypt(parley.oracle_address(), text("from libsignal"));
  ASSERT_TRUE(to_oracle_msg.ok() && to_parley_msg.ok());
  ASSERT_EQ(to_oracle_msg->type, MessageType::kPreKey);
  ASSERT_EQ(to_parley_msg.value.type, kTypePreKey);

  auto at_parley = parley.decrypt(oracle->address(), kTypePreKey, to_parley_msg.value.bytes);
  ASSERT_TRUE(at_parley.ok()) << at_parley.status().to_string();
  EXPECT_EQ(*at_parley, text("from libsignal"));
  auto at_oracle = oracle->decrypt(parley.oracle_address(), kTypePreKey, to_oracle_msg->bytes);
  ASSERT_TRUE(at_oracle.ok()) << at_oracle.error;
  EXPECT_EQ(at_oracle.value, text("from parley"));

  // Each now sends on the session the other started; the receiver finds it among its states and
  // both converge on one session.
  Endpoint p = parley_endpoint(parley, oracle->address());
  Endpoint o = oracle_endpoint(*oracle, parley.oracle_address());
  auto m1 = p.encrypt(text("after the race (parley)"));
  ASSERT_TRUE(m1.ok()) << m1.error;
  auto d1 = o.decrypt(m1.value);
  ASSERT_TRUE(d1.ok()) << d1.error;
  EXPECT_EQ(d1.value, text("after the race (parley)"));
  auto m2 = o.encrypt(text("after the race (libsignal)"));
  ASSERT_TRUE(m2.ok()) << m2.error;
  auto d2 = p.decrypt(m2.value);
  ASSERT_TRUE(d2.ok()) << d2.error;
  EXPECT_EQ(d2.value, text("after the race (libsignal)"));

  ConversationOptions options;
  options.seed = 31337;
  options.messages = 300;
  EXPECT_EQ(run_conversation(p, o, options), "");
}

// A restarted session (the initiator fetched a fresh bundle) while messages of the old session are
// still in flight: the receiver decrypts the new one and the old ones from its archived state.
class SessionRestart : public ::testing::TestWithParam<bool> {};

TEST_P(SessionRestart, OldMessagesStillDecryptFromArchivedState) {
  const bool parley_restarts = GetParam();
  ParleyPeer parley("parley-user", 1);
  auto oracle = LibsignalPeer::create("libsignal-user", 1);
  Endpoint p = parley_endpoint(parley, oracle->address());
  Endpoint o = oracle_endpoint(*oracle, parley.oracle_address());
  Endpoint& restarter = parley_restarts ? p : o;
  Endpoint& receiver = parley_restarts ? o : p;

  // First session, started by the restarter, confirmed both ways.
  if (parley_restarts) {
    ASSERT_TRUE(
        parley.process_bundle(oracle->address(), *to_parley(oracle->make_bundle(1, 1).value)).ok());
  } else {
    ASSERT_EQ(oracle->process_bundle(parley.oracle_address(), to_oracle(parley.make_bundle(1, 1))),
              kSgOk);
  }
  auto hello = restarter.encrypt(text("hello"));
  ASSERT_TRUE(hello.ok());
  ASSERT_TRUE(receiver.decrypt(hello.value).ok());
  auto ack = receiver.encrypt(text("ack"));
  ASSERT_TRUE(ack.ok());
  ASSERT_TRUE(restarter.decrypt(ack.value).ok());

  // Old-session messages that will arrive late.
  std::vector<std::pair<Bytes, WireMessage>> late;
  for (int i = 0; i < 3; ++i) {
    Bytes plaintext = text("old " + std::to_string(i));
    auto m = restarter.encrypt(plaintext);
    ASSERT_TRUE(m.ok());
    late.emplace_back(plaintext, m.value);
  }

  // The restarter fetches a new bundle and starts over.
  if (parley_restarts) {
    ASSERT_TRUE(
        parley.process_bundle(oracle->address(), *to_parley(oracle->make_bundle(2, 2).value)).ok());
  } else {
    ASSERT_EQ(oracle->process_bundle(parley.oracle_address(), to_oracle(parley.make_bundle(2, 2))),
              kSgOk);
  }
  auto fresh = restarter.encrypt(text("new session"));
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh.value.type, kTypePreKey);
  auto got = receiver.decrypt(fresh.value);
  ASSERT_TRUE(got.ok()) << got.error;
  EXPECT_EQ(got.value, text("new session"));

  for (const auto& [plaintext, message] : late) {
    auto old = receiver.decrypt(message);
    ASSERT_TRUE(old.ok()) << old.error;
    EXPECT_EQ(old.value, plaintext);
  }

  // The conversation continues; the receiver answers on the newest session.
  ConversationOptions options;
  options.seed = parley_restarts ? 5u : 6u;
  options.messages = 200;
  EXPECT_EQ(run_conversation(p, o, options), "");
}

INSTANTIATE_TEST_SUITE_P(Restarter, SessionRestart, ::testing::Bool(),
                         [](const auto& test) { return test.param ? "Parley" : "Libsignal"; });

// Trust on first use on both sides: a prekey message from a known name with a new identity key is
// refused until the user accepts the new key.
TEST(RecoveryInteropTest, ChangedIdentityIsRefusedBothWays) {
  ParleyPeer parley("parley-user", 1);
  auto oracle = LibsignalPeer::create("libsignal-user", 1);
  ASSERT_EQ(oracle->process_bundle(parley.oracle_address(), to_oracle(parley.make_bundle(1, 1))),
            kSgOk);
  auto first = oracle->encrypt(parley.oracle_address(), text("hi"));
  ASSERT_TRUE(parley.decrypt(oracle->address(), first.value.type, first.value.bytes).ok());

  auto impostor = LibsignalPeer::create("libsignal-user", 1);  // same address, new identity
  ASSERT_EQ(impostor->process_bundle(parley.oracle_address(), to_oracle(parley.make_bundle(2, 2))),
            kSgOk);
  auto forged = impostor->encrypt(parley.oracle_address(), text("trust me"));
  ASSERT_TRUE(forged.ok());
  EXPECT_EQ(
      parley.decrypt(impostor->address(), forged.value.type, forged.value.bytes).status().code(),
      ErrorCode::kUntrustedIdentity);

  // And libsignal refuses a Parley device whose identity changed under the same name.
  ParleyPeer parley_impostor("parley-user", 1);
  auto bundle = to_parley(oracle->make_bundle(3, 3).value);
  ASSERT_TRUE(bundle.ok());
  ASSERT_TRUE(parley_impostor.process_bundle(oracle->address(), *bundle).ok());
  auto forged2 = parley_impostor.encrypt(oracle->address(), text("trust me too"));
  ASSERT_TRUE(forged2.ok());
  EXPECT_EQ(oracle->decrypt(parley_impostor.oracle_address(), kTypePreKey, forged2->bytes).error,
            kSgErrUntrustedIdentity);
}

// Two libsignal devices of one account (same identity key): separate sessions, separate keys.
TEST(RecoveryInteropTest, SeparateSessionsPerDevice) {
  ParleyPeer parley("parley-user", 1);
  auto phone = LibsignalPeer::create("bob", 1);
  auto laptop = LibsignalPeer::create_with_identity("bob", 2, phone->identity_private(), 4242);
  ASSERT_NE(laptop, nullptr);
  for (LibsignalPeer* device : {phone.get(), laptop.get()}) {
    auto bundle = to_parley(device->make_bundle(1, 1).value);
    ASSERT_TRUE(bundle.ok());
    ASSERT_TRUE(parley.process_bundle(device->address(), *bundle).ok());
  }
  auto to_phone = parley.encrypt(phone->address(), text("for the phone"));
  auto to_laptop = parley.encrypt(laptop->address(), text("for the laptop"));
  ASSERT_TRUE(to_phone.ok() && to_laptop.ok());
  EXPECT_NE(to_phone->bytes, to_laptop->bytes);

  auto a = phone->decrypt(parley.oracle_address(), kTypePreKey, to_phone->bytes);
  ASSERT_TRUE(a.ok()) << a.error;
  EXPECT_EQ(a.value, text("for the phone"));
  auto b = laptop->decrypt(parley.oracle_address(), kTypePreKey, to_laptop->bytes);
  ASSERT_TRUE(b.ok()) << b.error;
  EXPECT_EQ(b.value, text("for the laptop"));
  // The phone cannot read what was meant for the laptop (different one-time keys).
  EXPECT_FALSE(phone->decrypt(parley.oracle_address(), kTypePreKey, to_laptop->bytes).ok());

  auto reply = laptop->encrypt(parley.oracle_address(), text("laptop here"));
  ASSERT_TRUE(reply.ok());
  auto got = parley.decrypt(laptop->address(), reply.value.type, reply.value.bytes);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(*got, text("laptop here"));
  // Nor does a message from the laptop decrypt as if from the phone.
  EXPECT_FALSE(parley.decrypt(phone->address(), reply.value.type, reply.value.bytes).ok());
}

}  // namespace
}  // namespace parley::interop
