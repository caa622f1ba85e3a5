// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Two in-memory parties for session tests.

#include <string>

#include "parley/crypto/in_memory_stores.h"
#include "parley/crypto/prekeys.h"
#include "parley/crypto/session_builder.h"
#include "parley/crypto/session_cipher.h"

namespace parley::crypto::testing {

struct Party {
  explicit Party(std::string name, std::uint32_t device = 1)
      : address{std::move(name), device}, store(KeyPair::generate(), generate_registration_id()) {}

  // Publishes a signed prekey (id 1) and, if asked, one-time prekey `pre_key_id`.
  PreKeyBundle bundle(bool with_one_time, std::uint32_t pre_key_id = 31) {
    KeyPair identity = *store.identities.identity_key_pair();
    SignedPreKeyRecord signed_pre_key = SignedPreKeyRecord::generate(1, identity.private_key, 0);
    (void)store.signed_pre_keys.store_signed_pre_key(signed_pre_key);
    PreKeyBundle b;
    b.registration_id = *store.identities.local_registration_id();
    b.device_id = address.device_id;
    b.signed_pre_key_id = signed_pre_key.id;
    b.signed_pre_key = signed_pre_key.key_pair.public_key;
    b.signed_pre_key_signature = signed_pre_key.signature;
    b.identity_key = identity.public_key;
    if (with_one_time) {
      PreKeyRecord pre_key = PreKeyRecord::generate(pre_key_id);
      (void)store.pre_keys.store_pre_key(pre_key);
      b.pre_key_id = pre_key.id;
      b.pre_key = pre_key.key_pair.public_key;
    }
    return b;
  }

  SessionCipher cipher_for(const Party& other) {
    return SessionCipher(store.stores(), other.address);
  }
  SessionBuilder builder_for(const Party& other) {
    return SessionBuilder(store.stores(), other.address);
  }

  ProtocolAddress address;
  InMemoryProtocolStore store;
};

}  // namespace parley::crypto::testing
