// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/crypto/group_cipher.h"

#include "parley/crypto/aes_cbc.h"
#include "ratchet.h"

namespace parley::crypto {

Result<SenderKeyMessage> GroupCipher::encrypt(ByteView plaintext) {
  PARLEY_ASSIGN_OR_RETURN(std::optional<SenderKeyRecord> record, store_.load_sender_key(name_));
  SenderKeyState* state = record ? record->newest_state() : nullptr;
  if (state == nullptr || !state->signing_private) {
    return Status::error(ErrorCode::kNoSession, "no sending sender key for this group");
  }
  SecretBytes seed = detail::chain_message_seed(state->chain_key);
  PARLEY_ASSIGN_OR_RETURN(detail::SenderMessageKeys keys, detail::sender_message_keys(seed.view()));
  PARLEY_ASSIGN_OR_RETURN(Bytes ciphertext,
                          aes256_cbc_encrypt(keys.cipher_key.view(), keys.iv.view(), plaintext));
  PARLEY_ASSIGN_OR_RETURN(SenderKeyMessage message,
                          SenderKeyMessage::create(state->key_id, state->chain_key.index,
                                                   std::move(ciphertext), *state->signing_private));
  state->chain_key = detail::chain_next(state->chain_key);
  PARLEY_RETURN_IF_ERROR(store_.store_sender_key(name_, *record));
  return message;
}

Result<SecretBytes> GroupCipher::decrypt(const SenderKeyMessage& message) {
  PARLEY_ASSIGN_OR_RETURN(std::optional<SenderKeyRecord> record, store_.load_sender_key(name_));
  SenderKeyState* stored = record ? record->state_for_key_id(message.key_id()) : nullptr;
  if (stored == nullptr) {
    return Status::error(ErrorCode::kNoSession, "no sender key with this id");
  }
  PARLEY_RETURN_IF_ERROR(message.verify_signature(stored->signing_public));

  SenderKeyState state = stored->clone();
  PARLEY_ASSIGN_OR_RETURN(
      SecretBytes seed,
      detail::take_message_seed(state.chain_key, state.skipped, message.iteration()));
  PARLEY_ASSIGN_OR_RETURN(detail::SenderMessageKeys keys, detail::sender_message_keys(seed.view()));
  PARLEY_ASSIGN_OR_RETURN(
      SecretBytes plaintext,
      aes256_cbc_decrypt(keys.cipher_key.view(), keys.iv.view(), message.ciphertext()));
  *stored = std::move(state);
  PARLEY_RETURN_IF_ERROR(store_.store_sender_key(name_, *record));
  return plaintext;
}

Result<SecretBytes> GroupCipher::decrypt(ByteView serialized) {
  PARLEY_ASSIGN_OR_RETURN(SenderKeyMessage message, SenderKeyMessage::parse(serialized));
  return decrypt(message);
}

}  // namespace parley::crypto
