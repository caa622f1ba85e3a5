// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Prekeys a device publishes so others can start sessions while it is offline, and the bundle a
// sender fetches. Records serialize for storage (Parley's own schema).

#include <cstdint>
#include <optional>

#include "parley/crypto/keys.h"
#include "parley/util/bytes.h"
#include "parley/util/status.h"

namespace parley::crypto {

struct PreKeyRecord {
  std::uint32_t id = 0;
  KeyPair key_pair;

  static PreKeyRecord generate(std::uint32_t id);
  static Result<PreKeyRecord> parse(ByteView serialized);
  SecretBytes serialize() const;
  PreKeyRecord clone() const { return {id, key_pair.clone()}; }
};

struct SignedPreKeyRecord {
  std::uint32_t id = 0;
  KeyPair key_pair;
  Bytes signature;  // XEdDSA by the identity key over key_pair.public_key.serialize()
  std::uint64_t timestamp_ms = 0;

  static SignedPreKeyRecord generate(std::uint32_t id, const PrivateKey& identity_key,
                                     std::uint64_t timestamp_ms);
  static Result<SignedPreKeyRecord> parse(ByteView serialized);
  SecretBytes serialize() const;
  SignedPreKeyRecord clone() const { return {id, key_pair.clone(), signature, timestamp_ms}; }
};

// What a server hands out for one device of a recipient.
struct PreKeyBundle {
  std::uint32_t registration_id = 0;
  std::uint32_t device_id = 0;
  std::optional<std::uint32_t> pre_key_id;
  std::optional<PublicKey> pre_key;
  std::uint32_t signed_pre_key_id = 0;
  PublicKey signed_pre_key;
  Bytes signed_pre_key_signature;
  PublicKey identity_key;
};

// A random registration id in [1, 16380], as libsignal's keyhelper makes them.
std::uint32_t generate_registration_id();

}  // namespace parley::crypto
