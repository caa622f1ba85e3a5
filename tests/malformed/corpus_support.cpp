// SPDX-License-Identifier: AGPL-3.0-or-later
#include <gtest/gtest.h>

#include <atomic>

#include "corpus.h"
#include "parley/crypto/random.h"
#include "parley/crypto/xeddsa.h"
#include "parley/proto/pow.h"
#include "parley/proto/signed_messages.h"

namespace parley::testing {

ProtoClient& CaseContext::open() {
  helpers.push_back(std::make_unique<ProtoClient>(world.port));
  Status connected = helpers.back()->connect();
  EXPECT_TRUE(connected.ok()) << connected.to_string();
  return *helpers.back();
}

ProtoClient& CaseContext::open_signed_in(TestAccount* account) {
  ProtoClient& c = open();
  auto registered = c.register_account();
  EXPECT_TRUE(registered.ok()) << registered.status().to_string();
  if (!registered.ok()) return c;
  *account = std::move(*registered);
  auto auth = c.authenticate(*account);
  EXPECT_TRUE(auth.ok()) << auth.status().to_string();
  return c;
}

Bytes frame_of(wire::Request request) {
  if (request.id() == 0) request.set_id(77);
  return proto::encode_frame(proto::request_frame(std::move(request)));
}

wire::Request valid_create_account(const CaseContext& ctx, const crypto::KeyPair& identity) {
  Bytes key = identity.public_key.serialize();
  Bytes nonce = proto::pow_solve(as_bytes(ctx.challenge), ctx.difficulty);
  wire::Request r;
  auto* body = r.mutable_create_account();
  body->set_identity_key(str(key));
  body->set_registration_id(4321);
  body->set_challenge(ctx.challenge);
  body->set_pow_nonce(str(nonce));
  body->set_signature(str(crypto::xeddsa_sign(
      identity.private_key, proto::registration_signed_bytes(as_bytes(ctx.challenge), key))));
  return r;
}

std::string str(ByteView bytes) {
  return std::string(as_string_view(bytes));
}

std::string filler(std::size_t size, char c) {
  return std::string(size, c);
}

std::string random_field(std::size_t size) {
  return str(crypto::random_bytes(size));
}

std::string unique_username(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + std::to_string(counter.fetch_add(1));
}

}  // namespace parley::testing
