// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Sign-up with proof of work, linking a device (with a secret the server never sees), prekeys,
// and the primary's signed device list.

#include <sodium.h>

#include <algorithm>
#include <thread>

#include "client_impl.h"
#include "parley/crypto/hash.h"
#include "parley/crypto/prekeys.h"
#include "parley/crypto/random.h"
#include "parley/crypto/xeddsa.h"
#include "parley/proto/pow.h"
#include "parley/proto/signed_messages.h"
#include "parley/proto/username.h"

namespace parley::client {

namespace {

constexpr std::uint32_t kMaxPrekeyId = 0xFFFFFF;  // Signal's "medium" ids: 24 bits
constexpr std::size_t kPrekeysPerUpload = 100;    // the server's per-request limit
constexpr std::string_view kLinkAlphabet = "abcdefghijkmnpqrstuvwxyz23456789";  // 5 bits each
constexpr std::size_t kLinkSecretChars = 16;                                    // 80 bits
constexpr std::string_view kLinkProofDomain = "parley-link-proof-v1";
constexpr std::string_view kDeviceListVersion = "device_list_version";

std::uint32_t next_id(std::uint32_t id) {
  return id >= kMaxPrekeyId ? 1 : id + 1;
}

Bytes link_proof_mac(std::string_view secret, ByteView account_id, std::uint32_t device_id,
                     ByteView device_key) {
  Bytes device_be = {
      static_cast<std::uint8_t>(device_id >> 24), static_cast<std::uint8_t>(device_id >> 16),
      static_cast<std::uint8_t>(device_id >> 8), static_cast<std::uint8_t>(device_id)};
  SecretBytes mac = crypto::hmac_sha256(
      as_bytes(secret), concat({as_bytes(kLinkProofDomain), account_id, device_be, device_key}));
  return Bytes(mac.view().begin(), mac.view().end());
}

// Finds a nonce for the sign-up proof of work, reporting progress every 65,536 hashes.
Bytes solve_pow(ByteView challenge, std::uint32_t bits, const PowProgress& progress) {
  std::uint64_t counter = crypto::random_uint32();
  for (std::uint64_t tried = 0;; ++tried, ++counter) {
    Bytes nonce(8);
    for (int i = 0; i < 8; ++i) nonce[i] = static_cast<std::uint8_t>(counter >> (56 - 8 * i));
    if (proto::pow_is_valid(challenge, nonce, bits)) {
      if (progress) progress(tried + 1, bits);
      return nonce;
    }
    if (progress && (tried & 0xFFFF) == 0) progress(tried, bits);
  }
}

}  // namespace

Status Client::Impl::require_no_account() const {
  if (!account) return Status();
  return Status::error(
      ErrorCode::kAlreadyExists,
      "this home already has an account (" + own_hex() +
          ", see `parley whoami`); use another --home for a new account or device");
}

Status Client::Impl::upload_prekeys(bool with_signed_prekey, std::uint32_t count) {
  PARLEY_ASSIGN_OR_RETURN(auto device_key,
                          crypto::PrivateKey::parse(account->device_private_key.view()));
  std::vector<crypto::PreKeyRecord> fresh;
  std::optional<crypto::SignedPreKeyRecord> signed_prekey;
  {
    // Keep the private halves before the server can hand out the public ones.
    PARLEY_ASSIGN_OR_RETURN(auto tx, store->begin());
    AccountRecord updated = account->clone();
    for (std::uint32_t i = 0; i < count; ++i) {
      fresh.push_back(crypto::PreKeyRecord::generate(updated.next_prekey_id));
      updated.next_prekey_id = next_id(updated.next_prekey_id);
      PARLEY_RETURN_IF_ERROR(store->pre_keys().store_pre_key(fresh.back()));
    }
    if (with_signed_prekey) {
      signed_prekey = crypto::SignedPreKeyRecord::generate(
          updated.next_signed_prekey_id, device_key, static_cast<std::uint64_t>(now_ms()));
      updated.next_signed_prekey_id = next_id(updated.next_signed_prekey_id);
      PARLEY_RETURN_IF_ERROR(store->signed_pre_keys().store_signed_pre_key(*signed_prekey));
    }
    PARLEY_RETURN_IF_ERROR(store->save_account(updated));
    PARLEY_RETURN_IF_ERROR(tx.commit());
    account = std::move(updated);
  }
  std::size_t next = 0;
  do {
    wire::Request request;
    auto* body = request.mutable_upload_prekeys();
    if (signed_prekey && next == 0) {
      auto* sp = body->mutable_signed_prekey();
      sp->set_key_id(signed_prekey->id);
      Bytes key = signed_prekey->key_pair.public_key.serialize();
      sp->set_public_key(key.data(), key.size());
      sp->set_signature(signed_prekey->signature.data(), signed_prekey->signature.size());
    }
    for (std::size_t i = 0; i < kPrekeysPerUpload && next < fresh.size(); ++i, ++next) {
      auto* otp = body->add_one_time_prekeys();
      otp->set_key_id(fresh[next].id);
      Bytes key = fresh[next].key_pair.public_key.serialize();
      otp->set_public_key(key.data(), key.size());
    }
    PARLEY_RETURN_IF_ERROR(call(std::move(request)));
  } while (next < fresh.size());
  return Status();
}

Status Client::Impl::publish_device_list(const DeviceSet& devices) {
  if (!is_primary()) {
    return Status::error(ErrorCode::kPermissionDenied, "only the primary device signs the list");
  }
  PARLEY_ASSIGN_OR_RETURN(auto version, store->meta(kDeviceListVersion));
  DeviceSet signed_set;
  signed_set.account_id = account->account_id;
  signed_set.version = static_cast<std::uint64_t>(version.value_or(0)) + 1;
  signed_set.timestamp_ms = now_ms();
  signed_set.devices = devices.devices;
  signed_set.username = account->username;
  PARLEY_ASSIGN_OR_RETURN(auto identity,
                          crypto::PrivateKey::parse(account->device_private_key.view()));
  Bytes blob = sign_device_list(signed_set, identity);
  wire::Request request;
  request.mutable_set_device_list()->set_signed_device_list(blob.data(), blob.size());
  PARLEY_RETURN_IF_ERROR(call(std::move(request)));
  PARLEY_RETURN_IF_ERROR(
      store->set_meta(kDeviceListVersion, static_cast<std::int64_t>(signed_set.version)));
  // Our own contact row caches the list like anyone else's.
  PARLEY_ASSIGN_OR_RETURN(auto self, store->contact(account->account_id));
  Contact contact = self.value_or(Contact{});
  contact.account_id = account->account_id;
  contact.username = account->username;
  contact.identity_key = account->identity_key;
  contact.verified = true;
  contact.signed_device_list = blob;
  contact.updated_ms = now_ms();
  return store->save_contact(contact);
}

Result<DeviceSet> Client::Impl::own_device_set(bool refresh) {
  return device_set(account->account_id, refresh);
}

Status Client::Impl::handle_device_list_changed() {
  if (!is_primary()) return Status();
  // A device was removed (or linked: that one is added only after its proof arrives). Re-sign
  // the list without devices the server no longer has.
  wire::Request request;
  request.mutable_get_devices()->set_account_id(account->account_id.data(),
                                                account->account_id.size());
  PARLEY_ASSIGN_OR_RETURN(wire::Response response, call(std::move(request)));
  PARLEY_ASSIGN_OR_RETURN(DeviceSet current, own_device_set(false));
  DeviceSet kept = current;
  std::erase_if(kept.devices, [&](const auto& entry) {
    const auto& listed = response.get_devices().devices();
    return std::none_of(listed.begin(), listed.end(),
                        [&](const auto& d) { return d.device_id() == entry.first; });
  });
  if (kept.devices.size() == current.devices.size()) return Status();
  return publish_device_list(kept);
}

Status Client::Impl::handle_link_proof(ByteView sender_account, std::uint32_t sender_device,
                                       ByteView proof_bytes) {
  if (!is_primary() || !link_secret ||
      as_string_view(sender_account) != as_string_view(account->account_id)) {
    return Status();  // not waiting for a device: nothing to do
  }
  content::LinkProof proof;
  if (!proof.ParseFromArray(proof_bytes.data(), static_cast<int>(proof_bytes.size())) ||
      proof.device_id() != sender_device) {
    return Status::error(ErrorCode::kMalformedInput, "a link proof is malformed");
  }
  Bytes expected = link_proof_mac(*link_secret, account->account_id, proof.device_id(),
                                  as_bytes(proof.device_key()));
  if (proof.mac().size() != expected.size() ||
      sodium_memcmp(proof.mac().data(), expected.data(), expected.size()) != 0) {
    return Status::error(ErrorCode::kBadMac,
                         "a device tried to join with a wrong link secret; it was not added");
  }
  wire::Request request;
  request.mutable_get_devices()->set_account_id(account->account_id.data(),
                                                account->account_id.size());
  PARLEY_ASSIGN_OR_RETURN(wire::Response response, call(std::move(request)));
  const auto& listed = response.get_devices().devices();
  auto it = std::find_if(listed.begin(), listed.end(),
                         [&](const auto& d) { return d.device_id() == sender_device; });
  if (it == listed.end() || it->device_key() != proof.device_key()) {
    return Status::error(ErrorCode::kDeviceListInvalid,
                         "the joining device's key on the server differs from its proof");
  }
  PARLEY_ASSIGN_OR_RETURN(auto key, crypto::PublicKey::parse(as_bytes(proof.device_key())));
  PARLEY_ASSIGN_OR_RETURN(DeviceSet current, own_device_set(false));
  current.devices[sender_device] = key;
  PARLEY_RETURN_IF_ERROR(publish_device_list(current));
  link_secret.reset();
  linked_device = sender_device;
  Event event;
  event.kind = Event::Kind::kDeviceLinked;
  event.device_id = sender_device;
  event.peer_account_hex = own_hex();
  event.peer_username = account->username;
  emit(event);
  return Status();
}

// ---- Client methods ------------------------------------------------------------------------

Status Client::create_account(const ServerSettings& server, const std::string& username,
                              const PowProgress& progress) {
  PARLEY_RETURN_IF_ERROR(impl_->require_no_account());
  std::string normalized;
  if (!username.empty()) {
    PARLEY_ASSIGN_OR_RETURN(normalized, proto::normalize_username(username));
  }
  PARLEY_RETURN_IF_ERROR(impl_->connect_unauthenticated(server));
  wire::Request challenge_request;
  challenge_request.mutable_registration_challenge();
  PARLEY_ASSIGN_OR_RETURN(wire::Response challenge,
                          impl_->connection->call(std::move(challenge_request)));
  const auto& puzzle = challenge.registration_challenge();
  crypto::KeyPair identity = crypto::KeyPair::generate();
  std::uint32_t registration_id = crypto::generate_registration_id();
  Bytes nonce = solve_pow(as_bytes(puzzle.challenge()), puzzle.difficulty_bits(), progress);
  Bytes identity_public = identity.public_key.serialize();
  Bytes signature = crypto::xeddsa_sign(
      identity.private_key,
      proto::registration_signed_bytes(as_bytes(puzzle.challenge()), identity_public));

  wire::Request create;
  auto* body = create.mutable_create_account();
  body->set_identity_key(identity_public.data(), identity_public.size());
  body->set_registration_id(registration_id);
  body->set_challenge(puzzle.challenge());
  body->set_pow_nonce(nonce.data(), nonce.size());
  body->set_signature(signature.data(), signature.size());
  body->set_username(normalized);
  PARLEY_ASSIGN_OR_RETURN(wire::Response created, impl_->connection->call(std::move(create)));

  AccountRecord record;
  record.account_id = to_bytes(created.create_account().account_id());
  record.device_id = created.create_account().device_id();
  record.identity_key = identity_public;
  record.device_private_key = identity.private_key.serialize().clone();
  record.device_public_key = identity_public;
  record.registration_id = registration_id;
  record.username = normalized;
  record.server = server.server;
  record.server_pin = server.trust.pinned_sha256;
  record.server_ca_file = server.trust.ca_file;
  record.created_ms = impl_->now_ms();
  PARLEY_RETURN_IF_ERROR(impl_->store->save_account(record));
  impl_->account = std::move(record);
  PARLEY_RETURN_IF_ERROR(impl_->save_network_settings(server.network));

  PARLEY_RETURN_IF_ERROR(impl_->upload_prekeys(true, impl_->options.prekey_batch));
  DeviceSet devices;
  devices.devices[1] = identity.public_key;
  return impl_->publish_device_list(devices);
}

Result<LinkCode> Client::create_link_code() {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  if (!impl_->is_primary()) {
    return Status::error(ErrorCode::kPermissionDenied,
                         "only the primary device (device 1) can link new devices");
  }
  wire::Request request;
  request.mutable_create_link_code();
  PARLEY_ASSIGN_OR_RETURN(wire::Response response, impl_->call(std::move(request)));
  std::string secret;
  for (std::size_t i = 0; i < kLinkSecretChars; ++i) {
    secret += kLinkAlphabet[randombytes_uniform(static_cast<std::uint32_t>(kLinkAlphabet.size()))];
  }
  impl_->link_secret = secret;
  impl_->linked_device.reset();
  return LinkCode{response.create_link_code().code() + "-" + secret,
                  response.create_link_code().expires_ms()};
}

Result<std::uint32_t> Client::wait_for_link(const LinkCode& code,
                                            std::chrono::milliseconds timeout) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  auto dash = code.text.rfind('-');
  if (dash == std::string::npos) {
    return Status::error(ErrorCode::kInvalidArgument, "not a link code from create_link_code()");
  }
  impl_->link_secret = code.text.substr(dash + 1);
  PARLEY_RETURN_IF_ERROR(impl_->ensure_signed_in());
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!impl_->linked_device) {
    if (std::chrono::steady_clock::now() > deadline) {
      impl_->link_secret.reset();
      return Status::error(ErrorCode::kTimeout, "no device joined with the code in time");
    }
    auto push = impl_->connection->next_push(std::chrono::milliseconds(250));
    if (!push.ok()) {
      if (push.status().code() == ErrorCode::kTimeout) {
        PARLEY_RETURN_IF_ERROR(impl_->flush_acks());
        continue;
      }
      impl_->drop_connection();
      PARLEY_RETURN_IF_ERROR(impl_->ensure_signed_in());
      continue;
    }
    PARLEY_RETURN_IF_ERROR(impl_->handle_push(*push));
  }
  PARLEY_RETURN_IF_ERROR(impl_->flush_acks());
  std::uint32_t id = *impl_->linked_device;
  impl_->linked_device.reset();
  return id;
}

