// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley_peer.h"

#include <chrono>
#include <utility>

#include "parley/crypto/session_builder.h"
#include "parley/crypto/session_cipher.h"

namespace parley::interop {

crypto::ProtocolAddress to_parley(const OracleAddress& address) {
  return {address.name, static_cast<std::uint32_t>(address.device_id)};
}

OracleAddress to_oracle(const crypto::ProtocolAddress& address) {
  return {address.name, static_cast<std::int32_t>(address.device_id)};
}

Result<crypto::PreKeyBundle> to_parley(const OracleBundle& bundle) {
  crypto::PreKeyBundle out;
  out.registration_id = bundle.registration_id;
  out.device_id = static_cast<std::uint32_t>(bundle.device_id);
  if (bundle.pre_key_id) {
    out.pre_key_id = *bundle.pre_key_id;
    PARLEY_ASSIGN_OR_RETURN(out.pre_key, crypto::PublicKey::parse(bundle.pre_key_public));
  }
  out.signed_pre_key_id = bundle.signed_pre_key_id;
  PARLEY_ASSIGN_OR_RETURN(out.signed_pre_key,
                          crypto::PublicKey::parse(bundle.signed_pre_key_public));
  out.signed_pre_key_signature = bundle.signed_pre_key_signature;
  PARLEY_ASSIGN_OR_RETURN(out.identity_key, crypto::PublicKey::parse(bundle.identity_key));
  return out;
}

OracleBundle to_oracle(const crypto::PreKeyBundle& bundle) {
  OracleBundle out;
  out.registration_id = bundle.registration_id;
  out.device_id = static_cast<std::int32_t>(bundle.device_id);
  if (bundle.pre_key_id && bundle.pre_key) {
    out.pre_key_id = *bundle.pre_key_id;
    out.pre_key_public = bundle.pre_key->serialize();
  }
  out.signed_pre_key_id = bundle.signed_pre_key_id;
  out.signed_pre_key_public = bundle.signed_pre_key.serialize();
  out.signed_pre_key_signature = bundle.signed_pre_key_signature;
  out.identity_key = bundle.identity_key.serialize();
  return out;
}

ParleyPeer::ParleyPeer(std::string name, std::uint32_t device_id)
    : ParleyPeer(std::move(name), device_id, crypto::KeyPair::generate(),
                 crypto::generate_registration_id()) {}

ParleyPeer::ParleyPeer(std::string name, std::uint32_t device_id, crypto::KeyPair identity,
                       std::uint32_t registration_id)
    : address_{std::move(name), device_id},
      identity_(identity.clone()),
      registration_id_(registration_id),
      store_(std::move(identity), registration_id) {}

crypto::PreKeyBundle ParleyPeer::make_bundle(std::uint32_t signed_pre_key_id,
                                             std::optional<std::uint32_t> one_time_pre_key_id) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  crypto::SignedPreKeyRecord signed_pre_key = crypto::SignedPreKeyRecord::generate(
      signed_pre_key_id, identity_.private_key, static_cast<std::uint64_t>(now.count()));
  (void)store_.signed_pre_keys.store_signed_pre_key(signed_pre_key);

  crypto::PreKeyBundle bundle;
  bundle.registration_id = registration_id_;
  bundle.device_id = address_.device_id;
  bundle.signed_pre_key_id = signed_pre_key_id;
  bundle.signed_pre_key = signed_pre_key.key_pair.public_key;
  bundle.signed_pre_key_signature = signed_pre_key.signature;
  bundle.identity_key = identity_.public_key;
  if (one_time_pre_key_id) {
    crypto::PreKeyRecord pre_key = crypto::PreKeyRecord::generate(*one_time_pre_key_id);
    (void)store_.pre_keys.store_pre_key(pre_key);
    bundle.pre_key_id = *one_time_pre_key_id;
    bundle.pre_key = pre_key.key_pair.public_key;
  }
  return bundle;
}

bool ParleyPeer::has_pre_key(std::uint32_t id) {
  return store_.pre_keys.contains_pre_key(id).value_or(false);
}

bool ParleyPeer::has_session(const OracleAddress& remote) {
  return store_.sessions.contains_session(to_parley(remote)).value_or(false);
}

Status ParleyPeer::process_bundle(const OracleAddress& remote, const crypto::PreKeyBundle& bundle) {
  crypto::SessionBuilder builder(store_.stores(), to_parley(remote));
  return builder.process(bundle);
}

Result<crypto::CiphertextMessage> ParleyPeer::encrypt(const OracleAddress& remote,
                                                      ByteView plaintext) {
  crypto::SessionCipher cipher(store_.stores(), to_parley(remote));
  return cipher.encrypt(plaintext);
}

Result<Bytes> ParleyPeer::decrypt(const OracleAddress& remote, int type, ByteView bytes) {
  crypto::SessionCipher cipher(store_.stores(), to_parley(remote));
  PARLEY_ASSIGN_OR_RETURN(SecretBytes plaintext,
                          cipher.decrypt(static_cast<crypto::MessageType>(type), bytes));
  return Bytes(plaintext.view().begin(), plaintext.view().end());
}

Endpoint parley_endpoint(ParleyPeer& peer, const OracleAddress& remote) {
  Endpoint endpoint;
  endpoint.label = "parley(" + peer.address().name + ")";
  endpoint.encrypt = [&peer, remote](const WireBytes& plaintext) -> Step<WireMessage> {
    auto out = peer.encrypt(remote, plaintext);
    if (!out.ok()) return {{}, out.status().to_string()};
    return {{static_cast<int>(out->type), std::move(out->bytes)}, {}};
  };
  endpoint.decrypt = [&peer, remote](const WireMessage& message) -> Step<WireBytes> {
    auto out = peer.decrypt(remote, message.type, message.bytes);
    if (!out.ok()) return {{}, out.status().to_string()};
    return {std::move(out).value(), {}};
  };
  return endpoint;
}

}  // namespace parley::interop
