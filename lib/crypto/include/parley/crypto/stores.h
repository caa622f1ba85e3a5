// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// What the protocol needs to remember, as interfaces: the protocol code never touches disk or
// sockets. in_memory_stores.h has implementations for tests and tools; the client layer provides
// encrypted on-disk ones.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "parley/crypto/address.h"
#include "parley/crypto/keys.h"
#include "parley/crypto/prekeys.h"
#include "parley/crypto/sender_key_record.h"
#include "parley/crypto/session_record.h"
#include "parley/util/status.h"

namespace parley::crypto {

enum class Direction { kSending, kReceiving };

class IdentityKeyStore {
 public:
  virtual ~IdentityKeyStore() = default;
  virtual Result<KeyPair> identity_key_pair() = 0;
  virtual Result<std::uint32_t> local_registration_id() = 0;
  // Remembers `identity` as the key of `address` (replacing any earlier one).
  virtual Status save_identity(const ProtocolAddress& address, const PublicKey& identity) = 0;
  // Whether `identity` may be used for `address` in `direction`.
  virtual Result<bool> is_trusted_identity(const ProtocolAddress& address,
                                           const PublicKey& identity, Direction direction) = 0;
  // The saved key of `address`, if any.
  virtual Result<std::optional<PublicKey>> identity(const ProtocolAddress& address) = 0;
};

class PreKeyStore {
 public:
  virtual ~PreKeyStore() = default;
  // kNotFound when absent.
  virtual Result<PreKeyRecord> load_pre_key(std::uint32_t id) = 0;
  virtual Status store_pre_key(const PreKeyRecord& record) = 0;
  virtual Result<bool> contains_pre_key(std::uint32_t id) = 0;
  virtual Status remove_pre_key(std::uint32_t id) = 0;
};

class SignedPreKeyStore {
 public:
  virtual ~SignedPreKeyStore() = default;
  // kNotFound when absent.
  virtual Result<SignedPreKeyRecord> load_signed_pre_key(std::uint32_t id) = 0;
  virtual Status store_signed_pre_key(const SignedPreKeyRecord& record) = 0;
  virtual Result<bool> contains_signed_pre_key(std::uint32_t id) = 0;
  virtual Status remove_signed_pre_key(std::uint32_t id) = 0;
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;
  // nullopt when there is no session with `address`.
  virtual Result<std::optional<SessionRecord>> load_session(const ProtocolAddress& address) = 0;
  virtual Status store_session(const ProtocolAddress& address, const SessionRecord& record) = 0;
  virtual Result<bool> contains_session(const ProtocolAddress& address) = 0;
  virtual Status delete_session(const ProtocolAddress& address) = 0;
  // Device ids that have a session for account `name`, ascending.
  virtual Result<std::vector<std::uint32_t>> device_ids(const std::string& name) = 0;
};

class SenderKeyStore {
 public:
  virtual ~SenderKeyStore() = default;
  virtual Status store_sender_key(const SenderKeyName& name, const SenderKeyRecord& record) = 0;
  // nullopt when absent.
  virtual Result<std::optional<SenderKeyRecord>> load_sender_key(const SenderKeyName& name) = 0;
};

// The stores a pairwise session needs, bundled so constructors stay short.
struct ProtocolStores {
  SessionStore& sessions;
  PreKeyStore& pre_keys;
  SignedPreKeyStore& signed_pre_keys;
  IdentityKeyStore& identities;
};

}  // namespace parley::crypto
