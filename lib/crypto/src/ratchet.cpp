// SPDX-License-Identifier: AGPL-3.0-or-later
#include "ratchet.h"

#include <algorithm>

#include "parley/crypto/hash.h"

namespace parley::crypto::detail {
namespace {

const std::uint8_t kMessageKeySeed = 0x01;
const std::uint8_t kChainKeySeed = 0x02;

ByteView info(const char* text) {
  return as_bytes(text);
}

}  // namespace

SecretBytes chain_message_seed(const ChainKey& ck) {
  return hmac_sha256(ck.key.view(), ByteView(&kMessageKeySeed, 1));
}

ChainKey chain_next(const ChainKey& ck) {
  return {hmac_sha256(ck.key.view(), ByteView(&kChainKeySeed, 1)), ck.index + 1};
}

Result<MessageKeys> message_keys(ByteView seed) {
  PARLEY_ASSIGN_OR_RETURN(SecretBytes okm, hkdf_sha256(seed, {}, info("WhisperMessageKeys"), 80));
  ByteView v = okm.view();
  return MessageKeys{SecretBytes(v.subspan(0, 32)), SecretBytes(v.subspan(32, 32)),
                     SecretBytes(v.subspan(64, 16))};
}

Result<SenderMessageKeys> sender_message_keys(ByteView seed) {
  PARLEY_ASSIGN_OR_RETURN(SecretBytes okm, hkdf_sha256(seed, {}, info("WhisperGroup"), 48));
  ByteView v = okm.view();
  return SenderMessageKeys{SecretBytes(v.subspan(0, 16)), SecretBytes(v.subspan(16, 32))};
}

Result<RootAndChain> root_step(ByteView root_key, const PublicKey& their_ratchet,
                               const PrivateKey& our_ratchet) {
  PARLEY_ASSIGN_OR_RETURN(SecretBytes shared, our_ratchet.agree(their_ratchet));
  PARLEY_ASSIGN_OR_RETURN(SecretBytes okm,
                          hkdf_sha256(shared.view(), root_key, info("WhisperRatchet"), 64));
  return RootAndChain{SecretBytes(okm.view().first(32)),
                      ChainKey{SecretBytes(okm.view().last(32)), 0}};
}

namespace {

// 0xFF * 32 || DH1 || DH2 || DH3 [|| DH4] → HKDF(salt zeros, "WhisperText") → root || chain.
Result<RootAndChain> derive_from_master(const SecretBytes& master) {
  static const std::array<std::uint8_t, 32> kZeroSalt{};
  PARLEY_ASSIGN_OR_RETURN(SecretBytes okm,
                          hkdf_sha256(master.view(), kZeroSalt, info("WhisperText"), 64));
  return RootAndChain{SecretBytes(okm.view().first(32)),
                      ChainKey{SecretBytes(okm.view().last(32)), 0}};
}

Status add_agreement(SecretBytes& master, const PrivateKey& ours, const PublicKey& theirs) {
  PARLEY_ASSIGN_OR_RETURN(SecretBytes shared, ours.agree(theirs));
  master.append(shared.view());
  return Status();
}

SecretBytes discontinuity() {
  SecretBytes master;
  const Bytes ff(32, 0xFF);
  master.append(ff);
  return master;
}

}  // namespace

Result<SessionState> alice_initialize(const KeyPair& our_identity, const KeyPair& our_base,
                                      const PublicKey& their_identity,
                                      const PublicKey& their_signed_pre_key,
                                      const std::optional<PublicKey>& their_one_time_pre_key) {
  SecretBytes master = discontinuity();
  PARLEY_RETURN_IF_ERROR(add_agreement(master, our_identity.private_key, their_signed_pre_key));
  PARLEY_RETURN_IF_ERROR(add_agreement(master, our_base.private_key, their_identity));
  PARLEY_RETURN_IF_ERROR(add_agreement(master, our_base.private_key, their_signed_pre_key));
  if (their_one_time_pre_key) {
    PARLEY_RETURN_IF_ERROR(add_agreement(master, our_base.private_key, *their_one_time_pre_key));
  }
  PARLEY_ASSIGN_OR_RETURN(RootAndChain derived, derive_from_master(master));

  // The responder's signed prekey is its first ratchet key: step once to get a sending chain.
  KeyPair sending = KeyPair::generate();
  PARLEY_ASSIGN_OR_RETURN(
      RootAndChain sending_chain,
      root_step(derived.root_key.view(), their_signed_pre_key, sending.private_key));
  SessionState state;
  state.local_identity = our_identity.public_key;
  state.remote_identity = their_identity;
  state.receiver_chains.push_back(
      ReceiverChain{their_signed_pre_key, std::move(derived.chain), {}});
  state.sender_ratchet = std::move(sending);
  state.sender_chain = std::move(sending_chain.chain);
  state.root_key = std::move(sending_chain.root_key);
  return state;
}

Result<SessionState> bob_initialize(const KeyPair& our_identity, const KeyPair& our_signed_pre_key,
                                    const std::optional<KeyPair>& our_one_time_pre_key,
                                    const PublicKey& their_identity, const PublicKey& their_base) {
  SecretBytes master = discontinuity();
  PARLEY_RETURN_IF_ERROR(add_agreement(master, our_signed_pre_key.private_key, their_identity));
  PARLEY_RETURN_IF_ERROR(add_agreement(master, our_identity.private_key, their_base));
  PARLEY_RETURN_IF_ERROR(add_agreement(master, our_signed_pre_key.private_key, their_base));
  if (our_one_time_pre_key) {
    PARLEY_RETURN_IF_ERROR(add_agreement(master, our_one_time_pre_key->private_key, their_base));
  }
  PARLEY_ASSIGN_OR_RETURN(RootAndChain derived, derive_from_master(master));

  SessionState state;
  state.local_identity = our_identity.public_key;
  state.remote_identity = their_identity;
  state.sender_ratchet = our_signed_pre_key.clone();
  state.sender_chain = std::move(derived.chain);
  state.root_key = std::move(derived.root_key);
  return state;
}

Result<SecretBytes> take_message_seed(ChainKey& chain, std::deque<SkippedKey>& skipped,
                                      std::uint32_t counter) {
  if (chain.index > counter) {
    auto it = std::find_if(skipped.begin(), skipped.end(),
                           [counter](const SkippedKey& k) { return k.counter == counter; });
    if (it == skipped.end()) {
      return Status::error(ErrorCode::kDuplicateMessage, "message counter already used");
    }
    SecretBytes seed = std::move(it->seed);
    skipped.erase(it);
    return seed;
  }
  if (counter - chain.index > kMaxSkippedMessages) {
    return Status::error(ErrorCode::kTooManySkipped, "message is too far ahead in its chain");
  }
  while (chain.index < counter) {
    skipped.push_back(SkippedKey{chain.index, chain_message_seed(chain)});
    if (skipped.size() > kMaxSkippedMessages) skipped.pop_front();
    chain = chain_next(chain);
  }
  SecretBytes seed = chain_message_seed(chain);
  chain = chain_next(chain);
  return seed;
}

}  // namespace parley::crypto::detail
