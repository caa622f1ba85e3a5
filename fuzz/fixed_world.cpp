// SPDX-License-Identifier: AGPL-3.0-or-later
#include "fixed_world.h"

#include "parley/crypto/xeddsa.h"

namespace parley::fuzzing {
namespace {

SecretBytes fixed_secret(std::uint8_t tag) {
  SecretBytes out(32);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(tag + 3 * i);
  return out;
}

crypto::KeyPair fixed_key(std::uint8_t tag) {
  auto key = crypto::PrivateKey::parse(fixed_secret(tag).view());
  PARLEY_FUZZ_CHECK(key.ok());
  return crypto::KeyPair::from_private(std::move(key).value());
}

}  // namespace

FixedWorld::FixedWorld()
    : alice_identity_(fixed_key(0x10)),
      bob_identity_(fixed_key(0x20)),
      alice_base_(fixed_key(0x30)),
      alice_ratchet_(fixed_key(0x40)),
      bob_ratchet_(fixed_key(0x50)),
      bob_signed_pre_key_(fixed_key(0x60)),
      bob_one_time_pre_key_(fixed_key(0x70)),
      group_signing_(fixed_key(0x80)) {
  const Bytes nonce(crypto::kXeddsaRandomSize, 0x5a);
  auto signature = crypto::xeddsa_sign(bob_identity_.private_key,
                                       bob_signed_pre_key_.public_key.serialize(), nonce);
  PARLEY_FUZZ_CHECK(signature.ok());
  bob_signed_pre_key_signature_ = std::move(signature).value();
}

crypto::SessionState FixedWorld::alice_state(bool pending_pre_key) const {
  crypto::SessionState s;
  s.local_identity = alice_identity_.public_key;
  s.remote_identity = bob_identity_.public_key;
  s.local_registration_id = 1111;
  s.remote_registration_id = 2222;
  s.alice_base_key = alice_base_.public_key;
  s.root_key = fixed_secret(0x01);
  s.sender_ratchet = alice_ratchet_.clone();
  s.sender_chain = {fixed_secret(0x02), 0};
  s.receiver_chains.push_back({bob_ratchet_.public_key, {fixed_secret(0x03), 0}, {}});
  if (pending_pre_key) {
    s.pending_pre_key =
        crypto::PendingPreKey{kOneTimePreKeyId, kSignedPreKeyId, alice_base_.public_key};
  }
  return s;
}

crypto::SessionState FixedWorld::bob_state() const {
  crypto::SessionState s;
  s.local_identity = bob_identity_.public_key;
  s.remote_identity = alice_identity_.public_key;
  s.local_registration_id = 2222;
  s.remote_registration_id = 1111;
  s.alice_base_key = alice_base_.public_key;
  s.root_key = fixed_secret(0x01);
  s.sender_ratchet = bob_ratchet_.clone();
  s.sender_chain = {fixed_secret(0x03), 0};
  s.receiver_chains.push_back({alice_ratchet_.public_key, {fixed_secret(0x02), 0}, {}});
  return s;
}

std::unique_ptr<crypto::InMemoryProtocolStore> FixedWorld::alice(bool pending_pre_key) const {
  auto store = std::make_unique<crypto::InMemoryProtocolStore>(alice_identity_.clone(), 1111);
  PARLEY_FUZZ_CHECK(store->identities.save_identity(bob_address, bob_identity_.public_key).ok());
  crypto::SessionRecord record;
  record.promote_state(alice_state(pending_pre_key));
  PARLEY_FUZZ_CHECK(store->sessions.store_session(bob_address, record).ok());

  crypto::SenderKeyState chain;
  chain.key_id = kSenderKeyId;
  chain.chain_key = {fixed_secret(0x04), 0};
  chain.signing_public = group_signing_.public_key;
  chain.signing_private = group_signing_.private_key.clone();
  crypto::SenderKeyRecord sender_record;
  sender_record.add_state(std::move(chain));
  PARLEY_FUZZ_CHECK(store->sender_keys.store_sender_key(group_sender, sender_record).ok());
  return store;
}

std::unique_ptr<crypto::InMemoryProtocolStore> FixedWorld::bob() const {
  auto store = std::make_unique<crypto::InMemoryProtocolStore>(bob_identity_.clone(), 2222);
  PARLEY_FUZZ_CHECK(
      store->identities.save_identity(alice_address, alice_identity_.public_key).ok());
  crypto::SessionRecord record;
  record.promote_state(bob_state());
  PARLEY_FUZZ_CHECK(store->sessions.store_session(alice_address, record).ok());
  PARLEY_FUZZ_CHECK(store->signed_pre_keys
                        .store_signed_pre_key({kSignedPreKeyId, bob_signed_pre_key_.clone(),
                                               bob_signed_pre_key_signature_, 1})
                        .ok());
  PARLEY_FUZZ_CHECK(
      store->pre_keys.store_pre_key({kOneTimePreKeyId, bob_one_time_pre_key_.clone()}).ok());

  crypto::SenderKeyState chain;
  chain.key_id = kSenderKeyId;
  chain.chain_key = {fixed_secret(0x04), 0};
  chain.signing_public = group_signing_.public_key;
  crypto::SenderKeyRecord receiver_record;
  receiver_record.add_state(std::move(chain));
  PARLEY_FUZZ_CHECK(store->sender_keys.store_sender_key(group_sender, receiver_record).ok());
  return store;
}

crypto::PreKeyBundle FixedWorld::bob_bundle() const {
  crypto::PreKeyBundle bundle;
  bundle.registration_id = 2222;
  bundle.device_id = bob_address.device_id;
  bundle.pre_key_id = kOneTimePreKeyId;
  bundle.pre_key = bob_one_time_pre_key_.public_key;
  bundle.signed_pre_key_id = kSignedPreKeyId;
  bundle.signed_pre_key = bob_signed_pre_key_.public_key;
  bundle.signed_pre_key_signature = bob_signed_pre_key_signature_;
  bundle.identity_key = bob_identity_.public_key;
  return bundle;
}

const FixedWorld& fixed_world() {
  static const FixedWorld world;
  return world;
}

}  // namespace parley::fuzzing
