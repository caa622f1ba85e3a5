// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/crypto/prekeys.h"

#include "parley/crypto/random.h"
#include "parley/crypto/xeddsa.h"
#include "storage_util.h"

namespace parley::crypto {

using detail::str;

PreKeyRecord PreKeyRecord::generate(std::uint32_t id) {
  return {id, KeyPair::generate()};
}

SecretBytes PreKeyRecord::serialize() const {
  detail::WipedProto<storage::PreKeyRecord> wiped;
  storage::PreKeyRecord& proto = wiped.proto;
  proto.set_id(id);
  proto.set_public_key(str(key_pair.public_key.serialize()));
  proto.set_private_key(str(key_pair.private_key.serialize().view()));
  return detail::to_secret(proto);
}

Result<PreKeyRecord> PreKeyRecord::parse(ByteView serialized) {
  detail::WipedProto<storage::PreKeyRecord> wiped;
  storage::PreKeyRecord& proto = wiped.proto;
  if (!proto.ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
    return detail::corrupt("prekey record is not valid protobuf");
  }
  PARLEY_ASSIGN_OR_RETURN(PrivateKey priv, detail::read_private(proto.private_key(), "bad key"));
  KeyPair pair = KeyPair::from_private(std::move(priv));
  if (proto.has_public_key() && str(pair.public_key.serialize()) != proto.public_key()) {
    return detail::corrupt("prekey public key does not match");
  }
  return PreKeyRecord{proto.id(), std::move(pair)};
}

SignedPreKeyRecord SignedPreKeyRecord::generate(std::uint32_t id, const PrivateKey& identity_key,
                                                std::uint64_t timestamp_ms) {
  KeyPair pair = KeyPair::generate();
  Bytes signature = xeddsa_sign(identity_key, pair.public_key.serialize());
  return {id, std::move(pair), std::move(signature), timestamp_ms};
}

SecretBytes SignedPreKeyRecord::serialize() const {
  detail::WipedProto<storage::SignedPreKeyRecord> wiped;
  storage::SignedPreKeyRecord& proto = wiped.proto;
  proto.set_id(id);
  proto.set_public_key(str(key_pair.public_key.serialize()));
  proto.set_private_key(str(key_pair.private_key.serialize().view()));
  proto.set_signature(str(signature));
  proto.set_timestamp_ms(timestamp_ms);
  return detail::to_secret(proto);
}

Result<SignedPreKeyRecord> SignedPreKeyRecord::parse(ByteView serialized) {
  detail::WipedProto<storage::SignedPreKeyRecord> wiped;
  storage::SignedPreKeyRecord& proto = wiped.proto;
  if (!proto.ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
    return detail::corrupt("signed prekey record is not valid protobuf");
  }
  PARLEY_ASSIGN_OR_RETURN(PrivateKey priv, detail::read_private(proto.private_key(), "bad key"));
  KeyPair pair = KeyPair::from_private(std::move(priv));
  if (proto.has_public_key() && str(pair.public_key.serialize()) != proto.public_key()) {
    return detail::corrupt("signed prekey public key does not match");
  }
  Bytes signature(proto.signature().begin(), proto.signature().end());
  return SignedPreKeyRecord{proto.id(), std::move(pair), std::move(signature),
                            proto.timestamp_ms()};
}

std::uint32_t generate_registration_id() {
  return random_uint32() % 16380 + 1;
}

}  // namespace parley::crypto
