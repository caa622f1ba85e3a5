// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// A fixed, fully deterministic pair of devices (alice → bob) with an established pairwise session
// and a Sender Key chain. Fuzz targets decrypt mutated messages against it, and the seed generator
// encrypts real messages with it, so seeds carry valid MACs and signatures for exactly this state:
// mutations then reach the MAC, decrypt and padding paths, not only the parser.
//
// Every key is derived from a one-byte tag; these are test fixtures, not anyone's keys.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "parley/crypto/address.h"
#include "parley/crypto/in_memory_stores.h"
#include "parley/crypto/keys.h"
#include "parley/crypto/prekeys.h"
#include "parley/crypto/sender_key_record.h"
#include "parley/crypto/session_record.h"

// Reports a broken invariant as a crash, which is what the fuzzer looks for.
#define PARLEY_FUZZ_CHECK(cond)                                                              \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (false)

namespace parley::fuzzing {

inline constexpr std::uint32_t kSignedPreKeyId = 5;
inline constexpr std::uint32_t kOneTimePreKeyId = 7;
inline constexpr std::uint32_t kSenderKeyId = 0x1234;

class FixedWorld {
 public:
  FixedWorld();

  // Fresh stores for each side. `pending_pre_key`: alice has not heard back yet, so her messages
  // go out as PreKeySignalMessages (whose base key bob's session already knows).
  std::unique_ptr<crypto::InMemoryProtocolStore> alice(bool pending_pre_key) const;
  std::unique_ptr<crypto::InMemoryProtocolStore> bob() const;

  const crypto::ProtocolAddress alice_address{"fuzz-alice", 1};
  const crypto::ProtocolAddress bob_address{"fuzz-bob", 1};
  const crypto::SenderKeyName group_sender{"fuzz-group", {"fuzz-alice", 1}};

  const crypto::KeyPair& alice_identity() const { return alice_identity_; }
  const crypto::KeyPair& bob_identity() const { return bob_identity_; }
  const crypto::KeyPair& group_signing() const { return group_signing_; }
  // Bob's published bundle: lets a fresh initiator run a real X3DH against bob's fixed store.
  crypto::PreKeyBundle bob_bundle() const;

 private:
  crypto::SessionState alice_state(bool pending_pre_key) const;
  crypto::SessionState bob_state() const;

  crypto::KeyPair alice_identity_;
  crypto::KeyPair bob_identity_;
  crypto::KeyPair alice_base_;
  crypto::KeyPair alice_ratchet_;
  crypto::KeyPair bob_ratchet_;
  crypto::KeyPair bob_signed_pre_key_;
  crypto::KeyPair bob_one_time_pre_key_;
  crypto::KeyPair group_signing_;
  Bytes bob_signed_pre_key_signature_;
};

// The one FixedWorld of this process (built on first use).
const FixedWorld& fixed_world();

}  // namespace parley::fuzzing
