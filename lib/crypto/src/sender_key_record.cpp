// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/crypto/sender_key_record.h"

#include <algorithm>

#include "storage_util.h"

namespace parley::crypto {

using detail::str;

SenderKeyState SenderKeyState::clone() const {
  SenderKeyState copy;
  copy.key_id = key_id;
  copy.chain_key = chain_key.clone();
  copy.signing_public = signing_public;
  if (signing_private) copy.signing_private = signing_private->clone();
  for (const SkippedKey& k : skipped) copy.skipped.push_back({k.counter, k.seed.clone()});
  return copy;
}

SenderKeyRecord SenderKeyRecord::clone() const {
  SenderKeyRecord copy;
  for (const SenderKeyState& s : states_) copy.states_.push_back(s.clone());
  return copy;
}

SenderKeyState* SenderKeyRecord::state_for_key_id(std::uint32_t key_id) {
  auto it = std::find_if(states_.begin(), states_.end(),
                         [key_id](const SenderKeyState& s) { return s.key_id == key_id; });
  return it == states_.end() ? nullptr : &*it;
}

void SenderKeyRecord::add_state(SenderKeyState state) {
  states_.insert(states_.begin(), std::move(state));
  if (states_.size() > kMaxSenderKeyStates) states_.resize(kMaxSenderKeyStates);
}

void SenderKeyRecord::set_state(SenderKeyState state) {
  states_.clear();
  states_.push_back(std::move(state));
}

SecretBytes SenderKeyRecord::serialize() const {
  detail::WipedProto<storage::SenderKeyRecord> wiped;
  storage::SenderKeyRecord& proto = wiped.proto;
  proto.set_format_version(detail::kStorageFormatVersion);
  for (const SenderKeyState& s : states_) {
    storage::SenderKeyState* out = proto.add_states();
    out->set_key_id(s.key_id);
    detail::write_chain(s.chain_key, out->mutable_chain());
    out->set_signing_public(str(s.signing_public.serialize()));
    if (s.signing_private) out->set_signing_private(str(s.signing_private->serialize().view()));
    for (const SkippedKey& k : s.skipped) {
      storage::SkippedKey* sk = out->add_skipped();
      sk->set_counter(k.counter);
      sk->set_seed(str(k.seed.view()));
    }
  }
  return detail::to_secret(proto);
}

Result<SenderKeyRecord> SenderKeyRecord::parse(ByteView serialized) {
  detail::WipedProto<storage::SenderKeyRecord> wiped;
  storage::SenderKeyRecord& proto = wiped.proto;
  if (!proto.ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
    return detail::corrupt("sender key record is not valid protobuf");
  }
  if (proto.format_version() != detail::kStorageFormatVersion) {
    return Status::error(ErrorCode::kUnsupportedVersion, "unknown sender key record version");
  }
  if (static_cast<std::size_t>(proto.states_size()) > kMaxSenderKeyStates) {
    return detail::corrupt("too many sender key states");
  }
  SenderKeyRecord record;
  for (const storage::SenderKeyState& in : proto.states()) {
    SenderKeyState s;
    s.key_id = in.key_id();
    PARLEY_ASSIGN_OR_RETURN(s.chain_key, detail::read_chain(in.chain()));
    PARLEY_ASSIGN_OR_RETURN(s.signing_public,
                            detail::read_public(in.signing_public(), "bad signing key"));
    if (in.has_signing_private()) {
      PARLEY_ASSIGN_OR_RETURN(PrivateKey priv,
                              detail::read_private(in.signing_private(), "bad signing key"));
      s.signing_private = std::move(priv);
    }
    if (static_cast<std::size_t>(in.skipped_size()) > kMaxSkippedMessages) {
      return detail::corrupt("too many skipped keys");
    }
    for (const storage::SkippedKey& k : in.skipped()) {
      PARLEY_ASSIGN_OR_RETURN(SecretBytes seed, detail::read_key32(k.seed(), "bad skipped key"));
      s.skipped.push_back(SkippedKey{k.counter(), std::move(seed)});
    }
    record.states_.push_back(std::move(s));
  }
  return record;
}

}  // namespace parley::crypto
