// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// One load device's side of the Parley protocol, without I/O: the driver writes the frames this
// returns and hands back every frame the server sends. It signs up (a new account with a fresh
// identity key; the benchmark server runs with proof of work off, but any difficulty is solved),
// signs in, sends 1:1 and group messages, and reports what arrived. Pure, so it is tested against
// the real ServerCore in-process and the driver stays a thin Asio/Beast shell.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "parley/crypto/keys.h"
#include "parley/proto/limits.h"
#include "parley/util/bytes.h"
#include "parley/util/status.h"
#include "parley/wire/frame.pb.h"

namespace parley::load {

class LoadDevice {
 public:
  enum class Phase { kIdle, kRegistering, kSigningIn, kReady, kFailed };

  // What one server frame meant.
  struct Events {
    struct Received {
      std::uint64_t seq = 0;
      std::string ciphertext;
    };
    std::vector<Received> received;  // envelopes pushed to this device, in order
    std::uint32_t sends_accepted = 0;
    std::uint32_t sends_refused = 0;  // a send's non-zero status (the first one's text in error)
    bool became_ready = false;        // signed in with this frame
    bool queue_empty = false;         // every message waiting at sign-in was pushed
    std::string error;                // set when this frame was a failure worth reporting
  };

  LoadDevice();

  // The frames that begin a connection: sign-up first when the device has no account yet, then
  // sign-in. Call again on every new connection.
  std::vector<Bytes> start_connection();
  // Everything a server frame causes: the events, and frames to write back (the next step of
  // signing up or in). A frame that cannot be decoded fails the device (kMalformedInput).
  Result<std::vector<Bytes>> on_frame(ByteView frame, Events& events);

  // A SendMessage of `payload` to device 1 of `recipient` (client message id from a counter).
  Bytes send_message(const Bytes& recipient, std::string_view payload);
  // A SendGroupMessage of `payload` to device 1 of every account in `recipients`.
  Bytes send_group_message(const std::vector<Bytes>& recipients, std::string_view payload);
  // One ack for 1 … proto::Limits::max_acks_per_request seqs.
  Bytes ack(const std::vector<std::uint64_t>& seqs);

  Phase phase() const { return phase_; }
  const Bytes& account_id() const { return account_id_; }
  std::uint64_t sends_in_flight() const { return sends_in_flight_; }

 private:
  enum class Pending : std::uint8_t {
    kRegistrationChallenge,
    kCreateAccount,
    kAuthChallenge,
    kAuthenticate,
    kSend,
    kAck
  };
  Bytes request(wire::Request request, Pending kind);
  Result<std::vector<Bytes>> on_response(const wire::Response& response, Pending kind,
                                         Events& events);
  std::string next_client_message_id();

  crypto::KeyPair identity_ = crypto::KeyPair::generate();
  Bytes account_id_;
  Phase phase_ = Phase::kIdle;
  std::uint64_t next_request_id_ = 1;
  std::uint64_t next_message_id_ = 1;
  std::uint64_t sends_in_flight_ = 0;
  std::unordered_map<std::uint64_t, Pending> pending_;  // request id → what it was
  proto::Limits limits_;
};

}  // namespace parley::load
