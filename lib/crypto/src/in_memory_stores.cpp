// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/crypto/in_memory_stores.h"

namespace parley::crypto {

Status InMemoryIdentityKeyStore::save_identity(const ProtocolAddress& address,
                                               const PublicKey& identity) {
  known_[address] = identity;
  return Status();
}

Result<bool> InMemoryIdentityKeyStore::is_trusted_identity(const ProtocolAddress& address,
                                                           const PublicKey& identity,
                                                           Direction /*direction*/) {
  auto it = known_.find(address);
  return it == known_.end() || it->second == identity;
}

Result<std::optional<PublicKey>> InMemoryIdentityKeyStore::identity(
    const ProtocolAddress& address) {
  auto it = known_.find(address);
  if (it == known_.end()) return std::optional<PublicKey>();
  return std::optional<PublicKey>(it->second);
}

Result<PreKeyRecord> InMemoryPreKeyStore::load_pre_key(std::uint32_t id) {
  auto it = records_.find(id);
  if (it == records_.end()) return Status::error(ErrorCode::kNotFound, "no such prekey");
  return PreKeyRecord::parse(it->second.view());
}

Status InMemoryPreKeyStore::store_pre_key(const PreKeyRecord& record) {
  records_[record.id] = record.serialize();
  return Status();
}

Result<bool> InMemoryPreKeyStore::contains_pre_key(std::uint32_t id) {
  return records_.count(id) > 0;
}

Status InMemoryPreKeyStore::remove_pre_key(std::uint32_t id) {
  records_.erase(id);
  return Status();
}

Result<SignedPreKeyRecord> InMemorySignedPreKeyStore::load_signed_pre_key(std::uint32_t id) {
  auto it = records_.find(id);
  if (it == records_.end()) return Status::error(ErrorCode::kNotFound, "no such signed prekey");
  return SignedPreKeyRecord::parse(it->second.view());
}

Status InMemorySignedPreKeyStore::store_signed_pre_key(const SignedPreKeyRecord& record) {
  records_[record.id] = record.serialize();
  return Status();
}

Result<bool> InMemorySignedPreKeyStore::contains_signed_pre_key(std::uint32_t id) {
  return records_.count(id) > 0;
}

Status InMemorySignedPreKeyStore::remove_signed_pre_key(std::uint32_t id) {
  records_.erase(id);
  return Status();
}

Result<std::optional<SessionRecord>> InMemorySessionStore::load_session(
    const ProtocolAddress& address) {
  auto it = records_.find(address);
  if (it == records_.end()) return std::optional<SessionRecord>();
  PARLEY_ASSIGN_OR_RETURN(SessionRecord record, SessionRecord::parse(it->second.view()));
  return std::optional<SessionRecord>(std::move(record));
}

Status InMemorySessionStore::store_session(const ProtocolAddress& address,
                                           const SessionRecord& record) {
  records_[address] = record.serialize();
  return Status();
}

Result<bool> InMemorySessionStore::contains_session(const ProtocolAddress& address) {
  auto it = records_.find(address);
  if (it == records_.end()) return false;
  PARLEY_ASSIGN_OR_RETURN(SessionRecord record, SessionRecord::parse(it->second.view()));
  return record.has_current_state();
}

Status InMemorySessionStore::delete_session(const ProtocolAddress& address) {
  records_.erase(address);
  return Status();
}

Result<std::vector<std::uint32_t>> InMemorySessionStore::device_ids(const std::string& name) {
  std::vector<std::uint32_t> ids;
  for (const auto& [address, record] : records_) {
    if (address.name == name) ids.push_back(address.device_id);
  }
  return ids;
}

Status InMemorySenderKeyStore::store_sender_key(const SenderKeyName& name,
                                                const SenderKeyRecord& record) {
  records_[name] = record.serialize();
  return Status();
}

Result<std::optional<SenderKeyRecord>> InMemorySenderKeyStore::load_sender_key(
    const SenderKeyName& name) {
  auto it = records_.find(name);
  if (it == records_.end()) return std::optional<SenderKeyRecord>();
  PARLEY_ASSIGN_OR_RETURN(SenderKeyRecord record, SenderKeyRecord::parse(it->second.view()));
  return std::optional<SenderKeyRecord>(std::move(record));
}

}  // namespace parley::crypto
