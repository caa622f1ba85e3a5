// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// In-memory harness for ServerCore: a sink that records every frame, and a client that speaks
// the protocol through a ConnectionHandler exactly as the gateway would, without sockets.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "parley/crypto/keys.h"
#include "parley/proto/frame.h"
#include "parley/server/metrics.h"
#include "parley/server/server_core.h"
#include "parley/store/memory_blob_store.h"
#include "parley/store/memory_store.h"
#include "parley/util/clock.h"

namespace parley::server::testing {

class RecordingSink final : public ConnectionSink {
 public:
  bool send(std::shared_ptr<const Bytes> frame) override;
  void close(ErrorCode reason) override;

  std::vector<wire::Frame> frames() const;
  std::optional<ErrorCode> close_reason() const;
  // Waits (up to 10 s) until `predicate(frames)` holds; false on timeout.
  bool wait_until(const std::function<bool(const std::vector<wire::Frame>&)>& predicate) const;
  // Makes send() fail from now on, like a gateway whose write queue is full.
  void refuse_sends();
  // The peer address the gateway would report (per-IP limits); empty by default.
  void set_remote_address(std::string address) { remote_address_ = std::move(address); }
  std::string remote_address() const override { return remote_address_; }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<wire::Frame> frames_;
  std::optional<ErrorCode> close_reason_;
  bool refusing_ = false;
  std::string remote_address_;
};

struct Identity {
  store::AccountId account{};
  store::DeviceId device = 0;
  crypto::KeyPair key = crypto::KeyPair::generate();
};

class Client {
 public:
  explicit Client(ServerCore& core, const std::string& remote_address = {});
  ~Client();

  // Sends the request (an id is assigned) and returns its response; a response with status
  // kTimeout (109) if none arrived within 10 s.
  wire::Response call(wire::Request request);
  // Sends bytes as one WebSocket message.
  void send_raw(ByteView frame);
  void close();  // the connection is gone, as the gateway reports it

  std::vector<wire::Push> pushes() const;
  std::vector<wire::Envelope> messages() const;  // pushed envelopes, in arrival order
  bool queue_empty_received() const;
  bool wait_for_messages(std::size_t count) const;
  bool wait_for_queue_empty() const;
  std::vector<wire::Response> responses() const;
  RecordingSink& sink() { return *sink_; }
  std::shared_ptr<RecordingSink> sink_ptr() const { return sink_; }
  ConnectionHandler& handler() { return *handler_; }

  // ---- Protocol helpers ----
  // Challenge, proof of work, signed sign-up. Returns the response of create_account.
  wire::Response register_account(Identity& identity, const std::string& username = {});
  // delivery_window_bytes: AuthenticateRequest's optional smaller push window (0: absent).
  wire::Response authenticate(const Identity& identity, std::uint32_t delivery_window_bytes = 0);
  // Registers `identity` as a new account and authenticates it; asserts success.
  void sign_up_and_in(Identity& identity, const std::string& username = {});
  wire::Response link_device(Identity& identity, const std::string& code);
  wire::Response upload_prekeys(const Identity& identity, std::uint32_t first_id,
                                std::uint32_t count, bool with_signed_prekey = true);
  wire::Response send_message(const store::AccountId& to, const std::vector<std::uint32_t>& devices,
                              const std::string& client_message_id, const std::string& text);
  wire::Response ack(const std::vector<std::uint64_t>& seqs);

 private:
  std::shared_ptr<RecordingSink> sink_;
  std::unique_ptr<ConnectionHandler> handler_;
  std::uint64_t next_id_ = 1;
  bool closed_ = false;
};

// A core on a MemoryStore with a FakeClock. Inline (worker_threads = 0) unless asked otherwise.
struct CoreFixture {
  explicit CoreFixture(ServerCoreConfig config = test_config());
  static ServerCoreConfig test_config();

  FakeClock clock;
  store::MemoryStore store;
  store::MemoryBlobStore blobs;
  Metrics metrics;
  std::unique_ptr<ServerCore> core;
};

std::string account_bytes(const store::AccountId& id);
store::AccountId account_from(const std::string& bytes);
ErrorCode status_of(const wire::Response& response);

}  // namespace parley::server::testing
