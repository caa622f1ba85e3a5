// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Encrypts and decrypts pairwise messages with the Double Ratchet (libsignal v3 compatible):
//   root step:    root' || chain = HKDF(DH, salt root, "WhisperRatchet", 64)
//   chain step:   seed = HMAC(CK, 0x01), CK' = HMAC(CK, 0x02)
//   message keys: cipher(32) || mac(32) || iv(16) = HKDF(seed, salt zeros, "WhisperMessageKeys",
//   80) body:         AES-256-CBC/PKCS#7, MAC over both identities and the serialized message
//
// Errors: kNoSession, kUntrustedIdentity, kDuplicateMessage (a counter already used),
// kTooManySkipped (more than kMaxSkippedMessages ahead), kBadMac / kDecryptFailed (a message no
// known state can open), kNotFound (unknown signed prekey), plus parse errors from messages.h.
// A failed decrypt leaves the stored session unchanged.

#include "parley/crypto/address.h"
#include "parley/crypto/messages.h"
#include "parley/crypto/stores.h"
#include "parley/util/secret_bytes.h"
#include "parley/util/status.h"

namespace parley::crypto {

class SessionCipher {
 public:
  SessionCipher(ProtocolStores stores, ProtocolAddress remote)
      : stores_(stores), remote_(std::move(remote)) {}

  // A kPreKey message until the peer has replied, then kSignal.
  Result<CiphertextMessage> encrypt(ByteView plaintext);

  // Creates the session if needed, decrypts, and consumes the one-time prekey it used.
  Result<SecretBytes> decrypt(const PreKeySignalMessage& message);
  Result<SecretBytes> decrypt(const SignalMessage& message);
  // Parses by type (kSignal or kPreKey) and decrypts.
  Result<SecretBytes> decrypt(MessageType type, ByteView serialized);

  // The remote registration id of the current session (kNoSession without one).
  Result<std::uint32_t> remote_registration_id();

 private:
  ProtocolStores stores_;
  ProtocolAddress remote_;
};

}  // namespace parley::crypto
