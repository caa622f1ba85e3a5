// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley_wire.h"

#include "parley/crypto/xeddsa.h"
#include "parley/proto/frame.h"
#include "parley/proto/pow.h"
#include "parley/proto/signed_messages.h"

namespace parley::load {
namespace {

std::string status_text(const wire::Response& response) {
  return "status " + std::to_string(response.status()) + ": " + response.message();
}

}  // namespace

LoadDevice::LoadDevice() = default;

Bytes LoadDevice::request(wire::Request request, Pending kind) {
  const std::uint64_t id = next_request_id_++;
  request.set_id(id);
  pending_.emplace(id, kind);
  return proto::encode_frame(proto::request_frame(std::move(request)));
}

std::string LoadDevice::next_client_message_id() {
  // 8 bytes or more (the protocol's minimum); unique per device, which is the server's scope.
  return "load-msg-" + std::to_string(next_message_id_++);
}

std::vector<Bytes> LoadDevice::start_connection() {
  pending_.clear();  // answers to a previous connection's requests never come
  sends_in_flight_ = 0;
  wire::Request first;
  if (account_id_.empty()) {
    phase_ = Phase::kRegistering;
    first.mutable_registration_challenge();
    return {request(std::move(first), Pending::kRegistrationChallenge)};
  }
  phase_ = Phase::kSigningIn;
  first.mutable_auth_challenge();
  return {request(std::move(first), Pending::kAuthChallenge)};
}

Result<std::vector<Bytes>> LoadDevice::on_frame(ByteView frame, Events& events) {
  auto decoded = proto::decode_server_frame(frame, limits_);
  if (!decoded.ok()) {
    phase_ = Phase::kFailed;
    return decoded.status();
  }
  if (decoded->has_push()) {
    const wire::Push& push = decoded->push();
    if (push.has_message()) {
      events.received.push_back({push.message().seq(), push.message().ciphertext()});
    } else if (push.has_queue_empty()) {
      events.queue_empty = true;
    }
    return std::vector<Bytes>{};  // prekey and device-list pushes do not concern a load device
  }
  const wire::Response& response = decoded->response();
  auto it = pending_.find(response.id());
  if (it == pending_.end()) {
    phase_ = Phase::kFailed;
    return Status::error(ErrorCode::kProtocolViolation, "a response to no request");
  }
  const Pending kind = it->second;
  pending_.erase(it);
  return on_response(response, kind, events);
}

Result<std::vector<Bytes>> LoadDevice::on_response(const wire::Response& response, Pending kind,
                                                   Events& events) {
  const bool ok = response.status() == 0;
  std::vector<Bytes> next;
  switch (kind) {
    case Pending::kSend:
      if (sends_in_flight_ > 0) --sends_in_flight_;
      if (ok) {
        ++events.sends_accepted;
      } else {
        ++events.sends_refused;
        if (events.error.empty()) events.error = "send refused: " + status_text(response);
      }
      return next;
    case Pending::kAck:
      if (!ok && events.error.empty()) events.error = "ack refused: " + status_text(response);
      return next;
    default:
      break;
  }
  if (!ok) {  // a failed sign-up or sign-in step ends this device
    phase_ = Phase::kFailed;
    events.error = "sign-up/sign-in refused: " + status_text(response);
    return next;
  }
  wire::Request step;
  switch (kind) {
    case Pending::kRegistrationChallenge: {
      const std::string& challenge = response.registration_challenge().challenge();
      const Bytes identity_key = identity_.public_key.serialize();
      const Bytes nonce = proto::pow_solve(as_bytes(challenge),
                                           response.registration_challenge().difficulty_bits());
      const Bytes signature =
          crypto::xeddsa_sign(identity_.private_key,
                              proto::registration_signed_bytes(as_bytes(challenge), identity_key));
      auto* body = step.mutable_create_account();
      body->set_identity_key(identity_key.data(), identity_key.size());
      body->set_registration_id(1);
      body->set_challenge(challenge);
      body->set_pow_nonce(nonce.data(), nonce.size());
      body->set_signature(signature.data(), signature.size());
      next.push_back(request(std::move(step), Pending::kCreateAccount));
      return next;
    }
    case Pending::kCreateAccount: {
      const std::string& id = response.create_account().account_id();
      account_id_.assign(id.begin(), id.end());
      phase_ = Phase::kSigningIn;
      step.mutable_auth_challenge();
      next.push_back(request(std::move(step), Pending::kAuthChallenge));
      return next;
    }
    case Pending::kAuthChallenge: {
      const std::string& challenge = response.auth_challenge().challenge();
      const Bytes signature = crypto::xeddsa_sign(
          identity_.private_key, proto::auth_signed_bytes(as_bytes(challenge), account_id_, 1));
      auto* body = step.mutable_authenticate();
      body->set_account_id(account_id_.data(), account_id_.size());
      body->set_device_id(1);
      body->set_challenge(challenge);
      body->set_signature(signature.data(), signature.size());
      next.push_back(request(std::move(step), Pending::kAuthenticate));
      return next;
    }
    case Pending::kAuthenticate:
      phase_ = Phase::kReady;
      events.became_ready = true;
      return next;
    default:
      return next;
  }
}

Bytes LoadDevice::send_message(const Bytes& recipient, std::string_view payload) {
  wire::Request send;
  auto* body = send.mutable_send_message();
  body->set_recipient_account_id(recipient.data(), recipient.size());
  body->set_client_message_id(next_client_message_id());
  auto* copy = body->add_copies();
  copy->set_device_id(1);
  copy->set_ciphertext(payload.data(), payload.size());
  ++sends_in_flight_;
  return request(std::move(send), Pending::kSend);
}

Bytes LoadDevice::send_group_message(const std::vector<Bytes>& recipients,
                                     std::string_view payload) {
  wire::Request send;
  auto* body = send.mutable_send_group_message();
  body->set_client_message_id(next_client_message_id());
  body->set_ciphertext(payload.data(), payload.size());
  for (const Bytes& account : recipients) {
    auto* recipient = body->add_recipients();
    recipient->set_account_id(account.data(), account.size());
    recipient->add_device_ids(1);
  }
  ++sends_in_flight_;
  return request(std::move(send), Pending::kSend);
}

Bytes LoadDevice::ack(const std::vector<std::uint64_t>& seqs) {
  wire::Request ack;
  for (std::uint64_t seq : seqs) ack.mutable_ack_messages()->add_seqs(seq);
  return request(std::move(ack), Pending::kAck);
}

}  // namespace parley::load
