// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/crypto/group_session_builder.h"

#include "parley/crypto/random.h"
#include "ratchet.h"

namespace parley::crypto {

Status GroupSessionBuilder::process(const SenderKeyName& name,
                                    const SenderKeyDistributionMessage& message) {
  PARLEY_ASSIGN_OR_RETURN(std::optional<SenderKeyRecord> loaded, store_.load_sender_key(name));
  SenderKeyRecord record = loaded ? std::move(*loaded) : SenderKeyRecord();
  // Processing the same distribution message again must not rewind a chain we already advanced
  // (that would let old messages decrypt twice).
  if (SenderKeyState* existing = record.state_for_key_id(message.key_id());
      existing != nullptr && existing->signing_public == message.signing_key()) {
    return Status();
  }
  SenderKeyState state;
  state.key_id = message.key_id();
  state.chain_key = ChainKey{message.chain_key().clone(), message.iteration()};
  state.signing_public = message.signing_key();
  record.add_state(std::move(state));
  return store_.store_sender_key(name, record);
}

Result<SenderKeyDistributionMessage> GroupSessionBuilder::create(const SenderKeyName& name) {
  PARLEY_ASSIGN_OR_RETURN(std::optional<SenderKeyRecord> loaded, store_.load_sender_key(name));
  SenderKeyRecord record = loaded ? std::move(*loaded) : SenderKeyRecord();
  SenderKeyState* state = record.newest_state();
  if (state == nullptr || !state->signing_private) {
    SenderKeyState fresh;
    // libsignal keeps key ids in 31 bits.
    fresh.key_id = random_uint32() & 0x7FFFFFFF;
    fresh.chain_key = ChainKey{random_secret(detail::kChainKeySize), 0};
    KeyPair signing = KeyPair::generate();
    fresh.signing_public = signing.public_key;
    fresh.signing_private = std::move(signing.private_key);
    record.set_state(std::move(fresh));
    PARLEY_RETURN_IF_ERROR(store_.store_sender_key(name, record));
    state = record.newest_state();
  }
  return SenderKeyDistributionMessage::create(state->key_id, state->chain_key.index,
                                              state->chain_key.key.view(), state->signing_public);
}

}  // namespace parley::crypto
