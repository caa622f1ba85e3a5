// SPDX-License-Identifier: AGPL-3.0-or-later
#include <gtest/gtest.h>

#include "parley/crypto/session_builder.h"
#include "parley/crypto/session_cipher.h"
#include "party.h"

namespace parley::crypto {
namespace {

using testing::Party;

std::string text(const SecretBytes& bytes) {
  return std::string(as_string_view(bytes.view()));
}

Result<std::string> send(Party& from, Party& to, std::string_view message) {
  PARLEY_ASSIGN_OR_RETURN(CiphertextMessage c, from.cipher_for(to).encrypt(as_bytes(message)));
  PARLEY_ASSIGN_OR_RETURN(SecretBytes p, to.cipher_for(from).decrypt(c.type, c.bytes));
  return text(p);
}

class SessionTest : public ::testing::TestWithParam<bool> {};

TEST_P(SessionTest, X3dhThenRatchetBothWays) {
  const bool with_one_time = GetParam();
  Party alice("alice"), bob("bob");
  PreKeyBundle bundle = bob.bundle(with_one_time);
  ASSERT_TRUE(alice.builder_for(bob).process(bundle).ok());

  // Until Bob answers, Alice's messages carry the X3DH data.
  Result<CiphertextMessage> first = alice.cipher_for(bob).encrypt(as_bytes("hello bob"));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->type, MessageType::kPreKey);
  Result<PreKeySignalMessage> parsed = PreKeySignalMessage::parse(first->bytes);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->pre_key_id().has_value(), with_one_time);
  EXPECT_EQ(parsed->registration_id(), *alice.store.identities.local_registration_id());

  Result<SecretBytes> got = bob.cipher_for(alice).decrypt(first->type, first->bytes);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(text(*got), "hello bob");
  if (with_one_time) {
    // The one-time prekey is consumed.
    EXPECT_FALSE(*bob.store.pre_keys.contains_pre_key(*bundle.pre_key_id));
  }
  EXPECT_EQ(*bob.cipher_for(alice).remote_registration_id(),
            *alice.store.identities.local_registration_id());

  Result<CiphertextMessage> reply = bob.cipher_for(alice).encrypt(as_bytes("hi alice"));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->type, MessageType::kSignal);
  got = alice.cipher_for(bob).decrypt(reply->type, reply->bytes);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(text(*got), "hi alice");

  // Bob answered: Alice now sends plain SignalMessages.
  Result<CiphertextMessage> next = alice.cipher_for(bob).encrypt(as_bytes("ok"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->type, MessageType::kSignal);
  EXPECT_EQ(text(*bob.cipher_for(alice).decrypt(next->type, next->bytes)), "ok");

  for (int i = 0; i < 10; ++i) {
    std::string m = "ping " + std::to_string(i);
    EXPECT_EQ(send(i % 3 == 0 ? alice : bob, i % 3 == 0 ? bob : alice, m).value_or("error"), m);
  }
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutOneTimePreKey, SessionTest, ::testing::Bool());

TEST(Session, RejectsBadSignedPreKeySignature) {
  Party alice("alice"), bob("bob");
  PreKeyBundle bundle = bob.bundle(true);
  bundle.signed_pre_key_signature[5] ^= 1;
  EXPECT_EQ(alice.builder_for(bob).process(bundle).code(), ErrorCode::kBadSignature);
  EXPECT_FALSE(*alice.store.sessions.contains_session(bob.address));
  // A signature by some other key does not pass either.
  PreKeyBundle other = bob.bundle(true);
  other.identity_key = KeyPair::generate().public_key;
  EXPECT_EQ(alice.builder_for(bob).process(other).code(), ErrorCode::kBadSignature);
}

TEST(Session, UntrustedIdentityIsRejected) {
  Party alice("alice"), bob("bob");
  ASSERT_TRUE(alice.builder_for(bob).process(bob.bundle(false)).ok());
  // Bob's account is re-registered with a new identity key: Alice must not silently accept it.
  Party bob2("bob");
  EXPECT_EQ(alice.builder_for(bob2).process(bob2.bundle(false)).code(),
            ErrorCode::kUntrustedIdentity);
  // Once Alice accepts the new key, the session can be built.
  ASSERT_TRUE(
      alice.store.identities
          .save_identity(bob2.address, bob2.store.identities.identity_key_pair()->public_key)
          .ok());
  EXPECT_TRUE(alice.builder_for(bob2).process(bob2.bundle(false)).ok());

  // On the receiving side, a PreKeySignalMessage from an unexpected identity is refused.
  Party carol("carol"), mallory("carol");
  ASSERT_TRUE(carol.builder_for(bob).process(bob.bundle(false)).ok());
  Result<CiphertextMessage> m1 = carol.cipher_for(bob).encrypt(as_bytes("1"));
  ASSERT_TRUE(m1.ok());
  ASSERT_TRUE(bob.cipher_for(carol).decrypt(m1->type, m1->bytes).ok());
  ASSERT_TRUE(mallory.builder_for(bob).process(bob.bundle(false)).ok());
  Result<CiphertextMessage> m2 = mallory.cipher_for(bob).encrypt(as_bytes("2"));
  ASSERT_TRUE(m2.ok());
  EXPECT_EQ(bob.cipher_for(mallory).decrypt(m2->type, m2->bytes).status().code(),
            ErrorCode::kUntrustedIdentity);
}

