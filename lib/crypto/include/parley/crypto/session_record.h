// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Double Ratchet session state with one remote device, and the record that keeps the current
// state plus archived earlier ones (tried when a message does not decrypt with the current one).
// Records serialize to Parley's own protobuf schema for storage.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "parley/crypto/keys.h"
#include "parley/util/bytes.h"
#include "parley/util/secret_bytes.h"
#include "parley/util/status.h"

namespace parley::crypto {

inline constexpr std::size_t kMaxReceiverChains = 5;
inline constexpr std::size_t kMaxArchivedStates = 40;
// Per receiving chain: how far ahead a message may be, and how many skipped keys are kept.
inline constexpr std::uint32_t kMaxSkippedMessages = 2000;

struct ChainKey {
  SecretBytes key;  // 32 bytes
  std::uint32_t index = 0;

  ChainKey clone() const { return {key.clone(), index}; }
};

// A skipped message's key seed (HMAC(CK, 0x01)) kept until that message arrives.
struct SkippedKey {
  std::uint32_t counter = 0;
  SecretBytes seed;
};

struct ReceiverChain {
  PublicKey sender_ratchet_key;
  ChainKey chain_key;
  std::deque<SkippedKey> skipped;  // oldest first
};

// Set on the initiator until the first reply arrives: every message goes out as a
// PreKeySignalMessage carrying these.
struct PendingPreKey {
  std::optional<std::uint32_t> pre_key_id;
  std::uint32_t signed_pre_key_id = 0;
  PublicKey base_key;
};

struct SessionState {
  std::uint32_t session_version = 3;
  PublicKey local_identity;
  PublicKey remote_identity;
  std::uint32_t local_registration_id = 0;
  std::uint32_t remote_registration_id = 0;
  PublicKey alice_base_key;  // identifies the X3DH run that created this state

  SecretBytes root_key;  // 32 bytes
  std::uint32_t previous_counter = 0;
  std::optional<KeyPair> sender_ratchet;
  ChainKey sender_chain;
  std::vector<ReceiverChain> receiver_chains;  // newest first, at most kMaxReceiverChains
  std::optional<PendingPreKey> pending_pre_key;

  SessionState clone() const;
};

class SessionRecord {
 public:
  SessionRecord() = default;

  static Result<SessionRecord> parse(ByteView serialized);
  SecretBytes serialize() const;
  SessionRecord clone() const;

  bool has_current_state() const { return current_.has_value(); }
  SessionState* current_state() { return current_ ? &*current_ : nullptr; }
  const SessionState* current_state() const { return current_ ? &*current_ : nullptr; }
  std::vector<SessionState>& previous_states() { return previous_; }
  const std::vector<SessionState>& previous_states() const { return previous_; }

  // Moves the current state (if any) to the front of the archive and drops the oldest beyond
  // kMaxArchivedStates.
  void archive_current_state();
  // Makes `state` current, archiving the old current state.
  void promote_state(SessionState state);
  // Makes previous_states()[index] current, archiving the old current state.
  void promote_previous(std::size_t index);

  // True if the current or an archived state was created by X3DH with this base key.
  bool has_session_with_base_key(const PublicKey& alice_base_key) const;

 private:
  std::optional<SessionState> current_;
  std::vector<SessionState> previous_;  // newest first
};

}  // namespace parley::crypto
