// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Sender Key group messages (libsignal v3 compatible):
//   chain step:   seed = HMAC(CK, 0x01), CK' = HMAC(CK, 0x02)
//   message keys: iv(16) || cipher(32) = HKDF(seed, salt zeros, "WhisperGroup", 48)
//   body:         AES-256-CBC/PKCS#7, the SenderKeyMessage signed with the sender's signing key
//
// Errors: kNoSession (no state for the key id), kBadSignature, kDuplicateMessage,
// kTooManySkipped, kDecryptFailed. A failed decrypt leaves the stored record unchanged.

#include "parley/crypto/address.h"
#include "parley/crypto/messages.h"
#include "parley/crypto/stores.h"
#include "parley/util/secret_bytes.h"
#include "parley/util/status.h"

namespace parley::crypto {

class GroupCipher {
 public:
  GroupCipher(SenderKeyStore& store, SenderKeyName name) : store_(store), name_(std::move(name)) {}

  Result<SenderKeyMessage> encrypt(ByteView plaintext);
  Result<SecretBytes> decrypt(const SenderKeyMessage& message);
  // Parses and decrypts.
  Result<SecretBytes> decrypt(ByteView serialized);

 private:
  SenderKeyStore& store_;
  SenderKeyName name_;
};

}  // namespace parley::crypto
