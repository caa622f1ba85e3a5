// SPDX-License-Identifier: AGPL-3.0-or-later
#include "proto_client.h"

#include "parley/crypto/xeddsa.h"
#include "parley/proto/pow.h"
#include "parley/proto/signed_messages.h"

namespace parley::testing {
namespace {

Bytes to_bytes_of(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

Status status_of(const wire::Response& response) {
  if (response.status() == 0) return {};
  auto code = error_code_from_number(response.status());
  return Status::error(code.value_or(ErrorCode::kInternal), response.message());
}

}  // namespace

ProtoClient::ProtoClient(std::uint16_t port, ClientOptions options)
    : ws_([&] {
        options.port = port;
        return options;
      }()) {}

Result<wire::Frame> ProtoClient::read_frame(std::chrono::milliseconds timeout) {
  PARLEY_ASSIGN_OR_RETURN(Bytes bytes, ws_.receive(timeout));
  return proto::decode_server_frame(bytes, proto::Limits{});
}

Result<wire::Response> ProtoClient::call(wire::Request request, std::chrono::milliseconds timeout) {
  const std::uint64_t id = next_id_++;
  request.set_id(id);
  PARLEY_RETURN_IF_ERROR(ws_.send(proto::encode_frame(proto::request_frame(std::move(request)))));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Status::error(ErrorCode::kTimeout, "no response");
    PARLEY_ASSIGN_OR_RETURN(wire::Frame frame, read_frame(left));
    if (frame.has_push()) {
      pushes_.push_back(frame.push());
    } else if (frame.has_response() &&
               (frame.response().id() == id || frame.response().id() == 0)) {
      // id 0: the server could not read our request's id and refuses it.
      return frame.response();
    }
  }
}

Result<wire::Push> ProtoClient::next_push(std::chrono::milliseconds timeout) {
  if (!pushes_.empty()) {
    wire::Push push = std::move(pushes_.front());
    pushes_.pop_front();
    return push;
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Status::error(ErrorCode::kTimeout, "no push");
    PARLEY_ASSIGN_OR_RETURN(wire::Frame frame, read_frame(left));
    if (frame.has_push()) return frame.push();
  }
}

Result<TestAccount> ProtoClient::register_account() {
  TestAccount account;
  wire::Request challenge_request;
  challenge_request.mutable_registration_challenge();
  PARLEY_ASSIGN_OR_RETURN(auto challenge, call(std::move(challenge_request)));
  PARLEY_RETURN_IF_ERROR(status_of(challenge));
  const std::string& challenge_bytes = challenge.registration_challenge().challenge();
  Bytes nonce = proto::pow_solve(as_bytes(challenge_bytes),
                                 challenge.registration_challenge().difficulty_bits());

  Bytes identity_key = account.identity.public_key.serialize();
  Bytes signature = crypto::xeddsa_sign(
      account.identity.private_key,
      proto::registration_signed_bytes(as_bytes(challenge_bytes), identity_key));
  wire::Request create;
  auto* body = create.mutable_create_account();
  body->set_identity_key(identity_key.data(), identity_key.size());
  body->set_registration_id(1234);
  body->set_challenge(challenge_bytes);
  body->set_pow_nonce(nonce.data(), nonce.size());
  body->set_signature(signature.data(), signature.size());
  PARLEY_ASSIGN_OR_RETURN(auto created, call(std::move(create)));
  PARLEY_RETURN_IF_ERROR(status_of(created));
  account.account_id = to_bytes_of(created.create_account().account_id());
  account.device_id = created.create_account().device_id();
  return account;
}

Result<std::uint64_t> ProtoClient::authenticate(const TestAccount& account) {
  wire::Request challenge_request;
  challenge_request.mutable_auth_challenge();
  PARLEY_ASSIGN_OR_RETURN(auto challenge, call(std::move(challenge_request)));
  PARLEY_RETURN_IF_ERROR(status_of(challenge));
  const std::string& challenge_bytes = challenge.auth_challenge().challenge();
  Bytes signature = crypto::xeddsa_sign(
      account.identity.private_key,
      proto::auth_signed_bytes(as_bytes(challenge_bytes), account.account_id, account.device_id));
  wire::Request auth;
  auto* body = auth.mutable_authenticate();
  body->set_account_id(account.account_id.data(), account.account_id.size());
  body->set_device_id(account.device_id);
  body->set_challenge(challenge_bytes);
  body->set_signature(signature.data(), signature.size());
  PARLEY_ASSIGN_OR_RETURN(auto response, call(std::move(auth)));
  PARLEY_RETURN_IF_ERROR(status_of(response));
  return response.authenticate().queued_messages();
}

Result<wire::Response> ProtoClient::send_message(
    const Bytes& recipient, const std::string& client_message_id,
    const std::vector<std::pair<std::uint32_t, Bytes>>& copies) {
  wire::Request request;
  auto* body = request.mutable_send_message();
  body->set_recipient_account_id(recipient.data(), recipient.size());
  body->set_client_message_id(client_message_id);
  for (const auto& [device, ciphertext] : copies) {
    auto* copy = body->add_copies();
    copy->set_device_id(device);
    copy->set_ciphertext(ciphertext.data(), ciphertext.size());
  }
  return call(std::move(request));
}

Status ProtoClient::ack(const std::vector<std::uint64_t>& seqs) {
  wire::Request request;
  for (auto seq : seqs) request.mutable_ack_messages()->add_seqs(seq);
  PARLEY_ASSIGN_OR_RETURN(auto response, call(std::move(request)));
  return status_of(response);
}

}  // namespace parley::testing
