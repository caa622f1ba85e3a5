// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// In-memory stores for tests and tools. Records are kept serialized, so every load exercises the
// same parse path a persistent store would.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "parley/crypto/stores.h"
#include "parley/util/secret_bytes.h"

namespace parley::crypto {

// Trust on first use: an address's first key is trusted; a different key later is not, until
// save_identity() records it.
class InMemoryIdentityKeyStore final : public IdentityKeyStore {
 public:
  InMemoryIdentityKeyStore(KeyPair identity, std::uint32_t registration_id)
      : identity_(std::move(identity)), registration_id_(registration_id) {}

  Result<KeyPair> identity_key_pair() override { return identity_.clone(); }
  Result<std::uint32_t> local_registration_id() override { return registration_id_; }
  Status save_identity(const ProtocolAddress& address, const PublicKey& identity) override;
  Result<bool> is_trusted_identity(const ProtocolAddress& address, const PublicKey& identity,
                                   Direction direction) override;
  Result<std::optional<PublicKey>> identity(const ProtocolAddress& address) override;

 private:
  KeyPair identity_;
  std::uint32_t registration_id_;
  std::map<ProtocolAddress, PublicKey> known_;
};

class InMemoryPreKeyStore final : public PreKeyStore {
 public:
  Result<PreKeyRecord> load_pre_key(std::uint32_t id) override;
  Status store_pre_key(const PreKeyRecord& record) override;
  Result<bool> contains_pre_key(std::uint32_t id) override;
  Status remove_pre_key(std::uint32_t id) override;

 private:
  std::map<std::uint32_t, SecretBytes> records_;
};

class InMemorySignedPreKeyStore final : public SignedPreKeyStore {
 public:
  Result<SignedPreKeyRecord> load_signed_pre_key(std::uint32_t id) override;
  Status store_signed_pre_key(const SignedPreKeyRecord& record) override;
  Result<bool> contains_signed_pre_key(std::uint32_t id) override;
  Status remove_signed_pre_key(std::uint32_t id) override;

 private:
  std::map<std::uint32_t, SecretBytes> records_;
};

class InMemorySessionStore final : public SessionStore {
 public:
  Result<std::optional<SessionRecord>> load_session(const ProtocolAddress& address) override;
  Status store_session(const ProtocolAddress& address, const SessionRecord& record) override;
  Result<bool> contains_session(const ProtocolAddress& address) override;
  Status delete_session(const ProtocolAddress& address) override;
  Result<std::vector<std::uint32_t>> device_ids(const std::string& name) override;

 private:
  std::map<ProtocolAddress, SecretBytes> records_;
};

class InMemorySenderKeyStore final : public SenderKeyStore {
 public:
  Status store_sender_key(const SenderKeyName& name, const SenderKeyRecord& record) override;
  Result<std::optional<SenderKeyRecord>> load_sender_key(const SenderKeyName& name) override;

 private:
  std::map<SenderKeyName, SecretBytes> records_;
};

// Everything one party needs, wired together.
struct InMemoryProtocolStore {
  InMemoryProtocolStore(KeyPair identity, std::uint32_t registration_id)
      : identities(std::move(identity), registration_id) {}

  ProtocolStores stores() { return {sessions, pre_keys, signed_pre_keys, identities}; }

  InMemorySessionStore sessions;
  InMemoryPreKeyStore pre_keys;
  InMemorySignedPreKeyStore signed_pre_keys;
  InMemoryIdentityKeyStore identities;
  InMemorySenderKeyStore sender_keys;
};

}  // namespace parley::crypto
