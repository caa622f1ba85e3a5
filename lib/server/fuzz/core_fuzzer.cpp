// SPDX-License-Identifier: AGPL-3.0-or-later
// libFuzzer target: the whole request path of ServerCore (inline workers, MemoryStore, no
// sockets). Each input is a sequence of frames `[connection:1][length:2 big-endian][bytes]`,
// delivered to one of two connections: 0 is signed in as a fixed account (so authenticated
// handlers are reachable), 1 is fresh. Every frame the server sends must be a valid server frame.
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "parley/crypto/keys.h"
#include "parley/crypto/xeddsa.h"
#include "parley/proto/frame.h"
#include "parley/proto/signed_messages.h"
#include "parley/server/server_core.h"
#include "parley/store/memory_blob_store.h"
#include "parley/store/memory_store.h"

namespace {

using namespace parley;

class CheckingSink final : public server::ConnectionSink {
 public:
  bool send(std::shared_ptr<const Bytes> frame) override {
    auto decoded = proto::decode_server_frame(*frame, proto::Limits{});
    if (!decoded.ok()) std::abort();
    if (decoded->has_response()) last = decoded->response();
    return !closed;
  }
  void close(ErrorCode) override { closed = true; }
  wire::Response last;
  bool closed = false;
};

wire::Response call(server::ConnectionHandler& handler, CheckingSink& sink, wire::Request r) {
  handler.on_frame(proto::encode_frame(proto::request_frame(std::move(r))));
  return sink.last;
}

std::string str(ByteView b) {
  return std::string(as_string_view(b));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const crypto::KeyPair identity = crypto::KeyPair::generate();
  FakeClock clock;
  store::MemoryStore store;
  store::MemoryBlobStore blobs;
  server::Metrics metrics;
  server::ServerCoreConfig config;
  config.pow_difficulty_bits = 0;
  config.worker_threads = 0;
  config.maintenance_interval = std::chrono::seconds(0);
  server::ServerCore core(store, blobs, clock, metrics, config);

  auto signed_sink = std::make_shared<CheckingSink>();
  auto fresh_sink = std::make_shared<CheckingSink>();
  auto signed_in = core.accept(signed_sink);
  auto fresh = core.accept(fresh_sink);

  // Sign up and sign in connection 0.
  Bytes key = identity.public_key.serialize();
  wire::Request r;
  r.mutable_registration_challenge();
  std::string challenge = call(*signed_in, *signed_sink, r).registration_challenge().challenge();
  r.mutable_create_account()->set_identity_key(str(key));
  r.mutable_create_account()->set_challenge(challenge);
  r.mutable_create_account()->set_signature(str(crypto::xeddsa_sign(
      identity.private_key, proto::registration_signed_bytes(as_bytes(challenge), key))));
  std::string account = call(*signed_in, *signed_sink, r).create_account().account_id();
  r.mutable_auth_challenge();
  challenge = call(*signed_in, *signed_sink, r).auth_challenge().challenge();
  r.mutable_authenticate()->set_account_id(account);
  r.mutable_authenticate()->set_device_id(1);
  r.mutable_authenticate()->set_challenge(challenge);
  r.mutable_authenticate()->set_signature(str(crypto::xeddsa_sign(
      identity.private_key, proto::auth_signed_bytes(as_bytes(challenge), as_bytes(account), 1))));
  if (call(*signed_in, *signed_sink, r).status() != 0) std::abort();

  std::size_t at = 0;
  while (at + 3 <= size) {
    std::uint8_t which = data[at] & 1;
    std::size_t length = (std::size_t{data[at + 1]} << 8) | data[at + 2];
    at += 3;
    if (length > size - at) length = size - at;
    (which == 0 ? *signed_in : *fresh).on_frame(ByteView(data + at, length));
    at += length;
    if (which == 1 && fresh_sink->closed) {
      fresh->on_close();
      fresh_sink = std::make_shared<CheckingSink>();
      fresh = core.accept(fresh_sink);
    }
  }
  signed_in->on_close();
  fresh->on_close();
  core.shutdown();
  return 0;
}
