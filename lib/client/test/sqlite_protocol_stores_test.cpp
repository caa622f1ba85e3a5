// SPDX-License-Identifier: AGPL-3.0-or-later
// The Signal protocol stores over the local database: conformance with the interfaces, and whole
// conversations (pairwise and group) between two devices whose state lives only in LocalStore
// files, across closing and reopening them.
#include <gtest/gtest.h>

#include <string>

#include "parley/client/local_store.h"
#include "parley/crypto/group_cipher.h"
#include "parley/crypto/group_session_builder.h"
#include "parley/crypto/keys.h"
#include "parley/crypto/prekeys.h"
#include "parley/crypto/random.h"
#include "parley/crypto/session_builder.h"
#include "parley/crypto/session_cipher.h"
#include "parley/util/encoding.h"
#include "temp_home.h"

namespace parley::client {
namespace {

using crypto::ProtocolAddress;
using testing::random_key;
using testing::TempHome;

// One device with its own database file.
class Device {
 public:
  Device(const TempHome& home, const std::string& name)
      : file_(home / (name + ".db")), key_(random_key()) {
    reopen();
    AccountRecord account;
    account.account_id = crypto::random_bytes(16);
    account.device_id = 1;
    crypto::KeyPair pair = crypto::KeyPair::generate();
    account.identity_key = pair.public_key.serialize();
    account.device_private_key = pair.private_key.serialize().clone();
    account.device_public_key = pair.public_key.serialize();
    account.registration_id = crypto::generate_registration_id();
    account.username = name;
    EXPECT_TRUE(store_->save_account(account).ok());
    address_ = {hex_encode(account.account_id), 1};
    public_key_ = pair.public_key;
  }

  void reopen() {
    store_.reset();
    Result<std::unique_ptr<LocalStore>> opened = LocalStore::open(file_, key_);
    ASSERT_TRUE(opened.ok()) << opened.status().to_string();
    store_ = std::move(opened).value();
  }

  // A bundle as the server would hand it out, with the private halves kept in this store.
  crypto::PreKeyBundle publish(std::uint32_t pre_key_id, std::uint32_t signed_id) {
    crypto::KeyPair identity = store_->identities().identity_key_pair().value();
    crypto::SignedPreKeyRecord signed_pre_key =
        crypto::SignedPreKeyRecord::generate(signed_id, identity.private_key, 0);
    EXPECT_TRUE(store_->signed_pre_keys().store_signed_pre_key(signed_pre_key).ok());
    crypto::PreKeyRecord pre_key = crypto::PreKeyRecord::generate(pre_key_id);
    EXPECT_TRUE(store_->pre_keys().store_pre_key(pre_key).ok());
    crypto::PreKeyBundle bundle;
    bundle.registration_id = store_->identities().local_registration_id().value();
    bundle.device_id = address_.device_id;
    bundle.pre_key_id = pre_key.id;
    bundle.pre_key = pre_key.key_pair.public_key;
    bundle.signed_pre_key_id = signed_pre_key.id;
    bundle.signed_pre_key = signed_pre_key.key_pair.public_key;
    bundle.signed_pre_key_signature = signed_pre_key.signature;
    bundle.identity_key = identity.public_key;
    return bundle;
  }

  crypto::SessionCipher cipher_for(const Device& other) {
    return crypto::SessionCipher(store_->protocol_stores(), other.address_);
  }

  LocalStore& store() { return *store_; }
  const ProtocolAddress& address() const { return address_; }
  const crypto::PublicKey& public_key() const { return public_key_; }

