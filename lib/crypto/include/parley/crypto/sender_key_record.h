// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Sender Key state for group messages: one sender's hash chain and signing key, as sent in a
// SenderKeyDistributionMessage. A record keeps the newest few states (a sender may rotate keys).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "parley/crypto/keys.h"
#include "parley/crypto/session_record.h"
#include "parley/util/bytes.h"
#include "parley/util/secret_bytes.h"
#include "parley/util/status.h"

namespace parley::crypto {

inline constexpr std::size_t kMaxSenderKeyStates = 5;

struct SenderKeyState {
  std::uint32_t key_id = 0;
  ChainKey chain_key;  // index = iteration
  PublicKey signing_public;
  std::optional<PrivateKey> signing_private;  // only on the sending side
  std::deque<SkippedKey> skipped;             // oldest first, at most kMaxSkippedMessages

  SenderKeyState clone() const;
};

class SenderKeyRecord {
 public:
  SenderKeyRecord() = default;

  static Result<SenderKeyRecord> parse(ByteView serialized);
  SecretBytes serialize() const;
  SenderKeyRecord clone() const;

  bool empty() const { return states_.empty(); }
  // The newest state, or nullptr.
  SenderKeyState* newest_state() { return states_.empty() ? nullptr : &states_.front(); }
  SenderKeyState* state_for_key_id(std::uint32_t key_id);
  // Adds a state in front; drops the oldest beyond kMaxSenderKeyStates.
  void add_state(SenderKeyState state);
  // Replaces all states with `state` (a sender starting a new chain).
  void set_state(SenderKeyState state);

 private:
  std::vector<SenderKeyState> states_;  // newest first
};

}  // namespace parley::crypto
