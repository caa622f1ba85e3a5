// SPDX-License-Identifier: AGPL-3.0-or-later
// Sign-up with proof of work, usernames, device authentication, account deletion.
#include <gtest/gtest.h>

#include "parley/crypto/xeddsa.h"
#include "parley/proto/pow.h"
#include "parley/proto/signed_messages.h"
#include "test_harness.h"

namespace parley::server::testing {
namespace {

wire::Request registration_challenge() {
  wire::Request r;
  r.mutable_registration_challenge();
  return r;
}

// A create_account request for `identity` answering `challenge` with `nonce`.
wire::Request create_request(const Identity& identity, const std::string& challenge,
                             const Bytes& nonce) {
  Bytes key = identity.key.public_key.serialize();
  wire::Request r;
  auto* create = r.mutable_create_account();
  create->set_identity_key(std::string(as_string_view(key)));
  create->set_challenge(challenge);
  create->set_pow_nonce(std::string(as_string_view(nonce)));
  Bytes sig = crypto::xeddsa_sign(identity.key.private_key,
                                  proto::registration_signed_bytes(as_bytes(challenge), key));
  create->set_signature(std::string(as_string_view(sig)));
  return r;
}

// A nonce that does NOT meet `bits` for this challenge.
Bytes failing_nonce(const std::string& challenge, std::uint32_t bits) {
  Bytes nonce(8, 0);
  for (std::uint8_t i = 0;; ++i) {
    nonce[7] = i;
    if (!proto::pow_is_valid(as_bytes(challenge), nonce, bits)) return nonce;
  }
}

class AccountTest : public ::testing::Test, public CoreFixture {
 protected:
  AccountTest()
      : CoreFixture([] {
          auto c = test_config();
          c.pow_difficulty_bits = 12;
          return c;
        }()) {}
};

TEST_F(AccountTest, ProofOfWorkIsRequired) {
  Client client(*core);
  Identity id;
  // No challenge asked for on this connection.
  wire::Response response = client.call(create_request(id, std::string(32, 'x'), Bytes(8, 0)));
  EXPECT_EQ(status_of(response), ErrorCode::kChallengeInvalid);
  EXPECT_FALSE(client.sink().close_reason().has_value());  // a plain error, not a close
}

TEST_F(AccountTest, InsufficientProofOfWorkIsRejectedAndTheChallengeIsSpent) {
  Client client(*core);
  Identity id;
  wire::Response challenge = client.call(registration_challenge());
  ASSERT_EQ(status_of(challenge), ErrorCode::kOk);
  EXPECT_EQ(challenge.registration_challenge().difficulty_bits(), 12u);
  const std::string& c = challenge.registration_challenge().challenge();
  EXPECT_EQ(status_of(client.call(create_request(id, c, failing_nonce(c, 12)))),
            ErrorCode::kBadProofOfWork);
  // Single use: even a correct proof for the same challenge is refused now.
  EXPECT_EQ(status_of(client.call(create_request(id, c, proto::pow_solve(as_bytes(c), 12)))),
            ErrorCode::kChallengeInvalid);
}

TEST_F(AccountTest, ValidProofOfWorkCreatesTheAccountWithItsPrimaryDevice) {
  Client client(*core);
  Identity id;
  wire::Response response = client.register_account(id);
  ASSERT_EQ(status_of(response), ErrorCode::kOk) << response.message();
  EXPECT_EQ(response.create_account().device_id(), 1u);
  auto account = store.get_account(id.account);
  ASSERT_TRUE(account.ok());
  EXPECT_EQ(account->identity_key, id.key.public_key.serialize());
  auto devices = store.list_devices(id.account);
  ASSERT_TRUE(devices.ok());
  ASSERT_EQ(devices->size(), 1u);
  EXPECT_EQ((*devices)[0].registration_id, 1234u);
}

TEST_F(AccountTest, ExpiredRegistrationChallengeIsRefused) {
  Client client(*core);
  Identity id;
  wire::Response challenge = client.call(registration_challenge());
  const std::string& c = challenge.registration_challenge().challenge();
  clock.advance(std::chrono::seconds(301));
  EXPECT_EQ(status_of(client.call(create_request(id, c, proto::pow_solve(as_bytes(c), 12)))),
            ErrorCode::kChallengeInvalid);
}

TEST_F(AccountTest, SignUpSignatureMustMatchTheIdentityKey) {
  Client client(*core);
  Identity id, other;
  wire::Response challenge = client.call(registration_challenge());
  const std::string& c = challenge.registration_challenge().challenge();
  wire::Request r = create_request(id, c, proto::pow_solve(as_bytes(c), 12));
  Bytes other_key = other.key.public_key.serialize();
  r.mutable_create_account()->set_identity_key(std::string(as_string_view(other_key)));
  EXPECT_EQ(status_of(client.call(r)), ErrorCode::kBadSignature);
}

TEST_F(AccountTest, AnIdentityKeyRegistersOnce) {
  Client a(*core), b(*core);
  Identity id;
  ASSERT_EQ(status_of(a.register_account(id)), ErrorCode::kOk);
  Identity again;
  again.key = id.key.clone();
  EXPECT_EQ(status_of(b.register_account(again)), ErrorCode::kAlreadyExists);
}

TEST_F(AccountTest, UsernameIsNormalizedUniqueAndFoundByLookup) {
  Client alice(*core), bob(*core);
  Identity a, b;
  alice.sign_up_and_in(a, "Alice.Example");
  EXPECT_EQ(store.get_account(a.account)->username, std::optional<std::string>("alice.example"));
  // Taken in any case.
  EXPECT_EQ(status_of(bob.register_account(b, "ALICE.example")), ErrorCode::kAlreadyExists);
  // Invalid names are refused with their own code.
  Identity c;
  Client carol(*core);
  wire::Response bad = carol.register_account(c, "no spaces");
  EXPECT_EQ(status_of(bad), ErrorCode::kInvalidUsername);
  EXPECT_NE(bad.message().find("a-z"), std::string::npos);

  bob.sign_up_and_in(b);
  wire::Request lookup;
  lookup.mutable_lookup_username()->set_username("ALICE.EXAMPLE");
  wire::Response found = bob.call(lookup);
  ASSERT_EQ(status_of(found), ErrorCode::kOk);
  EXPECT_EQ(account_from(found.lookup_username().account_id()), a.account);
  EXPECT_EQ(found.lookup_username().identity_key(),
            std::string(as_string_view(a.key.public_key.serialize())));
  lookup.mutable_lookup_username()->set_username("nobody");
  EXPECT_EQ(status_of(bob.call(lookup)), ErrorCode::kNotFound);
  lookup.mutable_lookup_username()->set_username("x");
  EXPECT_EQ(status_of(bob.call(lookup)), ErrorCode::kInvalidUsername);
}

TEST_F(AccountTest, SetUsernameChangesAndReleasesTheName) {
  Client alice(*core), bob(*core);
  Identity a, b;
  alice.sign_up_and_in(a, "first");
  bob.sign_up_and_in(b);
  wire::Request set;
  set.mutable_set_username()->set_username("Second");
  wire::Response r = alice.call(set);
  ASSERT_EQ(status_of(r), ErrorCode::kOk);
  EXPECT_EQ(r.set_username().username(), "second");
  set.mutable_set_username()->set_username("first");  // released by alice
  EXPECT_EQ(status_of(bob.call(set)), ErrorCode::kOk);
  set.mutable_set_username()->set_username("second");
  EXPECT_EQ(status_of(bob.call(set)), ErrorCode::kAlreadyExists);
}

TEST_F(AccountTest, AuthenticationWithAGoodSignature) {
  Client client(*core);
  Identity id;
  ASSERT_EQ(status_of(client.register_account(id)), ErrorCode::kOk);
  wire::Response authed = client.authenticate(id);
  EXPECT_EQ(status_of(authed), ErrorCode::kOk) << authed.message();
  EXPECT_TRUE(client.wait_for_queue_empty());
  EXPECT_EQ(metrics.value("parley_authenticated_connections"), 1);
}

TEST_F(AccountTest, AuthenticationWithABadSignatureFails) {
  Client setup(*core), client(*core);
  Identity id;
  ASSERT_EQ(status_of(setup.register_account(id)), ErrorCode::kOk);
  Identity impostor;  // claims id's device, holds another key
  impostor.account = id.account;
  impostor.device = id.device;
  EXPECT_EQ(status_of(client.authenticate(impostor)), ErrorCode::kBadSignature);
  wire::Request ping;
  ping.mutable_get_devices()->set_account_id(account_bytes(id.account));
  EXPECT_EQ(status_of(client.call(ping)), ErrorCode::kUnauthenticated);
}

TEST_F(AccountTest, AuthChallengeCannotBeReplayed) {
  Client setup(*core), client(*core);
  Identity id;
  ASSERT_EQ(status_of(setup.register_account(id)), ErrorCode::kOk);
  wire::Request challenge_request;
  challenge_request.mutable_auth_challenge();
  std::string c = client.call(challenge_request).auth_challenge().challenge();
  std::string account = account_bytes(id.account);
  wire::Request auth;
  auth.mutable_authenticate()->set_account_id(account);
  auth.mutable_authenticate()->set_device_id(1);
  auth.mutable_authenticate()->set_challenge(c);
  Bytes sig = crypto::xeddsa_sign(id.key.private_key,
                                  proto::auth_signed_bytes(as_bytes(c), as_bytes(account), 1));
  auth.mutable_authenticate()->set_signature(std::string(as_string_view(sig)));
  ASSERT_EQ(status_of(client.call(auth)), ErrorCode::kOk);
  // The same signed challenge on another connection: refused (it was issued to the first one
  // and is spent).
  Client replay(*core);
  EXPECT_EQ(status_of(replay.call(auth)), ErrorCode::kChallengeInvalid);
  // And on a connection that asked for its own challenge, the old one does not match.
  Client replay2(*core);
  ASSERT_EQ(status_of(replay2.call(challenge_request)), ErrorCode::kOk);
  EXPECT_EQ(status_of(replay2.call(auth)), ErrorCode::kChallengeInvalid);
}

TEST_F(AccountTest, ExpiredAuthChallengeIsRefused) {
  Client setup(*core), client(*core);
  Identity id;
  ASSERT_EQ(status_of(setup.register_account(id)), ErrorCode::kOk);
  wire::Request challenge_request;
  challenge_request.mutable_auth_challenge();
  std::string c = client.call(challenge_request).auth_challenge().challenge();
  clock.advance(std::chrono::seconds(61));
  std::string account = account_bytes(id.account);
  wire::Request auth;
  auth.mutable_authenticate()->set_account_id(account);
  auth.mutable_authenticate()->set_device_id(1);
  auth.mutable_authenticate()->set_challenge(c);
  Bytes sig = crypto::xeddsa_sign(id.key.private_key,
                                  proto::auth_signed_bytes(as_bytes(c), as_bytes(account), 1));
  auth.mutable_authenticate()->set_signature(std::string(as_string_view(sig)));
  EXPECT_EQ(status_of(client.call(auth)), ErrorCode::kChallengeInvalid);
}

TEST_F(AccountTest, UnauthenticatedRequestsAreRejected) {
  Client client(*core);
  std::vector<wire::Request> requests(7);
  requests[0].mutable_send_message()->set_recipient_account_id(std::string(16, 'a'));
  requests[0].mutable_send_message()->set_client_message_id("message-1");
  auto* copy = requests[0].mutable_send_message()->add_copies();
  copy->set_device_id(1);
  copy->set_ciphertext("c");
  requests[1].mutable_ack_messages()->add_seqs(1);
  requests[2].mutable_upload_prekeys();
  requests[3].mutable_get_prekey_bundle()->set_account_id(std::string(16, 'a'));
  requests[4].mutable_create_link_code();
  requests[5].mutable_delete_account();
  requests[6].mutable_set_device_list()->set_signed_device_list("list");
  for (auto& request : requests) {
    EXPECT_EQ(status_of(client.call(request)), ErrorCode::kUnauthenticated)
        << proto::request_type_name(request);
  }
  EXPECT_FALSE(client.sink().close_reason().has_value());
  EXPECT_EQ(metrics.value("parley_errors_total", "code=\"107\""), 7);
}

TEST_F(AccountTest, DeleteAccountRemovesEverything) {
  Client alice(*core), bob(*core);
  Identity a, b;
  alice.sign_up_and_in(a, "alice");
  bob.sign_up_and_in(b);
  ASSERT_EQ(status_of(alice.upload_prekeys(a, 1, 5)), ErrorCode::kOk);
  alice.close();  // offline, so bob's message waits in the mailbox
  ASSERT_EQ(status_of(bob.send_message(a.account, {1}, "message-1", "hi")), ErrorCode::kOk);
  ASSERT_EQ(store.count_messages({a.account, 1}).value(), 1u);

  Client again(*core);
  ASSERT_EQ(status_of(again.authenticate(a)), ErrorCode::kOk);
  wire::Request del;
  del.mutable_delete_account();
  ASSERT_EQ(status_of(again.call(del)), ErrorCode::kOk);
  EXPECT_EQ(again.sink().close_reason(), ErrorCode::kConnectionClosed);

  EXPECT_EQ(store.get_account(a.account).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store.find_account_by_username("alice").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store.find_account_by_identity_key(a.key.public_key.serialize()).status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(store.get_device({a.account, 1}).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store.count_messages({a.account, 1}).value(), 0u);
  // The username and key are free again.
  Identity reuse;
  reuse.key = a.key.clone();
  Client fresh(*core);
  EXPECT_EQ(status_of(fresh.register_account(reuse, "alice")), ErrorCode::kOk);
}

TEST_F(AccountTest, OnlyThePrimaryDeviceDeletesTheAccount) {
  Client primary(*core), secondary(*core);
  Identity a, second;
  primary.sign_up_and_in(a);
  wire::Request code;
  code.mutable_create_link_code();
  std::string link = primary.call(code).create_link_code().code();
  ASSERT_EQ(status_of(secondary.link_device(second, link)), ErrorCode::kOk);
  ASSERT_EQ(status_of(secondary.authenticate(second)), ErrorCode::kOk);
  wire::Request del;
  del.mutable_delete_account();
  EXPECT_EQ(status_of(secondary.call(del)), ErrorCode::kPermissionDenied);
  EXPECT_TRUE(store.get_account(a.account).ok());
  // Deleting from the primary closes the other device's connection too.
  ASSERT_EQ(status_of(primary.call(del)), ErrorCode::kOk);
  EXPECT_EQ(secondary.sink().close_reason(), ErrorCode::kConnectionClosed);
}

TEST_F(AccountTest, NewerConnectionOfTheSameDeviceReplacesTheOlder) {
  Client first(*core), second(*core);
  Identity a;
  first.sign_up_and_in(a);
  ASSERT_EQ(status_of(second.authenticate(a)), ErrorCode::kOk);
  EXPECT_EQ(first.sink().close_reason(), ErrorCode::kConnectionClosed);
  EXPECT_FALSE(second.sink().close_reason().has_value());
  EXPECT_EQ(metrics.value("parley_authenticated_connections"), 1);
}

TEST(AccountPowOff, DifficultyZeroAcceptsAnyNonce) {
  auto config = CoreFixture::test_config();
  config.pow_difficulty_bits = 0;
  CoreFixture f(config);
  Client client(*f.core);
  Identity id;
  wire::Request r;
  r.mutable_registration_challenge();
  std::string c = client.call(r).registration_challenge().challenge();
  EXPECT_EQ(status_of(client.call(create_request(id, c, Bytes{}))), ErrorCode::kOk);
}

TEST(AccountPowDefault, ProductionDefaultIsTwentyBits) {
  EXPECT_EQ(ServerCoreConfig{}.pow_difficulty_bits, 20u);
  EXPECT_EQ(ServerCoreConfig{}.max_devices_per_account, 6u);
}

}  // namespace
}  // namespace parley::server::testing