 private:
  std::filesystem::path file_;
  SecretBytes key_;
  std::unique_ptr<LocalStore> store_;
  ProtocolAddress address_;
  crypto::PublicKey public_key_;
};

Result<std::string> send(Device& from, Device& to, std::string_view text) {
  PARLEY_ASSIGN_OR_RETURN(crypto::CiphertextMessage c, from.cipher_for(to).encrypt(as_bytes(text)));
  PARLEY_ASSIGN_OR_RETURN(SecretBytes plain, to.cipher_for(from).decrypt(c.type, c.bytes));
  return std::string(as_string_view(plain.view()));
}

class ProtocolStoresTest : public ::testing::Test {
 protected:
  TempHome home_;
};

TEST_F(ProtocolStoresTest, PreKeys) {
  Device d(home_, "alice");
  crypto::PreKeyStore& store = d.store().pre_keys();
  EXPECT_EQ(store.load_pre_key(5).status().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(store.contains_pre_key(5).value());
  EXPECT_EQ(d.store().pre_key_count().value(), 0u);
  crypto::PreKeyRecord five = crypto::PreKeyRecord::generate(5);
  ASSERT_TRUE(store.store_pre_key(five).ok());
  ASSERT_TRUE(store.store_pre_key(crypto::PreKeyRecord::generate(0xffffffff)).ok());
  EXPECT_EQ(d.store().pre_key_count().value(), 2u);
  d.reopen();
  crypto::PreKeyStore& again = d.store().pre_keys();
  Result<crypto::PreKeyRecord> back = again.load_pre_key(5);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->id, 5u);
  EXPECT_EQ(back->key_pair.public_key, five.key_pair.public_key);
  EXPECT_TRUE(back->key_pair.private_key.serialize() == five.key_pair.private_key.serialize());
  EXPECT_TRUE(again.contains_pre_key(0xffffffff).value());
  ASSERT_TRUE(again.remove_pre_key(5).ok());
  EXPECT_FALSE(again.contains_pre_key(5).value());
  EXPECT_EQ(again.load_pre_key(5).status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(again.remove_pre_key(5).ok());
  EXPECT_EQ(d.store().pre_key_count().value(), 1u);
}

TEST_F(ProtocolStoresTest, SignedPreKeys) {
  Device d(home_, "alice");
  crypto::SignedPreKeyStore& store = d.store().signed_pre_keys();
  EXPECT_EQ(store.load_signed_pre_key(1).status().code(), ErrorCode::kNotFound);
  crypto::KeyPair identity = d.store().identities().identity_key_pair().value();
  crypto::SignedPreKeyRecord one =
      crypto::SignedPreKeyRecord::generate(1, identity.private_key, 1234567);
  ASSERT_TRUE(store.store_signed_pre_key(one).ok());
  d.reopen();
  crypto::SignedPreKeyStore& again = d.store().signed_pre_keys();
  Result<crypto::SignedPreKeyRecord> back = again.load_signed_pre_key(1);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->key_pair.public_key, one.key_pair.public_key);
  EXPECT_EQ(back->signature, one.signature);
  EXPECT_EQ(back->timestamp_ms, 1234567u);
  EXPECT_TRUE(again.contains_signed_pre_key(1).value());
  EXPECT_FALSE(again.contains_signed_pre_key(2).value());
  ASSERT_TRUE(again.remove_signed_pre_key(1).ok());
  EXPECT_FALSE(again.contains_signed_pre_key(1).value());
}

TEST_F(ProtocolStoresTest, IdentitiesAndTrust) {
  TempHome other;
  Result<std::unique_ptr<LocalStore>> empty = LocalStore::open(other / "x.db", random_key());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ((*empty)->identities().identity_key_pair().status().code(), ErrorCode::kNotInitialized);
  EXPECT_EQ((*empty)->identities().local_registration_id().status().code(),
            ErrorCode::kNotInitialized);

  Device d(home_, "alice");
  crypto::IdentityKeyStore& ids = d.store().identities();
  crypto::KeyPair mine = ids.identity_key_pair().value();
  EXPECT_EQ(mine.public_key, d.public_key());
  EXPECT_EQ(mine.private_key.public_key(), d.public_key());
  EXPECT_EQ(ids.local_registration_id().value(), d.store().account().value()->registration_id);

  ProtocolAddress bob{"0123456789abcdef0123456789abcdef", 2};
  crypto::PublicKey k1 = crypto::KeyPair::generate().public_key;
  crypto::PublicKey k2 = crypto::KeyPair::generate().public_key;
  EXPECT_FALSE(ids.identity(bob).value().has_value());
  // Nothing saved: any key is acceptable (the client core checks device lists).
  EXPECT_TRUE(ids.is_trusted_identity(bob, k1, crypto::Direction::kSending).value());
  ASSERT_TRUE(ids.save_identity(bob, k1).ok());
  EXPECT_EQ(ids.identity(bob).value(), std::optional<crypto::PublicKey>(k1));
  EXPECT_TRUE(ids.is_trusted_identity(bob, k1, crypto::Direction::kReceiving).value());
  EXPECT_FALSE(ids.is_trusted_identity(bob, k2, crypto::Direction::kSending).value());
  EXPECT_FALSE(ids.is_trusted_identity(bob, k2, crypto::Direction::kReceiving).value());
  // Another device of the same account is separate.
  EXPECT_TRUE(ids.is_trusted_identity({bob.name, 3}, k2, crypto::Direction::kSending).value());
  ASSERT_TRUE(ids.save_identity(bob, k2).ok());
  d.reopen();
  crypto::IdentityKeyStore& again = d.store().identities();
  EXPECT_EQ(again.identity(bob).value(), std::optional<crypto::PublicKey>(k2));
  EXPECT_FALSE(again.is_trusted_identity(bob, k1, crypto::Direction::kSending).value());
}

TEST_F(ProtocolStoresTest, SessionsAndDeviceIds) {
  Device alice(home_, "alice");
  Device bob(home_, "bob");
  crypto::SessionStore& sessions = alice.store().sessions();
  const std::string peer = bob.address().name;
  EXPECT_FALSE(sessions.load_session(bob.address()).value().has_value());
  EXPECT_FALSE(sessions.contains_session(bob.address()).value());

  // A real session with bob's device 1, then its record copied to devices 7 and 3.
  ASSERT_TRUE(crypto::SessionBuilder(alice.store().protocol_stores(), bob.address())
                  .process(bob.publish(1, 1))
                  .ok());
  EXPECT_TRUE(sessions.contains_session(bob.address()).value());
  crypto::SessionRecord record = sessions.load_session(bob.address()).value().value();
  ASSERT_TRUE(sessions.store_session({peer, 7}, record).ok());
  ASSERT_TRUE(sessions.store_session({peer, 3}, record).ok());
  ASSERT_TRUE(sessions.store_session({"ffffffffffffffffffffffffffffffff", 2}, record).ok());
  // A record without a current state is stored but is not a usable session.
  ASSERT_TRUE(sessions.store_session({peer, 9}, crypto::SessionRecord()).ok());
  EXPECT_FALSE(sessions.contains_session({peer, 9}).value());

  alice.reopen();
  crypto::SessionStore& again = alice.store().sessions();
  EXPECT_EQ(again.device_ids(peer).value(), (std::vector<std::uint32_t>{1, 3, 7, 9}));
  EXPECT_EQ(again.device_ids("nobody").value(), std::vector<std::uint32_t>{});
  std::optional<crypto::SessionRecord> back = again.load_session({peer, 7}).value();
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->serialize() == record.serialize());

