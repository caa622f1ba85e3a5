// SPDX-License-Identifier: AGPL-3.0-or-later
#include "test_harness.h"

#include <gtest/gtest.h>

#include "parley/crypto/xeddsa.h"
#include "parley/proto/pow.h"
#include "parley/proto/signed_messages.h"

namespace parley::server::testing {
namespace {
constexpr auto kWait = std::chrono::seconds(10);
}

bool RecordingSink::send(std::shared_ptr<const Bytes> frame) {
  std::lock_guard lock(mutex_);
  if (refusing_ || close_reason_) return false;
  auto decoded = proto::decode_server_frame(*frame, proto::Limits{});
  EXPECT_TRUE(decoded.ok()) << "server sent an invalid frame: " << decoded.status().to_string();
  if (decoded.ok()) frames_.push_back(std::move(*decoded));
  changed_.notify_all();
  return true;
}

void RecordingSink::close(ErrorCode reason) {
  std::lock_guard lock(mutex_);
  if (!close_reason_) close_reason_ = reason;
  changed_.notify_all();
}

std::vector<wire::Frame> RecordingSink::frames() const {
  std::lock_guard lock(mutex_);
  return frames_;
}

std::optional<ErrorCode> RecordingSink::close_reason() const {
  std::lock_guard lock(mutex_);
  return close_reason_;
}

bool RecordingSink::wait_until(
    const std::function<bool(const std::vector<wire::Frame>&)>& predicate) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, kWait, [&] { return predicate(frames_); });
}

void RecordingSink::refuse_sends() {
  std::lock_guard lock(mutex_);
  refusing_ = true;
}

Client::Client(ServerCore& core, const std::string& remote_address)
    : sink_(std::make_shared<RecordingSink>()) {
  sink_->set_remote_address(remote_address);
  handler_ = core.accept(sink_);
}

Client::~Client() {
  close();
}

void Client::close() {
  if (closed_) return;
  closed_ = true;
  handler_->on_close();
}

void Client::send_raw(ByteView frame) {
  handler_->on_frame(frame);
}

wire::Response Client::call(wire::Request request) {
  std::uint64_t id = next_id_++;
  request.set_id(id);
  Bytes frame = proto::encode_frame(proto::request_frame(std::move(request)));
  handler_->on_frame(frame);
  std::optional<wire::Response> found;
  sink_->wait_until([&](const std::vector<wire::Frame>& frames) {
    for (const auto& f : frames) {
      if (f.has_response() && f.response().id() == id) {
        found = f.response();
        return true;
      }
    }
    return false;
  });
  if (found) return *found;
  wire::Response timeout;
  timeout.set_id(id);
  timeout.set_status(static_cast<std::uint32_t>(ErrorCode::kTimeout));
  return timeout;
}

std::vector<wire::Push> Client::pushes() const {
  std::vector<wire::Push> out;
  for (const auto& f : sink_->frames()) {
    if (f.has_push()) out.push_back(f.push());
  }
  return out;
}

std::vector<wire::Envelope> Client::messages() const {
  std::vector<wire::Envelope> out;
  for (const auto& p : pushes()) {
    if (p.has_message()) out.push_back(p.message());
  }
  return out;
}

bool Client::queue_empty_received() const {
  for (const auto& p : pushes()) {
    if (p.has_queue_empty()) return true;
  }
  return false;
}

bool Client::wait_for_messages(std::size_t count) const {
  return sink_->wait_until([&](const std::vector<wire::Frame>& frames) {
    std::size_t n = 0;
    for (const auto& f : frames) n += f.has_push() && f.push().has_message();
    return n >= count;
  });
}

bool Client::wait_for_queue_empty() const {
  return sink_->wait_until([](const std::vector<wire::Frame>& frames) {
    for (const auto& f : frames) {
      if (f.has_push() && f.push().has_queue_empty()) return true;
    }
    return false;
  });
}

std::vector<wire::Response> Client::responses() const {
  std::vector<wire::Response> out;
  for (const auto& f : sink_->frames()) {
    if (f.has_response()) out.push_back(f.response());
  }
  return out;
}

wire::Response Client::register_account(Identity& identity, const std::string& username) {
  wire::Request challenge_request;
  challenge_request.mutable_registration_challenge();
  wire::Response challenge = call(challenge_request);
  EXPECT_EQ(status_of(challenge), ErrorCode::kOk) << challenge.message();
  const std::string& c = challenge.registration_challenge().challenge();
  Bytes nonce = proto::pow_solve(as_bytes(c), challenge.registration_challenge().difficulty_bits());
  Bytes key = identity.key.public_key.serialize();

  wire::Request request;
  auto* create = request.mutable_create_account();
  create->set_identity_key(std::string(as_string_view(key)));
  create->set_registration_id(1234);
  create->set_challenge(c);
  create->set_pow_nonce(std::string(as_string_view(nonce)));
  Bytes signature = crypto::xeddsa_sign(identity.key.private_key,
                                        proto::registration_signed_bytes(as_bytes(c), key));
  create->set_signature(std::string(as_string_view(signature)));
  create->set_username(username);
  wire::Response response = call(request);
  if (status_of(response) == ErrorCode::kOk) {
    identity.account = account_from(response.create_account().account_id());
    identity.device = response.create_account().device_id();
  }
  return response;
}

