// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Helpers shared by the storage-record codecs.

#include <string>

#include "parley/crypto/keys.h"
#include "parley/crypto/session_record.h"
#include "parley/util/bytes.h"
#include "parley/util/secret_bytes.h"
#include "parley/util/status.h"
#include "storage.pb.h"

namespace parley::crypto::detail {

inline constexpr std::uint32_t kStorageFormatVersion = 1;

inline Status corrupt(const char* what) {
  return Status::error(ErrorCode::kStorageCorrupt, what);
}

inline std::string str(ByteView bytes) {
  return std::string(as_string_view(bytes));
}

inline Result<PublicKey> read_public(const std::string& field, const char* what) {
  Result<PublicKey> key = PublicKey::parse(as_bytes(field));
  if (!key.ok()) return corrupt(what);
  return key;
}

inline Result<PrivateKey> read_private(const std::string& field, const char* what) {
  Result<PrivateKey> key = PrivateKey::parse(as_bytes(field));
  if (!key.ok()) return corrupt(what);
  return key;
}

inline Result<SecretBytes> read_key32(const std::string& field, const char* what) {
  if (field.size() != 32) return corrupt(what);
  return SecretBytes(as_bytes(field));
}

inline void wipe(std::string* s) {
  if (!s->empty()) secure_wipe(s->data(), s->size());
}

// Protobuf keeps field values in plain std::strings; these overwrite every secret field before
// the message is destroyed, so no key material is left behind in freed memory.
inline void wipe_secrets(storage::Chain* chain) {
  wipe(chain->mutable_key());
}

inline void wipe_secrets(google::protobuf::RepeatedPtrField<storage::SkippedKey>* skipped) {
  for (storage::SkippedKey& k : *skipped) wipe(k.mutable_seed());
}

inline void wipe_secrets(storage::SessionState* s) {
  wipe(s->mutable_root_key());
  wipe(s->mutable_sender_ratchet_private());
  if (s->has_sender_chain()) wipe_secrets(s->mutable_sender_chain());
  for (storage::ReceiverChain& c : *s->mutable_receiver_chains()) {
    if (c.has_chain()) wipe_secrets(c.mutable_chain());
    wipe_secrets(c.mutable_skipped());
  }
}

inline void wipe_secrets(storage::SessionRecord* r) {
  if (r->has_current()) wipe_secrets(r->mutable_current());
  for (storage::SessionState& s : *r->mutable_previous()) wipe_secrets(&s);
}

inline void wipe_secrets(storage::SenderKeyRecord* r) {
  for (storage::SenderKeyState& s : *r->mutable_states()) {
    if (s.has_chain()) wipe_secrets(s.mutable_chain());
    wipe(s.mutable_signing_private());
    wipe_secrets(s.mutable_skipped());
  }
}

inline void wipe_secrets(storage::PreKeyRecord* r) {
  wipe(r->mutable_private_key());
}

inline void wipe_secrets(storage::SignedPreKeyRecord* r) {
  wipe(r->mutable_private_key());
}

// A storage protobuf whose secret fields are wiped when it goes out of scope.
template <typename Proto>
struct WipedProto {
  WipedProto() = default;
  WipedProto(const WipedProto&) = delete;
  WipedProto& operator=(const WipedProto&) = delete;
  ~WipedProto() { wipe_secrets(&proto); }
  Proto proto;
};

inline void write_chain(const ChainKey& chain, storage::Chain* out) {
  out->set_key(str(chain.key.view()));
  out->set_index(chain.index);
}

inline Result<ChainKey> read_chain(const storage::Chain& in) {
  PARLEY_ASSIGN_OR_RETURN(SecretBytes key, read_key32(in.key(), "bad chain key"));
  return ChainKey{std::move(key), in.index()};
}

// Serializes and copies into wiping memory; the protobuf's own std::string is wiped as well.
template <typename Proto>
SecretBytes to_secret(const Proto& proto) {
  std::string out;
  proto.SerializeToString(&out);
  SecretBytes bytes(as_bytes(out));
  secure_wipe(out.data(), out.size());
  return bytes;
}

}  // namespace parley::crypto::detail