  ASSERT_TRUE(again.delete_session({peer, 3}).ok());
  EXPECT_EQ(again.device_ids(peer).value(), (std::vector<std::uint32_t>{1, 7, 9}));
  // Forgetting an account drops its sessions and saved identities, and nobody else's.
  ASSERT_TRUE(alice.store().identities().save_identity({peer, 7}, bob.public_key()).ok());
  ASSERT_TRUE(alice.store().delete_sessions_of(peer).ok());
  EXPECT_EQ(again.device_ids(peer).value(), std::vector<std::uint32_t>{});
  EXPECT_FALSE(alice.store().identities().identity({peer, 1}).value().has_value());
  EXPECT_FALSE(alice.store().identities().identity({peer, 7}).value().has_value());
  EXPECT_EQ(again.device_ids("ffffffffffffffffffffffffffffffff").value(),
            std::vector<std::uint32_t>{2});
}

TEST_F(ProtocolStoresTest, ConversationSurvivesReopening) {
  Device alice(home_, "alice");
  Device bob(home_, "bob");
  crypto::PreKeyBundle bundle = bob.publish(31, 1);
  ASSERT_TRUE(
      crypto::SessionBuilder(alice.store().protocol_stores(), bob.address()).process(bundle).ok());

  Result<crypto::CiphertextMessage> first = alice.cipher_for(bob).encrypt(as_bytes("hello bob"));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->type, crypto::MessageType::kPreKey);
  Result<SecretBytes> got = bob.cipher_for(alice).decrypt(first->type, first->bytes);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(as_string_view(got->view()), "hello bob");
  // The one-time prekey was consumed from bob's database; both sides pinned each other.
  EXPECT_FALSE(bob.store().pre_keys().contains_pre_key(31).value());
  EXPECT_EQ(bob.store().identities().identity(alice.address()).value(),
            std::optional<crypto::PublicKey>(alice.public_key()));
  EXPECT_EQ(alice.store().identities().identity(bob.address()).value(),
            std::optional<crypto::PublicKey>(bob.public_key()));