TEST(Session, DuplicatesAndOutOfOrder) {
  Party alice("alice"), bob("bob");
  ASSERT_TRUE(alice.builder_for(bob).process(bob.bundle(true)).ok());
  std::vector<CiphertextMessage> sent;
  for (int i = 0; i < 6; ++i) {
    sent.push_back(*alice.cipher_for(bob).encrypt(as_bytes("m" + std::to_string(i))));
  }
  SessionCipher bob_cipher = bob.cipher_for(alice);
  for (int i : {3, 0, 5, 1}) {
    Result<SecretBytes> p = bob_cipher.decrypt(sent[i].type, sent[i].bytes);
    ASSERT_TRUE(p.ok()) << i << " " << p.status().to_string();
    EXPECT_EQ(text(*p), "m" + std::to_string(i));
  }
  for (int i : {3, 0, 5, 1}) {
    EXPECT_EQ(bob_cipher.decrypt(sent[i].type, sent[i].bytes).status().code(),
              ErrorCode::kDuplicateMessage)
        << i;
  }
  EXPECT_EQ(text(*bob_cipher.decrypt(sent[2].type, sent[2].bytes)), "m2");
  EXPECT_EQ(text(*bob_cipher.decrypt(sent[4].type, sent[4].bytes)), "m4");
}

TEST(Session, TooManySkippedAndTamperedMessagesLeaveStateIntact) {
  Party alice("alice"), bob("bob");
  ASSERT_TRUE(alice.builder_for(bob).process(bob.bundle(false)).ok());
  ASSERT_EQ(send(alice, bob, "start").value_or(""), "start");
  ASSERT_EQ(send(bob, alice, "ack").value_or(""), "ack");

  SessionCipher alice_cipher = alice.cipher_for(bob);
  for (std::uint32_t i = 0; i < kMaxSkippedMessages + 1; ++i) {
    ASSERT_TRUE(alice_cipher.encrypt(as_bytes("x")).ok());
  }
  Result<CiphertextMessage> far = alice_cipher.encrypt(as_bytes("far"));
  ASSERT_TRUE(far.ok());
  EXPECT_EQ(bob.cipher_for(alice).decrypt(far->type, far->bytes).status().code(),
            ErrorCode::kTooManySkipped);

  // A tampered message fails its MAC and changes nothing.
  Party carol("carol"), dave("dave");
  ASSERT_TRUE(carol.builder_for(dave).process(dave.bundle(true)).ok());
  Result<CiphertextMessage> m = carol.cipher_for(dave).encrypt(as_bytes("secret"));
  ASSERT_TRUE(m.ok());
  Result<PreKeySignalMessage> pk = PreKeySignalMessage::parse(m->bytes);
  ASSERT_TRUE(pk.ok());
  Bytes inner = pk->message().serialize();
  inner[inner.size() - 12] ^= 1;  // a ciphertext byte
  Result<SignalMessage> bad_inner = SignalMessage::parse(inner);
  ASSERT_TRUE(bad_inner.ok());
  // Carol's real message still decrypts afterwards.
  Result<PreKeySignalMessage> forged =
      PreKeySignalMessage::create(pk->registration_id(), pk->pre_key_id(), pk->signed_pre_key_id(),
                                  pk->base_key(), pk->identity_key(), std::move(*bad_inner));
  ASSERT_TRUE(forged.ok());
  EXPECT_EQ(dave.cipher_for(carol).decrypt(*forged).status().code(), ErrorCode::kBadMac);
  EXPECT_TRUE(*dave.store.pre_keys.contains_pre_key(31));
  Result<SecretBytes> real = dave.cipher_for(carol).decrypt(m->type, m->bytes);
  ASSERT_TRUE(real.ok()) << real.status().to_string();
  EXPECT_EQ(text(*real), "secret");
}

TEST(Session, NoSessionErrors) {
  Party alice("alice"), bob("bob");
  EXPECT_EQ(alice.cipher_for(bob).encrypt(as_bytes("x")).status().code(), ErrorCode::kNoSession);
  Party carol("carol");
  ASSERT_TRUE(carol.builder_for(bob).process(bob.bundle(false)).ok());
  ASSERT_EQ(send(carol, bob, "a").value_or(""), "a");
  Result<CiphertextMessage> reply = bob.cipher_for(carol).encrypt(as_bytes("b"));
  ASSERT_TRUE(reply.ok());
  // Alice has no session with Bob; a SignalMessage cannot start one.
  EXPECT_EQ(alice.cipher_for(bob).decrypt(reply->type, reply->bytes).status().code(),
            ErrorCode::kNoSession);
  // A prekey message naming an unknown signed prekey fails cleanly.
  Party eve("eve");
  PreKeyBundle b = bob.bundle(false);
  b.signed_pre_key_id = 99;
  ASSERT_TRUE(eve.builder_for(bob).process(b).ok());
  Result<CiphertextMessage> m = eve.cipher_for(bob).encrypt(as_bytes("x"));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(bob.cipher_for(eve).decrypt(m->type, m->bytes).status().code(), ErrorCode::kNotFound);
}

