// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// A minimal Parley client for the integration tests: parley_proto frames over TlsWebSocketClient,
// request/response matching by id, pushes kept in arrival order, and the sign-up and sign-in
// flows with real keys (XEdDSA from parley_crypto).

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>

#include "parley/crypto/keys.h"
#include "parley/proto/frame.h"
#include "test_client.h"

namespace parley::testing {

struct TestAccount {
  crypto::KeyPair identity = crypto::KeyPair::generate();
  Bytes account_id;
  std::uint32_t device_id = 1;
};

class ProtoClient {
 public:
  explicit ProtoClient(std::uint16_t port, ClientOptions options = {});

  Status connect() { return ws_.connect(); }
  TlsWebSocketClient& ws() { return ws_; }

  // Sends `request` with a fresh id and waits for its response; pushes that arrive meanwhile are
  // queued for next_push().
  Result<wire::Response> call(wire::Request request,
                              std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The next push (queued or arriving within `timeout`).
  Result<wire::Push> next_push(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Sign-up (proof of work solved at the server's difficulty) and sign-in.
  Result<TestAccount> register_account();
  Result<std::uint64_t> authenticate(const TestAccount& account);  // → queued message count

  // Sends one copy per listed device. The response status says whether it was stored.
  Result<wire::Response> send_message(const Bytes& recipient, const std::string& client_message_id,
                                      const std::vector<std::pair<std::uint32_t, Bytes>>& copies);
  Status ack(const std::vector<std::uint64_t>& seqs);

 private:
  Result<wire::Frame> read_frame(std::chrono::milliseconds timeout);

  TlsWebSocketClient ws_;
  std::uint64_t next_id_ = 1;
  std::deque<wire::Push> pushes_;
};

}  // namespace parley::testing
