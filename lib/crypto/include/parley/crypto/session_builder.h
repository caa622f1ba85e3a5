// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Starts a pairwise session with X3DH, exactly as libsignal's ratcheting session does it:
//   master = 0xFF*32 || DH(IKa, SPKb) || DH(EKa, IKb) || DH(EKa, SPKb) [|| DH(EKa, OPKb)]
//   root key || chain key = HKDF-SHA256(master, salt 32 zero bytes, "WhisperText", 64)

#include <optional>

#include "parley/crypto/address.h"
#include "parley/crypto/messages.h"
#include "parley/crypto/prekeys.h"
#include "parley/crypto/stores.h"
#include "parley/util/status.h"

namespace parley::crypto {

class SessionBuilder {
 public:
  SessionBuilder(ProtocolStores stores, ProtocolAddress remote)
      : stores_(stores), remote_(std::move(remote)) {}

  // Initiator side: checks the signed prekey signature (kBadSignature) and the identity's trust
  // (kUntrustedIdentity), then stores a new session whose messages go out as
  // PreKeySignalMessages until the peer replies.
  Status process(const PreKeyBundle& bundle);

  // Responder side, used by SessionCipher: builds the session state for an incoming
  // PreKeySignalMessage into `record`. Returns the one-time prekey id to delete once the message
  // decrypted, or nullopt (no prekey, or this base key was already processed).
  Result<std::optional<std::uint32_t>> process(SessionRecord& record,
                                               const PreKeySignalMessage& message);

 private:
  ProtocolStores stores_;
  ProtocolAddress remote_;
};

}  // namespace parley::crypto