  EXPECT_EQ(send(bob, alice, "hi alice").value_or("error"), "hi alice");

  // Everything the ratchet needs is on disk: close both databases and go on.
  alice.reopen();
  bob.reopen();
  Result<crypto::CiphertextMessage> next = alice.cipher_for(bob).encrypt(as_bytes("still here"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->type, crypto::MessageType::kSignal);
  got = bob.cipher_for(alice).decrypt(next->type, next->bytes);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(as_string_view(got->view()), "still here");

  // Out of order across a reopen: skipped message keys are persisted too.
  Result<crypto::CiphertextMessage> m1 = bob.cipher_for(alice).encrypt(as_bytes("one"));
  Result<crypto::CiphertextMessage> m2 = bob.cipher_for(alice).encrypt(as_bytes("two"));
  ASSERT_TRUE(m1.ok() && m2.ok());
  got = alice.cipher_for(bob).decrypt(m2->type, m2->bytes);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(as_string_view(got->view()), "two");
  alice.reopen();
  got = alice.cipher_for(bob).decrypt(m1->type, m1->bytes);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(as_string_view(got->view()), "one");
  // Replays are refused after a reopen as before it.
  EXPECT_FALSE(alice.cipher_for(bob).decrypt(m1->type, m1->bytes).ok());

  for (int i = 0; i < 8; ++i) {
    std::string text = "ping " + std::to_string(i);
    EXPECT_EQ(send(i % 2 ? alice : bob, i % 2 ? bob : alice, text).value_or("error"), text);
    if (i == 4) bob.reopen();
  }
}

TEST_F(ProtocolStoresTest, GroupSenderKeysSurviveReopening) {
  Device alice(home_, "alice");
  Device bob(home_, "bob");
  crypto::SenderKeyName name{"group-1", alice.address()};
  EXPECT_FALSE(alice.store().sender_keys().load_sender_key(name).value().has_value());

  Result<crypto::SenderKeyDistributionMessage> distribution =
      crypto::GroupSessionBuilder(alice.store().sender_keys()).create(name);
  ASSERT_TRUE(distribution.ok());
  ASSERT_TRUE(
      crypto::GroupSessionBuilder(bob.store().sender_keys()).process(name, *distribution).ok());
  alice.reopen();
  bob.reopen();
  std::optional<crypto::SenderKeyRecord> record =
      alice.store().sender_keys().load_sender_key(name).value();
  ASSERT_TRUE(record.has_value());
  EXPECT_FALSE(record->empty());
  EXPECT_FALSE(
      bob.store().sender_keys().load_sender_key({"group-2", alice.address()}).value().has_value());

  for (int i = 0; i < 3; ++i) {
    std::string text = "to the group " + std::to_string(i);
    Result<crypto::SenderKeyMessage> sent =
        crypto::GroupCipher(alice.store().sender_keys(), name).encrypt(as_bytes(text));
    ASSERT_TRUE(sent.ok());
    Result<SecretBytes> got =
        crypto::GroupCipher(bob.store().sender_keys(), name).decrypt(sent->serialize());
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    EXPECT_EQ(as_string_view(got->view()), text);
    bob.reopen();
  }
}

}  // namespace
}  // namespace parley::client