TEST(Session, ArchivedStateStillDecryptsAndIsPromoted) {
  Party alice("alice"), bob("bob");
  ASSERT_TRUE(alice.builder_for(bob).process(bob.bundle(false)).ok());
  ASSERT_EQ(send(alice, bob, "one").value_or(""), "one");
  ASSERT_EQ(send(bob, alice, "two").value_or(""), "two");
  // Bob sends a message on the first session, then both start fresh sessions (e.g. after a
  // reinstall on Alice's side starting again with a new base key).
  Result<CiphertextMessage> old_session_msg = bob.cipher_for(alice).encrypt(as_bytes("late"));
  ASSERT_TRUE(old_session_msg.ok());
  ASSERT_TRUE(alice.builder_for(bob).process(bob.bundle(true, 32)).ok());
  ASSERT_EQ(send(alice, bob, "new session").value_or(""), "new session");
  // Alice's current state is the new one; the late message decrypts with the archived one.
  Result<SecretBytes> late =
      alice.cipher_for(bob).decrypt(old_session_msg->type, old_session_msg->bytes);
  ASSERT_TRUE(late.ok()) << late.status().to_string();
  EXPECT_EQ(text(*late), "late");
  Result<std::optional<SessionRecord>> record = alice.store.sessions.load_session(bob.address);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->previous_states().size(), 1u);
}

TEST(SessionRecord, KeepsAtMostFortyArchivedStates) {
  SessionRecord record;
  for (std::uint32_t i = 0; i < kMaxArchivedStates + 5; ++i) {
    SessionState state;
    state.root_key = SecretBytes(32);
    state.sender_chain.key = SecretBytes(32);
    state.remote_registration_id = i;
    record.promote_state(std::move(state));
  }
  ASSERT_TRUE(record.has_current_state());
  EXPECT_EQ(record.current_state()->remote_registration_id, kMaxArchivedStates + 4);
  ASSERT_EQ(record.previous_states().size(), kMaxArchivedStates);
  // Newest first; the oldest ones were dropped.
  EXPECT_EQ(record.previous_states().front().remote_registration_id, kMaxArchivedStates + 3);
  EXPECT_EQ(record.previous_states().back().remote_registration_id, 4u);
  record.promote_previous(2);
  EXPECT_EQ(record.current_state()->remote_registration_id, kMaxArchivedStates + 1);
  EXPECT_EQ(record.previous_states().front().remote_registration_id, kMaxArchivedStates + 4);
  Result<SessionRecord> back = SessionRecord::parse(record.serialize().view());
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->previous_states().size(), kMaxArchivedStates);
}

TEST(SessionRecord, RoundTripsAndRejectsGarbage) {
  Party alice("alice"), bob("bob");
  ASSERT_TRUE(alice.builder_for(bob).process(bob.bundle(true)).ok());
  ASSERT_EQ(send(alice, bob, "a").value_or(""), "a");
  ASSERT_EQ(send(bob, alice, "b").value_or(""), "b");
  // Leave some skipped keys in Bob's record.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(alice.cipher_for(bob).encrypt(as_bytes("s")).ok());
  ASSERT_EQ(send(alice, bob, "c").value_or(""), "c");

  Result<std::optional<SessionRecord>> record = bob.store.sessions.load_session(alice.address);
  ASSERT_TRUE(record.ok() && record->has_value());
  const SessionRecord& r = **record;
  ASSERT_TRUE(r.has_current_state());
  EXPECT_EQ(r.current_state()->receiver_chains.front().skipped.size(), 3u);
  SecretBytes bytes = r.serialize();
  Result<SessionRecord> back = SessionRecord::parse(bytes.view());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->serialize(), bytes);
  EXPECT_EQ(back->current_state()->remote_identity, r.current_state()->remote_identity);

  for (std::size_t n = 0; n < bytes.size(); n += 7) {
    Result<SessionRecord> cut = SessionRecord::parse(bytes.view().first(n));
    (void)cut;  // must not crash; most cuts fail
  }
  EXPECT_FALSE(SessionRecord::parse(as_bytes("garbage!")).ok());
  EXPECT_FALSE(PreKeyRecord::parse(as_bytes("\x0a\x01")).ok());
  EXPECT_FALSE(SignedPreKeyRecord::parse({}).ok());
}

}  // namespace
}  // namespace parley::crypto
