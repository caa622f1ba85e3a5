// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The KDF chains shared by pairwise sessions and sender keys (libsignal v3 derivations).

#include <cstdint>
#include <optional>

#include "parley/crypto/keys.h"
#include "parley/crypto/session_record.h"
#include "parley/util/bytes.h"
#include "parley/util/secret_bytes.h"
#include "parley/util/status.h"

namespace parley::crypto::detail {

inline constexpr std::size_t kChainKeySize = 32;

// HMAC(CK, 0x01): the seed of the message key at ck.index.
SecretBytes chain_message_seed(const ChainKey& ck);
// HMAC(CK, 0x02) at index + 1.
ChainKey chain_next(const ChainKey& ck);

struct MessageKeys {
  SecretBytes cipher_key;  // 32
  SecretBytes mac_key;     // 32
  SecretBytes iv;          // 16
};
// HKDF(seed, zeros, "WhisperMessageKeys", 80) → cipher || mac || iv.
Result<MessageKeys> message_keys(ByteView seed);

struct SenderMessageKeys {
  SecretBytes iv;          // 16
  SecretBytes cipher_key;  // 32
};
// HKDF(seed, zeros, "WhisperGroup", 48) → iv || cipher.
Result<SenderMessageKeys> sender_message_keys(ByteView seed);

struct RootAndChain {
  SecretBytes root_key;
  ChainKey chain;
};
// DH ratchet step: HKDF(DH(our, their), root, "WhisperRatchet", 64) → root' || chain.
Result<RootAndChain> root_step(ByteView root_key, const PublicKey& their_ratchet,
                               const PrivateKey& our_ratchet);

// X3DH for the initiator ("Alice"): fills a fresh state whose sending chain is ready.
Result<SessionState> alice_initialize(const KeyPair& our_identity, const KeyPair& our_base,
                                      const PublicKey& their_identity,
                                      const PublicKey& their_signed_pre_key,
                                      const std::optional<PublicKey>& their_one_time_pre_key);

// X3DH for the responder ("Bob").
Result<SessionState> bob_initialize(const KeyPair& our_identity, const KeyPair& our_signed_pre_key,
                                    const std::optional<KeyPair>& our_one_time_pre_key,
                                    const PublicKey& their_identity, const PublicKey& their_base);

// Finds the message key seed for `counter` on `chain`, advancing it and keeping skipped seeds.
// kDuplicateMessage for a counter already used; kTooManySkipped beyond kMaxSkippedMessages.
Result<SecretBytes> take_message_seed(ChainKey& chain, std::deque<SkippedKey>& skipped,
                                      std::uint32_t counter);

}  // namespace parley::crypto::detail
