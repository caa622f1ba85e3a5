// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/crypto/session_builder.h"

#include "parley/crypto/xeddsa.h"
#include "ratchet.h"

namespace parley::crypto {

Status SessionBuilder::process(const PreKeyBundle& bundle) {
  if (bundle.pre_key.has_value() != bundle.pre_key_id.has_value()) {
    return Status::error(ErrorCode::kInvalidArgument, "prekey and its id come together");
  }
  PARLEY_ASSIGN_OR_RETURN(bool trusted, stores_.identities.is_trusted_identity(
                                            remote_, bundle.identity_key, Direction::kSending));
  if (!trusted) return Status::error(ErrorCode::kUntrustedIdentity, "identity key changed");
  if (!xeddsa_verify(bundle.identity_key, bundle.signed_pre_key.serialize(),
                     bundle.signed_pre_key_signature)
           .ok()) {
    return Status::error(ErrorCode::kBadSignature, "signed prekey signature does not verify");
  }

  PARLEY_ASSIGN_OR_RETURN(std::optional<SessionRecord> loaded,
                          stores_.sessions.load_session(remote_));
  SessionRecord record = loaded ? std::move(*loaded) : SessionRecord();
  PARLEY_ASSIGN_OR_RETURN(KeyPair our_identity, stores_.identities.identity_key_pair());
  PARLEY_ASSIGN_OR_RETURN(std::uint32_t local_registration_id,
                          stores_.identities.local_registration_id());
  KeyPair base = KeyPair::generate();
  PARLEY_ASSIGN_OR_RETURN(SessionState state,
                          detail::alice_initialize(our_identity, base, bundle.identity_key,
                                                   bundle.signed_pre_key, bundle.pre_key));
  state.pending_pre_key =
      PendingPreKey{bundle.pre_key_id, bundle.signed_pre_key_id, base.public_key};
  state.local_registration_id = local_registration_id;
  state.remote_registration_id = bundle.registration_id;
  state.alice_base_key = base.public_key;
  record.promote_state(std::move(state));

  PARLEY_RETURN_IF_ERROR(stores_.identities.save_identity(remote_, bundle.identity_key));
  return stores_.sessions.store_session(remote_, record);
}

Result<std::optional<std::uint32_t>> SessionBuilder::process(SessionRecord& record,
                                                             const PreKeySignalMessage& message) {
  PARLEY_ASSIGN_OR_RETURN(bool trusted,
                          stores_.identities.is_trusted_identity(remote_, message.identity_key(),
                                                                 Direction::kReceiving));
  if (!trusted) return Status::error(ErrorCode::kUntrustedIdentity, "identity key changed");

  // A retransmitted PreKeySignalMessage: the session exists; the inner message decides.
  if (record.has_session_with_base_key(message.base_key())) return std::optional<std::uint32_t>();

  PARLEY_ASSIGN_OR_RETURN(SignedPreKeyRecord signed_pre_key,
                          stores_.signed_pre_keys.load_signed_pre_key(message.signed_pre_key_id()));
  std::optional<KeyPair> one_time;
  if (message.pre_key_id()) {
    PARLEY_ASSIGN_OR_RETURN(PreKeyRecord pre_key,
                            stores_.pre_keys.load_pre_key(*message.pre_key_id()));
    one_time = std::move(pre_key.key_pair);
  }
  PARLEY_ASSIGN_OR_RETURN(KeyPair our_identity, stores_.identities.identity_key_pair());
  PARLEY_ASSIGN_OR_RETURN(std::uint32_t local_registration_id,
                          stores_.identities.local_registration_id());
  PARLEY_ASSIGN_OR_RETURN(SessionState state,
                          detail::bob_initialize(our_identity, signed_pre_key.key_pair, one_time,
                                                 message.identity_key(), message.base_key()));
  state.local_registration_id = local_registration_id;
  state.remote_registration_id = message.registration_id();
  state.alice_base_key = message.base_key();
  record.promote_state(std::move(state));
  return message.pre_key_id();
}

}  // namespace parley::crypto
