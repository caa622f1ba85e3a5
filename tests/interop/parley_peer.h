// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// ParleyPeer: one device run by parley_crypto with in-memory stores, shaped like LibsignalPeer so
// tests read the same on both sides, plus conversions between Parley's types and the oracle's
// plain bytes.

#include <cstdint>
#include <optional>
#include <string>

#include "conversation.h"
#include "libsignal_peer.h"
#include "parley/crypto/address.h"
#include "parley/crypto/in_memory_stores.h"
#include "parley/crypto/keys.h"
#include "parley/crypto/messages.h"
#include "parley/crypto/prekeys.h"
#include "parley/util/status.h"

namespace parley::interop {

crypto::ProtocolAddress to_parley(const OracleAddress& address);
OracleAddress to_oracle(const crypto::ProtocolAddress& address);
Result<crypto::PreKeyBundle> to_parley(const OracleBundle& bundle);
OracleBundle to_oracle(const crypto::PreKeyBundle& bundle);

class ParleyPeer {
 public:
  explicit ParleyPeer(std::string name, std::uint32_t device_id = 1);
  // A device with a given identity (32-byte private scalar) and registration id.
  ParleyPeer(std::string name, std::uint32_t device_id, crypto::KeyPair identity,
             std::uint32_t registration_id);

  const crypto::ProtocolAddress& address() const { return address_; }
  OracleAddress oracle_address() const { return to_oracle(address_); }
  std::uint32_t registration_id() const { return registration_id_; }
  const crypto::KeyPair& identity() const { return identity_; }
  crypto::InMemoryProtocolStore& store() { return store_; }

  // Generates and stores a signed prekey and optionally a one-time prekey; returns the bundle.
  crypto::PreKeyBundle make_bundle(std::uint32_t signed_pre_key_id,
                                   std::optional<std::uint32_t> one_time_pre_key_id);
  bool has_pre_key(std::uint32_t id);
  bool has_session(const OracleAddress& remote);

  Status process_bundle(const OracleAddress& remote, const crypto::PreKeyBundle& bundle);
  Result<crypto::CiphertextMessage> encrypt(const OracleAddress& remote, ByteView plaintext);
  Result<Bytes> decrypt(const OracleAddress& remote, int type, ByteView bytes);

  // Sender Keys, named like LibsignalPeer's.
  Result<Bytes> sender_key_distribution(const std::string& group_id);
  Status process_sender_key_distribution(const std::string& group_id, const OracleAddress& sender,
                                         ByteView distribution);
  Result<Bytes> group_encrypt(const std::string& group_id, ByteView plaintext);
  Result<Bytes> group_decrypt(const std::string& group_id, const OracleAddress& sender,
                              ByteView bytes);

 private:
  crypto::ProtocolAddress address_;
  crypto::KeyPair identity_;
  std::uint32_t registration_id_;
  crypto::InMemoryProtocolStore store_;
};

// A conversation Endpoint for `peer` talking to `remote`.
Endpoint parley_endpoint(ParleyPeer& peer, const OracleAddress& remote);

}  // namespace parley::interop
