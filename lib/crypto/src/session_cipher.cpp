// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/crypto/session_cipher.h"

#include <algorithm>

#include "parley/crypto/aes_cbc.h"
#include "parley/crypto/session_builder.h"
#include "ratchet.h"

namespace parley::crypto {
namespace {

// The receiving chain for `their_ratchet`, performing a DH ratchet step (new receiving chain and
// a fresh sending chain) the first time a ratchet key is seen.
Result<ReceiverChain*> receiver_chain_for(SessionState& state, const PublicKey& their_ratchet) {
  for (ReceiverChain& chain : state.receiver_chains) {
    if (chain.sender_ratchet_key == their_ratchet) return &chain;
  }
  if (!state.sender_ratchet) {
    return Status::error(ErrorCode::kNoSession, "session has no sending ratchet");
  }
  PARLEY_ASSIGN_OR_RETURN(
      detail::RootAndChain receiving,
      detail::root_step(state.root_key.view(), their_ratchet, state.sender_ratchet->private_key));
  KeyPair ours = KeyPair::generate();
  PARLEY_ASSIGN_OR_RETURN(
      detail::RootAndChain sending,
      detail::root_step(receiving.root_key.view(), their_ratchet, ours.private_key));
  state.root_key = std::move(sending.root_key);
  state.receiver_chains.insert(state.receiver_chains.begin(),
                               ReceiverChain{their_ratchet, std::move(receiving.chain), {}});
  if (state.receiver_chains.size() > kMaxReceiverChains) {
    state.receiver_chains.resize(kMaxReceiverChains);
  }
  // As libsignal does: the index of the last message sent on the old chain.
  state.previous_counter = state.sender_chain.index > 0 ? state.sender_chain.index - 1 : 0;
  state.sender_ratchet = std::move(ours);
  state.sender_chain = std::move(sending.chain);
  return &state.receiver_chains.front();
}

// Decrypts with one state, modifying it (callers pass a copy and keep it only on success).
Result<SecretBytes> decrypt_with_state(SessionState& state, const SignalMessage& message) {
  if (message.version() != state.session_version) {
    return Status::error(ErrorCode::kUnsupportedVersion, "message version differs from session");
  }
  PARLEY_ASSIGN_OR_RETURN(ReceiverChain * chain, receiver_chain_for(state, message.ratchet_key()));
  PARLEY_ASSIGN_OR_RETURN(
      SecretBytes seed,
      detail::take_message_seed(chain->chain_key, chain->skipped, message.counter()));
  PARLEY_ASSIGN_OR_RETURN(detail::MessageKeys keys, detail::message_keys(seed.view()));
  PARLEY_RETURN_IF_ERROR(
      message.verify_mac(keys.mac_key.view(), state.remote_identity, state.local_identity));
  PARLEY_ASSIGN_OR_RETURN(
      SecretBytes plaintext,
      aes256_cbc_decrypt(keys.cipher_key.view(), keys.iv.view(), message.ciphertext()));
  // The peer has our session: stop sending PreKeySignalMessages.
  state.pending_pre_key.reset();
  return plaintext;
}

// Tries the current state, then archived ones (promoting the one that works). The record is
// changed only on success.
Result<SecretBytes> decrypt_with_record(SessionRecord& record, const SignalMessage& message) {
  std::optional<Status> first_error;
  if (const SessionState* current = record.current_state()) {
    SessionState attempt = current->clone();
    Result<SecretBytes> plaintext = decrypt_with_state(attempt, message);
    if (plaintext.ok()) {
      *record.current_state() = std::move(attempt);
      return plaintext;
    }
    // A replay is definite: the message belongs here and was already read.
    if (plaintext.status().code() == ErrorCode::kDuplicateMessage) return plaintext.status();
    first_error = plaintext.status();
  }
  for (std::size_t i = 0; i < record.previous_states().size(); ++i) {
    SessionState attempt = record.previous_states()[i].clone();
    Result<SecretBytes> plaintext = decrypt_with_state(attempt, message);
    if (plaintext.ok()) {
      record.previous_states()[i] = std::move(attempt);
      record.promote_previous(i);
      return plaintext;
    }
    if (plaintext.status().code() == ErrorCode::kDuplicateMessage) return plaintext.status();
    if (!first_error) first_error = plaintext.status();
  }
  if (!first_error) return Status::error(ErrorCode::kNoSession, "no session with this device");
  return *first_error;
}

}  // namespace

Result<CiphertextMessage> SessionCipher::encrypt(ByteView plaintext) {
  PARLEY_ASSIGN_OR_RETURN(std::optional<SessionRecord> record,
                          stores_.sessions.load_session(remote_));
  if (!record || !record->has_current_state()) {
    return Status::error(ErrorCode::kNoSession, "no session with this device");
  }
  SessionState& state = *record->current_state();
  if (!state.sender_ratchet) {
    return Status::error(ErrorCode::kNoSession, "session has no sending ratchet");
  }
  PARLEY_ASSIGN_OR_RETURN(bool trusted, stores_.identities.is_trusted_identity(
                                            remote_, state.remote_identity, Direction::kSending));
  if (!trusted) return Status::error(ErrorCode::kUntrustedIdentity, "identity key changed");

  SecretBytes seed = detail::chain_message_seed(state.sender_chain);
  PARLEY_ASSIGN_OR_RETURN(detail::MessageKeys keys, detail::message_keys(seed.view()));
  PARLEY_ASSIGN_OR_RETURN(Bytes ciphertext,
                          aes256_cbc_encrypt(keys.cipher_key.view(), keys.iv.view(), plaintext));
  PARLEY_ASSIGN_OR_RETURN(
      SignalMessage message,
      SignalMessage::create(state.sender_ratchet->public_key, state.sender_chain.index,
                            state.previous_counter, std::move(ciphertext), keys.mac_key.view(),
                            state.local_identity, state.remote_identity));
  CiphertextMessage out;
  if (state.pending_pre_key) {
    const PendingPreKey& pending = *state.pending_pre_key;
    PARLEY_ASSIGN_OR_RETURN(
        PreKeySignalMessage pre_key_message,
        PreKeySignalMessage::create(state.local_registration_id, pending.pre_key_id,
                                    pending.signed_pre_key_id, pending.base_key,
                                    state.local_identity, std::move(message)));
    out = {MessageType::kPreKey, pre_key_message.serialize()};
  } else {
    out = {MessageType::kSignal, message.serialize()};
  }
  state.sender_chain = detail::chain_next(state.sender_chain);
  PARLEY_RETURN_IF_ERROR(stores_.identities.save_identity(remote_, state.remote_identity));
  PARLEY_RETURN_IF_ERROR(stores_.sessions.store_session(remote_, *record));
  return out;
}

Result<SecretBytes> SessionCipher::decrypt(const PreKeySignalMessage& message) {
  PARLEY_ASSIGN_OR_RETURN(std::optional<SessionRecord> loaded,
                          stores_.sessions.load_session(remote_));
  SessionRecord record = loaded ? std::move(*loaded) : SessionRecord();
  SessionBuilder builder(stores_, remote_);
  PARLEY_ASSIGN_OR_RETURN(std::optional<std::uint32_t> used_pre_key,
                          builder.process(record, message));
  PARLEY_ASSIGN_OR_RETURN(SecretBytes plaintext, decrypt_with_record(record, message.message()));
  PARLEY_RETURN_IF_ERROR(stores_.identities.save_identity(remote_, message.identity_key()));
  PARLEY_RETURN_IF_ERROR(stores_.sessions.store_session(remote_, record));
  // One-time prekeys are single use: forget it once the session it made is stored.
  if (used_pre_key) PARLEY_RETURN_IF_ERROR(stores_.pre_keys.remove_pre_key(*used_pre_key));
  return plaintext;
}

Result<SecretBytes> SessionCipher::decrypt(const SignalMessage& message) {
  PARLEY_ASSIGN_OR_RETURN(std::optional<SessionRecord> loaded,
                          stores_.sessions.load_session(remote_));
  if (!loaded) return Status::error(ErrorCode::kNoSession, "no session with this device");
  SessionRecord record = std::move(*loaded);
  PARLEY_ASSIGN_OR_RETURN(SecretBytes plaintext, decrypt_with_record(record, message));
  const PublicKey remote_identity = record.current_state()->remote_identity;
  PARLEY_ASSIGN_OR_RETURN(bool trusted, stores_.identities.is_trusted_identity(
                                            remote_, remote_identity, Direction::kReceiving));
  if (!trusted) return Status::error(ErrorCode::kUntrustedIdentity, "identity key changed");
  PARLEY_RETURN_IF_ERROR(stores_.identities.save_identity(remote_, remote_identity));
  PARLEY_RETURN_IF_ERROR(stores_.sessions.store_session(remote_, record));
  return plaintext;
}

Result<SecretBytes> SessionCipher::decrypt(MessageType type, ByteView serialized) {
  switch (type) {
    case MessageType::kSignal: {
      PARLEY_ASSIGN_OR_RETURN(SignalMessage message, SignalMessage::parse(serialized));
      return decrypt(message);
    }
    case MessageType::kPreKey: {
      PARLEY_ASSIGN_OR_RETURN(PreKeySignalMessage message, PreKeySignalMessage::parse(serialized));
      return decrypt(message);
    }
    default:
      return Status::error(ErrorCode::kInvalidArgument, "not a pairwise message type");
  }
}

Result<std::uint32_t> SessionCipher::remote_registration_id() {
  PARLEY_ASSIGN_OR_RETURN(std::optional<SessionRecord> record,
                          stores_.sessions.load_session(remote_));
  if (!record || !record->has_current_state()) {
    return Status::error(ErrorCode::kNoSession, "no session with this device");
  }
  return record->current_state()->remote_registration_id;
}

}  // namespace parley::crypto
