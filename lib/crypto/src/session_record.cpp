// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/crypto/session_record.h"

#include "storage_util.h"

namespace parley::crypto {

using detail::read_chain;
using detail::read_public;
using detail::str;

SessionState SessionState::clone() const {
  SessionState copy;
  copy.session_version = session_version;
  copy.local_identity = local_identity;
  copy.remote_identity = remote_identity;
  copy.local_registration_id = local_registration_id;
  copy.remote_registration_id = remote_registration_id;
  copy.alice_base_key = alice_base_key;
  copy.root_key = root_key.clone();
  copy.previous_counter = previous_counter;
  if (sender_ratchet) copy.sender_ratchet = sender_ratchet->clone();
  copy.sender_chain = sender_chain.clone();
  for (const ReceiverChain& chain : receiver_chains) {
    ReceiverChain c{chain.sender_ratchet_key, chain.chain_key.clone(), {}};
    for (const SkippedKey& k : chain.skipped) c.skipped.push_back({k.counter, k.seed.clone()});
    copy.receiver_chains.push_back(std::move(c));
  }
  copy.pending_pre_key = pending_pre_key;
  return copy;
}

SessionRecord SessionRecord::clone() const {
  SessionRecord copy;
  if (current_) copy.current_ = current_->clone();
  for (const SessionState& s : previous_) copy.previous_.push_back(s.clone());
  return copy;
}

void SessionRecord::archive_current_state() {
  if (!current_) return;
  previous_.insert(previous_.begin(), std::move(*current_));
  current_.reset();
  if (previous_.size() > kMaxArchivedStates) previous_.resize(kMaxArchivedStates);
}

void SessionRecord::promote_state(SessionState state) {
  archive_current_state();
  current_ = std::move(state);
}

void SessionRecord::promote_previous(std::size_t index) {
  if (index >= previous_.size()) return;
  SessionState state = std::move(previous_[index]);
  previous_.erase(previous_.begin() + static_cast<std::ptrdiff_t>(index));
  promote_state(std::move(state));
}

bool SessionRecord::has_session_with_base_key(const PublicKey& alice_base_key) const {
  if (current_ && current_->alice_base_key == alice_base_key) return true;
  for (const SessionState& s : previous_) {
    if (s.alice_base_key == alice_base_key) return true;
  }
  return false;
}

namespace {

void write_state(const SessionState& s, storage::SessionState* out) {
  out->set_session_version(s.session_version);
  out->set_local_identity(str(s.local_identity.serialize()));
  out->set_remote_identity(str(s.remote_identity.serialize()));
  out->set_local_registration_id(s.local_registration_id);
  out->set_remote_registration_id(s.remote_registration_id);
  out->set_alice_base_key(str(s.alice_base_key.serialize()));
  out->set_root_key(str(s.root_key.view()));
  out->set_previous_counter(s.previous_counter);
  if (s.sender_ratchet) {
    out->set_sender_ratchet_public(str(s.sender_ratchet->public_key.serialize()));
    out->set_sender_ratchet_private(str(s.sender_ratchet->private_key.serialize().view()));
  }
  detail::write_chain(s.sender_chain, out->mutable_sender_chain());
  for (const ReceiverChain& chain : s.receiver_chains) {
    storage::ReceiverChain* c = out->add_receiver_chains();
    c->set_sender_ratchet_key(str(chain.sender_ratchet_key.serialize()));
    detail::write_chain(chain.chain_key, c->mutable_chain());
    for (const SkippedKey& k : chain.skipped) {
      storage::SkippedKey* sk = c->add_skipped();
      sk->set_counter(k.counter);
      sk->set_seed(str(k.seed.view()));
    }
  }
  if (s.pending_pre_key) {
    storage::PendingPreKey* p = out->mutable_pending_pre_key();
    if (s.pending_pre_key->pre_key_id) p->set_pre_key_id(*s.pending_pre_key->pre_key_id);
    p->set_signed_pre_key_id(s.pending_pre_key->signed_pre_key_id);
    p->set_base_key(str(s.pending_pre_key->base_key.serialize()));
  }
}

Result<SessionState> read_state(const storage::SessionState& in) {
  SessionState s;
  s.session_version = in.session_version();
  if (s.session_version != 3) return detail::corrupt("unknown session version");
  PARLEY_ASSIGN_OR_RETURN(s.local_identity, read_public(in.local_identity(), "bad identity"));
  PARLEY_ASSIGN_OR_RETURN(s.remote_identity, read_public(in.remote_identity(), "bad identity"));
  s.local_registration_id = in.local_registration_id();
  s.remote_registration_id = in.remote_registration_id();
  PARLEY_ASSIGN_OR_RETURN(s.alice_base_key, read_public(in.alice_base_key(), "bad base key"));
  PARLEY_ASSIGN_OR_RETURN(s.root_key, detail::read_key32(in.root_key(), "bad root key"));
  s.previous_counter = in.previous_counter();
  if (in.has_sender_ratchet_private()) {
    PARLEY_ASSIGN_OR_RETURN(PrivateKey priv,
                            detail::read_private(in.sender_ratchet_private(), "bad ratchet key"));
    PARLEY_ASSIGN_OR_RETURN(PublicKey pub,
                            read_public(in.sender_ratchet_public(), "bad ratchet key"));
    s.sender_ratchet = KeyPair{pub, std::move(priv)};
  }
  PARLEY_ASSIGN_OR_RETURN(s.sender_chain, read_chain(in.sender_chain()));
  if (static_cast<std::size_t>(in.receiver_chains_size()) > kMaxReceiverChains) {
    return detail::corrupt("too many receiver chains");
  }
  for (const storage::ReceiverChain& c : in.receiver_chains()) {
    ReceiverChain chain;
    PARLEY_ASSIGN_OR_RETURN(chain.sender_ratchet_key,
                            read_public(c.sender_ratchet_key(), "bad ratchet key"));
    PARLEY_ASSIGN_OR_RETURN(chain.chain_key, read_chain(c.chain()));
    if (static_cast<std::size_t>(c.skipped_size()) > kMaxSkippedMessages) {
      return detail::corrupt("too many skipped keys");
    }
    for (const storage::SkippedKey& k : c.skipped()) {
      PARLEY_ASSIGN_OR_RETURN(SecretBytes seed, detail::read_key32(k.seed(), "bad skipped key"));
      chain.skipped.push_back(SkippedKey{k.counter(), std::move(seed)});
    }
    s.receiver_chains.push_back(std::move(chain));
  }
  if (in.has_pending_pre_key()) {
    PendingPreKey p;
    if (in.pending_pre_key().has_pre_key_id()) p.pre_key_id = in.pending_pre_key().pre_key_id();
    p.signed_pre_key_id = in.pending_pre_key().signed_pre_key_id();
    PARLEY_ASSIGN_OR_RETURN(p.base_key, read_public(in.pending_pre_key().base_key(), "bad key"));
    s.pending_pre_key = p;
  }
  return s;
}

}  // namespace

SecretBytes SessionRecord::serialize() const {
  detail::WipedProto<storage::SessionRecord> wiped;
  storage::SessionRecord& proto = wiped.proto;
  proto.set_format_version(detail::kStorageFormatVersion);
  if (current_) write_state(*current_, proto.mutable_current());
  for (const SessionState& s : previous_) write_state(s, proto.add_previous());
  return detail::to_secret(proto);
}

Result<SessionRecord> SessionRecord::parse(ByteView serialized) {
  detail::WipedProto<storage::SessionRecord> wiped;
  storage::SessionRecord& proto = wiped.proto;
  if (!proto.ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
    return detail::corrupt("session record is not valid protobuf");
  }
  if (proto.format_version() != detail::kStorageFormatVersion) {
    return Status::error(ErrorCode::kUnsupportedVersion, "unknown session record version");
  }
  if (static_cast<std::size_t>(proto.previous_size()) > kMaxArchivedStates) {
    return detail::corrupt("too many archived states");
  }
  SessionRecord record;
  if (proto.has_current()) {
    PARLEY_ASSIGN_OR_RETURN(SessionState current, read_state(proto.current()));
    record.current_ = std::move(current);
  }
  for (const storage::SessionState& s : proto.previous()) {
    PARLEY_ASSIGN_OR_RETURN(SessionState state, read_state(s));
    record.previous_.push_back(std::move(state));
  }
  return record;
}

}  // namespace parley::crypto