Status Client::join_device(const ServerSettings& server, const std::string& code,
                           std::chrono::milliseconds timeout) {
  PARLEY_RETURN_IF_ERROR(impl_->require_no_account());
  auto dash = code.rfind('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == code.size()) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "a link code looks like abcd2345efgh6789-k3m5n7p9q2r4s6t8: copy it "
                         "whole from `parley link` on the primary device");
  }
  std::string server_code = code.substr(0, dash);
  std::string secret = code.substr(dash + 1);
  PARLEY_RETURN_IF_ERROR(impl_->connect_unauthenticated(server));

  crypto::KeyPair device = crypto::KeyPair::generate();
  std::uint32_t registration_id = crypto::generate_registration_id();
  Bytes device_public = device.public_key.serialize();
  Bytes signature = crypto::xeddsa_sign(
      device.private_key, proto::link_signed_bytes(as_bytes(server_code), device_public));
  wire::Request link;
  auto* body = link.mutable_link_device();
  body->set_code(server_code);
  body->set_device_key(device_public.data(), device_public.size());
  body->set_registration_id(registration_id);
  body->set_signature(signature.data(), signature.size());
  PARLEY_ASSIGN_OR_RETURN(wire::Response linked, impl_->connection->call(std::move(link)));

  AccountRecord record;
  record.account_id = to_bytes(linked.link_device().account_id());
  record.device_id = linked.link_device().device_id();
  record.device_private_key = device.private_key.serialize().clone();
  record.device_public_key = device_public;
  record.registration_id = registration_id;
  record.server = server.server;
  record.server_pin = server.trust.pinned_sha256;
  record.server_ca_file = server.trust.ca_file;
  record.created_ms = impl_->now_ms();
  impl_->account = record.clone();

  // The account's identity key: what the server says now, then checked against the signed list
  // the primary publishes for us below.
  wire::Request devices_request;
  devices_request.mutable_get_devices()->set_account_id(record.account_id.data(),
                                                        record.account_id.size());
  PARLEY_ASSIGN_OR_RETURN(wire::Response devices, impl_->call(std::move(devices_request)));
  record.identity_key = to_bytes(devices.get_devices().identity_key());
  PARLEY_RETURN_IF_ERROR(impl_->store->save_account(record));
  impl_->account = std::move(record);
  PARLEY_RETURN_IF_ERROR(impl_->save_network_settings(server.network));
  PARLEY_RETURN_IF_ERROR(impl_->upload_prekeys(true, impl_->options.prekey_batch));

  // Prove the secret half of the code to the primary (and harmlessly to any other device).
  content::LinkProof proof;
  proof.set_device_id(impl_->account->device_id);
  proof.set_device_key(device_public.data(), device_public.size());
  Bytes mac =
      link_proof_mac(secret, impl_->account->account_id, impl_->account->device_id, device_public);
  proof.set_mac(mac.data(), mac.size());
  Bytes ciphertext{static_cast<std::uint8_t>(EnvelopeType::kLinkProof)};
  append(ciphertext, as_bytes(proof.SerializeAsString()));
  wire::Request send;
  auto* message = send.mutable_send_message();
  message->set_recipient_account_id(impl_->account->account_id.data(),
                                    impl_->account->account_id.size());
  Bytes proof_id = crypto::random_bytes(kClientMessageIdSize);
  message->set_client_message_id(proof_id.data(), proof_id.size());
  for (const auto& d : devices.get_devices().devices()) {
    if (d.device_id() == impl_->account->device_id) continue;
    auto* copy = message->add_copies();
    copy->set_device_id(d.device_id());
    copy->set_ciphertext(ciphertext.data(), ciphertext.size());
  }
  PARLEY_RETURN_IF_ERROR(impl_->call(std::move(send)));

  // Wait until the primary's signed list names this device with this key.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto set = impl_->own_device_set(/*refresh=*/true);
    if (set.ok()) {
      auto it = set->devices.find(impl_->account->device_id);
      if (it != set->devices.end() && it->second == device.public_key) return Status();
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::error(ErrorCode::kTimeout,
                           "the primary device did not confirm this device in time; keep "
                           "`parley link` running there and try again");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
}

Status Client::remove_device(std::uint32_t device_id) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  if (!impl_->is_primary()) {
    return Status::error(ErrorCode::kPermissionDenied,
                         "only the primary device (device 1) can remove devices");
  }
  wire::Request request;
  request.mutable_remove_device()->set_device_id(device_id);
  PARLEY_RETURN_IF_ERROR(impl_->call(std::move(request)));
  PARLEY_ASSIGN_OR_RETURN(DeviceSet current, impl_->own_device_set(false));
  current.devices.erase(device_id);
  return impl_->publish_device_list(current);
}

}  // namespace parley::client
