// SPDX-License-Identifier: AGPL-3.0-or-later
// LoadDevice against hand-made server frames: every request it writes must pass the server's own
// decoder (proto::decode_request with the default limits), and every signature must verify.
#include "parley_wire.h"

#include <gtest/gtest.h>

#include "parley/crypto/xeddsa.h"
#include "parley/proto/frame.h"
#include "parley/proto/pow.h"
#include "parley/proto/signed_messages.h"

namespace parley::load {
namespace {

wire::Request decode(const Bytes& frame) {
  auto decoded = proto::decode_request(frame, proto::Limits{});
  EXPECT_TRUE(decoded.status.ok()) << decoded.status.message();
  return decoded.request;
}

Bytes response(std::uint64_t id, const std::function<void(wire::Response&)>& fill = {}) {
  wire::Frame frame = proto::response_frame(id, Status());
  if (fill) fill(*frame.mutable_response());
  return proto::encode_frame(std::move(frame));
}

Bytes challenge_bytes(std::uint8_t fill) {
  return Bytes(32, fill);
}

// Drives a new device through sign-up and sign-in; returns its account id.
Bytes sign_up_and_in(LoadDevice& device, std::uint32_t difficulty_bits) {
  auto first = device.start_connection();
  EXPECT_EQ(device.phase(), LoadDevice::Phase::kRegistering);
  EXPECT_EQ(first.size(), 1u);
  const wire::Request challenge_request = decode(first[0]);
  EXPECT_TRUE(challenge_request.has_registration_challenge());

  const Bytes challenge = challenge_bytes(0xab);
  LoadDevice::Events events;
  auto create = device.on_frame(response(challenge_request.id(),
                                         [&](wire::Response& r) {
                                           auto* body = r.mutable_registration_challenge();
                                           body->set_challenge(challenge.data(), challenge.size());
                                           body->set_difficulty_bits(difficulty_bits);
                                         }),
                                events);
  EXPECT_TRUE(create.ok());
  EXPECT_EQ(create->size(), 1u);
  const wire::Request create_request = decode((*create)[0]);
  const auto& body = create_request.create_account();
  auto identity = crypto::PublicKey::parse(as_bytes(body.identity_key()));
  EXPECT_TRUE(identity.ok());
  EXPECT_TRUE(crypto::xeddsa_verify(
                  *identity,
                  proto::registration_signed_bytes(challenge, as_bytes(body.identity_key())),
                  as_bytes(body.signature()))
                  .ok());
  EXPECT_TRUE(proto::pow_is_valid(challenge, as_bytes(body.pow_nonce()), difficulty_bits));

  const Bytes account(16, 0x11);
  auto auth = device.on_frame(response(create_request.id(),
                                       [&](wire::Response& r) {
                                         r.mutable_create_account()->set_account_id(account.data(),
                                                                                    account.size());
                                         r.mutable_create_account()->set_device_id(1);
                                       }),
                              events);
  EXPECT_TRUE(auth.ok());
  EXPECT_EQ(device.account_id(), account);
  const wire::Request auth_challenge = decode((*auth)[0]);
  EXPECT_TRUE(auth_challenge.has_auth_challenge());

  const Bytes auth_bytes = challenge_bytes(0xcd);
  auto authenticate = device.on_frame(response(auth_challenge.id(),
                                               [&](wire::Response& r) {
                                                 r.mutable_auth_challenge()->set_challenge(
                                                     auth_bytes.data(), auth_bytes.size());
                                               }),
                                      events);
  EXPECT_TRUE(authenticate.ok());
  const wire::Request auth_request = decode((*authenticate)[0]);
  EXPECT_TRUE(crypto::xeddsa_verify(*identity, proto::auth_signed_bytes(auth_bytes, account, 1),
                                    as_bytes(auth_request.authenticate().signature()))
                  .ok());
  EXPECT_FALSE(events.became_ready);
  auto done = device.on_frame(response(auth_request.id()), events);
  EXPECT_TRUE(done.ok());
  EXPECT_TRUE(events.became_ready);
  EXPECT_EQ(device.phase(), LoadDevice::Phase::kReady);
  return account;
}

TEST(LoadDevice, SignsUpWithValidProofAndSignaturesThenSignsIn) {
  LoadDevice device;
  sign_up_and_in(device, 0);
}

TEST(LoadDevice, SolvesAnyProofOfWorkDifficulty) {
  LoadDevice device;
  sign_up_and_in(device, 8);
}

TEST(LoadDevice, ANewConnectionOnlySignsIn) {
  LoadDevice device;
  sign_up_and_in(device, 0);
  auto frames = device.start_connection();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(decode(frames[0]).has_auth_challenge());
  EXPECT_EQ(device.phase(), LoadDevice::Phase::kSigningIn);
}

TEST(LoadDevice, SendsCountInFlightUntilAnsweredAndRefusalsAreReported) {
  LoadDevice device;
  sign_up_and_in(device, 0);
  const Bytes recipient(16, 0x22);
  const wire::Request first = decode(device.send_message(recipient, "payload one"));
  const wire::Request second = decode(device.send_message(recipient, "payload two"));
  EXPECT_EQ(device.sends_in_flight(), 2u);
  EXPECT_EQ(first.send_message().copies(0).device_id(), 1u);
  EXPECT_EQ(first.send_message().copies(0).ciphertext(), "payload one");
  EXPECT_NE(first.send_message().client_message_id(), second.send_message().client_message_id());

  LoadDevice::Events events;
  ASSERT_TRUE(device.on_frame(response(first.id()), events).ok());
  EXPECT_EQ(events.sends_accepted, 1u);
  wire::Frame refused =
      proto::response_frame(second.id(), Status::error(ErrorCode::kQueueFull, "queue full"));
  ASSERT_TRUE(device.on_frame(proto::encode_frame(std::move(refused)), events).ok());
  EXPECT_EQ(events.sends_refused, 1u);
  EXPECT_NE(events.error.find("403"), std::string::npos);
  EXPECT_EQ(device.sends_in_flight(), 0u);
  EXPECT_EQ(device.phase(), LoadDevice::Phase::kReady);  // a refused send does not end the device
}

TEST(LoadDevice, GroupSendsAndAcksAreValidRequests) {
  LoadDevice device;
  sign_up_and_in(device, 0);
  const wire::Request group =
      decode(device.send_group_message({Bytes(16, 1), Bytes(16, 2), Bytes(16, 3)}, "ciphertext"));
  ASSERT_EQ(group.send_group_message().recipients_size(), 3);
  EXPECT_EQ(group.send_group_message().recipients(2).device_ids(0), 1u);
  const wire::Request ack = decode(device.ack({3, 4, 9}));
  ASSERT_EQ(ack.ack_messages().seqs_size(), 3);
  EXPECT_EQ(ack.ack_messages().seqs(2), 9u);
}

TEST(LoadDevice, PushesBecomeEvents) {
  LoadDevice device;
  sign_up_and_in(device, 0);
  wire::Push push;
  push.mutable_message()->set_seq(7);
  push.mutable_message()->set_ciphertext("hello");
  LoadDevice::Events events;
  ASSERT_TRUE(device.on_frame(proto::encode_frame(proto::push_frame(push)), events).ok());
  wire::Push empty;
  empty.mutable_queue_empty();
  ASSERT_TRUE(device.on_frame(proto::encode_frame(proto::push_frame(empty)), events).ok());
  ASSERT_EQ(events.received.size(), 1u);
  EXPECT_EQ(events.received[0].seq, 7u);
  EXPECT_EQ(events.received[0].ciphertext, "hello");
  EXPECT_TRUE(events.queue_empty);
}

TEST(LoadDevice, GarbageOrAnUnaskedResponseFailsTheDevice) {
  LoadDevice garbage;
  garbage.start_connection();
  LoadDevice::Events events;
  EXPECT_FALSE(garbage.on_frame(Bytes{0xff, 0x00, 0x13}, events).ok());
  EXPECT_EQ(garbage.phase(), LoadDevice::Phase::kFailed);

  LoadDevice unasked;
  unasked.start_connection();
  EXPECT_FALSE(unasked.on_frame(response(999), events).ok());
  EXPECT_EQ(unasked.phase(), LoadDevice::Phase::kFailed);
}

TEST(LoadDevice, ARefusedSignUpFailsTheDeviceWithTheReason) {
  LoadDevice device;
  const wire::Request first = decode(device.start_connection()[0]);
  LoadDevice::Events events;
  wire::Frame refused =
      proto::response_frame(first.id(), Status::error(ErrorCode::kRateLimited, "slow down"));
  ASSERT_TRUE(device.on_frame(proto::encode_frame(std::move(refused)), events).ok());
  EXPECT_EQ(device.phase(), LoadDevice::Phase::kFailed);
  EXPECT_NE(events.error.find("502"), std::string::npos);
}

}  // namespace
}  // namespace parley::load