wire::Response Client::authenticate(const Identity& identity, std::uint32_t delivery_window_bytes) {
  wire::Request challenge_request;
  challenge_request.mutable_auth_challenge();
  wire::Response challenge = call(challenge_request);
  EXPECT_EQ(status_of(challenge), ErrorCode::kOk) << challenge.message();
  const std::string& c = challenge.auth_challenge().challenge();
  std::string account = account_bytes(identity.account);
  wire::Request request;
  auto* auth = request.mutable_authenticate();
  auth->set_account_id(account);
  auth->set_device_id(identity.device);
  auth->set_challenge(c);
  Bytes signature = crypto::xeddsa_sign(
      identity.key.private_key,
      proto::auth_signed_bytes(as_bytes(c), as_bytes(account), identity.device));
  auth->set_signature(std::string(as_string_view(signature)));
  if (delivery_window_bytes != 0) auth->set_delivery_window_bytes(delivery_window_bytes);
  return call(request);
}

void Client::sign_up_and_in(Identity& identity, const std::string& username) {
  wire::Response created = register_account(identity, username);
  ASSERT_EQ(status_of(created), ErrorCode::kOk) << created.message();
  wire::Response authed = authenticate(identity);
  ASSERT_EQ(status_of(authed), ErrorCode::kOk) << authed.message();
}

wire::Response Client::link_device(Identity& identity, const std::string& code) {
  Bytes key = identity.key.public_key.serialize();
  wire::Request request;
  auto* link = request.mutable_link_device();
  link->set_code(code);
  link->set_device_key(std::string(as_string_view(key)));
  link->set_registration_id(77);
  Bytes signature =
      crypto::xeddsa_sign(identity.key.private_key, proto::link_signed_bytes(as_bytes(code), key));
  link->set_signature(std::string(as_string_view(signature)));
  wire::Response response = call(request);
  if (status_of(response) == ErrorCode::kOk) {
    identity.account = account_from(response.link_device().account_id());
    identity.device = response.link_device().device_id();
  }
  return response;
}

wire::Response Client::upload_prekeys(const Identity& identity, std::uint32_t first_id,
                                      std::uint32_t count, bool with_signed_prekey) {
  wire::Request request;
  auto* upload = request.mutable_upload_prekeys();
  if (with_signed_prekey) {
    crypto::KeyPair spk = crypto::KeyPair::generate();
    Bytes public_key = spk.public_key.serialize();
    Bytes signature = crypto::xeddsa_sign(identity.key.private_key, public_key);
    upload->mutable_signed_prekey()->set_key_id(1);
    upload->mutable_signed_prekey()->set_public_key(std::string(as_string_view(public_key)));
    upload->mutable_signed_prekey()->set_signature(std::string(as_string_view(signature)));
  }
  for (std::uint32_t i = 0; i < count; ++i) {
    auto* key = upload->add_one_time_prekeys();
    key->set_key_id(first_id + i);
    Bytes public_key = crypto::KeyPair::generate().public_key.serialize();
    key->set_public_key(std::string(as_string_view(public_key)));
  }
  return call(request);
}

wire::Response Client::send_message(const store::AccountId& to,
                                    const std::vector<std::uint32_t>& devices,
                                    const std::string& client_message_id, const std::string& text) {
  wire::Request request;
  auto* send = request.mutable_send_message();
  send->set_recipient_account_id(account_bytes(to));
  send->set_client_message_id(client_message_id);
  for (std::uint32_t device : devices) {
    auto* copy = send->add_copies();
    copy->set_device_id(device);
    copy->set_ciphertext(text + "#" + std::to_string(device));
  }
  return call(request);
}

wire::Response Client::ack(const std::vector<std::uint64_t>& seqs) {
  wire::Request request;
  for (std::uint64_t seq : seqs) request.mutable_ack_messages()->add_seqs(seq);
  return call(request);
}

CoreFixture::CoreFixture(ServerCoreConfig config)
    : core(std::make_unique<ServerCore>(store, blobs, clock, metrics, config)) {}

ServerCoreConfig CoreFixture::test_config() {
  ServerCoreConfig config;
  config.pow_difficulty_bits = 4;  // real checks, negligible cost
  config.worker_threads = 0;
  config.maintenance_interval = std::chrono::seconds(0);
  return config;
}

std::string account_bytes(const store::AccountId& id) {
  return std::string(reinterpret_cast<const char*>(id.data()), id.size());
}

store::AccountId account_from(const std::string& bytes) {
  store::AccountId id{};
  if (bytes.size() == id.size()) std::copy(bytes.begin(), bytes.end(), id.begin());
  return id;
}

ErrorCode status_of(const wire::Response& response) {
  return static_cast<ErrorCode>(response.status());
}

}  // namespace parley::server::testing
