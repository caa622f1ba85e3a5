// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Sessions across devices (Sesame-style): one Double Ratchet session per remote device, addressed
// (account id hex, device id). A device's key comes only from its account's signed device list;
// a device whose key changed gets a fresh session. Archived session states are kept by the
// session record and the one that decrypts is promoted (parley_crypto's SessionCipher).

#include "client_impl.h"
#include "parley/crypto/session_builder.h"
#include "parley/crypto/session_cipher.h"

namespace parley::client {

namespace {

crypto::ProtocolAddress address_of(ByteView account_id, std::uint32_t device_id) {
  return {hex_id(account_id), device_id};
}

}  // namespace

Status Client::Impl::prepare_sessions(const DeviceSet& devices) {
  bool own = same_bytes(devices.account_id, account->account_id);
  for (const auto& [device_id, key] : devices.devices) {
    if (own && device_id == account->device_id) continue;
    crypto::ProtocolAddress address = address_of(devices.account_id, device_id);
    PARLEY_ASSIGN_OR_RETURN(auto saved, store->identities().identity(address));
    if (!saved || *saved != key) {
      // New device, or the same number re-linked with another key: start over with it.
      if (saved) PARLEY_RETURN_IF_ERROR(store->sessions().delete_session(address));
      PARLEY_RETURN_IF_ERROR(store->identities().save_identity(address, key));
    }
    PARLEY_ASSIGN_OR_RETURN(auto existing, store->sessions().load_session(address));
    if (existing && existing->has_current_state()) continue;

    wire::Request request;
    auto* body = request.mutable_get_prekey_bundle();
    body->set_account_id(devices.account_id.data(), devices.account_id.size());
    body->set_device_id(device_id);
    PARLEY_ASSIGN_OR_RETURN(wire::Response response, call(std::move(request)));
    const auto& bundles = response.get_prekey_bundle().devices();
    if (bundles.empty()) {
      return Status::error(ErrorCode::kNotFound, "the server has no prekeys for a device of " +
                                                     display_name(devices.account_id));
    }
    const wire::DeviceBundle& served = bundles[0];
    if (served.device_id() != device_id || as_bytes(served.device_key()).size() != 33 ||
        as_string_view(key.serialize()) != served.device_key()) {
      return Status::error(ErrorCode::kDeviceListInvalid,
                           "the server's prekey bundle does not match the signed device list of " +
                               display_name(devices.account_id));
    }
    crypto::PreKeyBundle bundle;
    bundle.registration_id = served.registration_id();
    bundle.device_id = device_id;
    if (served.has_one_time_prekey()) {
      PARLEY_ASSIGN_OR_RETURN(
          auto pre_key, crypto::PublicKey::parse(as_bytes(served.one_time_prekey().public_key())));
      bundle.pre_key_id = served.one_time_prekey().key_id();
      bundle.pre_key = pre_key;
    }
    PARLEY_ASSIGN_OR_RETURN(
        bundle.signed_pre_key,
        crypto::PublicKey::parse(as_bytes(served.signed_prekey().public_key())));
    bundle.signed_pre_key_id = served.signed_prekey().key_id();
    bundle.signed_pre_key_signature = to_bytes(served.signed_prekey().signature());
    bundle.identity_key = key;
    PARLEY_RETURN_IF_ERROR(
        crypto::SessionBuilder(store->protocol_stores(), address).process(bundle));
  }
  return Status();
}

Result<wire::SendMessageRequest> Client::Impl::encrypt_for(const DeviceSet& devices,
                                                           ByteView plaintext,
                                                           ByteView client_message_id) {
  bool own = same_bytes(devices.account_id, account->account_id);
  wire::SendMessageRequest request;
  request.set_recipient_account_id(devices.account_id.data(), devices.account_id.size());
  request.set_client_message_id(client_message_id.data(), client_message_id.size());
  for (const auto& [device_id, key] : devices.devices) {
    if (own && device_id == account->device_id) continue;
    crypto::SessionCipher cipher(store->protocol_stores(),
                                 address_of(devices.account_id, device_id));
    PARLEY_ASSIGN_OR_RETURN(crypto::CiphertextMessage message, cipher.encrypt(plaintext));
    Bytes ciphertext{static_cast<std::uint8_t>(message.type)};
    append(ciphertext, message.bytes);
    auto* copy = request.add_copies();
    copy->set_device_id(device_id);
    copy->set_ciphertext(ciphertext.data(), ciphertext.size());
  }
  return request;
}

Status Client::Impl::prepare_decrypt(ByteView sender_account, std::uint32_t sender_device,
                                     ByteView ciphertext) {
  if (ciphertext.empty()) return Status::error(ErrorCode::kMalformedInput, "an empty message");
  auto type = static_cast<EnvelopeType>(ciphertext[0]);
  if (type == EnvelopeType::kLinkProof) return Status();
  crypto::ProtocolAddress address = address_of(sender_account, sender_device);
  PARLEY_ASSIGN_OR_RETURN(auto saved, store->identities().identity(address));
  bool refresh = !saved;
  if (type == EnvelopeType::kPreKey) {
    auto message = crypto::PreKeySignalMessage::parse(ciphertext.subspan(1));
    if (message.ok() && saved && message->identity_key() != *saved) refresh = true;
  }
  if (!refresh) return Status();
  PARLEY_ASSIGN_OR_RETURN(DeviceSet devices, device_set(sender_account, /*refresh=*/true));
  auto it = devices.devices.find(sender_device);
  if (it == devices.devices.end()) {
    return Status::error(ErrorCode::kDeviceListInvalid,
                         "a message came from a device that " + display_name(sender_account) +
                             "'s signed device list does not name; it was dropped");
  }
  if (!saved || *saved != it->second) {
    if (saved) PARLEY_RETURN_IF_ERROR(store->sessions().delete_session(address));
    PARLEY_RETURN_IF_ERROR(store->identities().save_identity(address, it->second));
  }
  return Status();
}

Result<SecretBytes> Client::Impl::decrypt(ByteView sender_account, std::uint32_t sender_device,
                                          ByteView ciphertext) {
  if (ciphertext.size() < 2) return Status::error(ErrorCode::kMalformedInput, "a short message");
  auto type = static_cast<EnvelopeType>(ciphertext[0]);
  if (type != EnvelopeType::kSignal && type != EnvelopeType::kPreKey) {
    return Status::error(ErrorCode::kMalformedInput, "an unknown message type");
  }
  crypto::SessionCipher cipher(store->protocol_stores(), address_of(sender_account, sender_device));
  return cipher.decrypt(static_cast<crypto::MessageType>(ciphertext[0]), ciphertext.subspan(1));
}

}  // namespace parley::client
