// SPDX-License-Identifier: AGPL-3.0-or-later
// ParleyPeer's Sender Key half.
#include "parley/crypto/group_cipher.h"
#include "parley/crypto/group_session_builder.h"
#include "parley_peer.h"

namespace parley::interop {

Result<Bytes> ParleyPeer::sender_key_distribution(const std::string& group_id) {
  crypto::GroupSessionBuilder builder(store_.sender_keys);
  PARLEY_ASSIGN_OR_RETURN(auto message, builder.create({group_id, address_}));
  return message.serialize();
}

Status ParleyPeer::process_sender_key_distribution(const std::string& group_id,
                                                   const OracleAddress& sender,
                                                   ByteView distribution) {
  PARLEY_ASSIGN_OR_RETURN(auto message, crypto::SenderKeyDistributionMessage::parse(distribution));
  crypto::GroupSessionBuilder builder(store_.sender_keys);
  return builder.process({group_id, to_parley(sender)}, message);
}

Result<Bytes> ParleyPeer::group_encrypt(const std::string& group_id, ByteView plaintext) {
  crypto::GroupCipher cipher(store_.sender_keys, {group_id, address_});
  PARLEY_ASSIGN_OR_RETURN(auto message, cipher.encrypt(plaintext));
  return message.serialize();
}

Result<Bytes> ParleyPeer::group_decrypt(const std::string& group_id, const OracleAddress& sender,
                                        ByteView bytes) {
  crypto::GroupCipher cipher(store_.sender_keys, {group_id, to_parley(sender)});
  PARLEY_ASSIGN_OR_RETURN(SecretBytes plaintext, cipher.decrypt(bytes));
  return Bytes(plaintext.view().begin(), plaintext.view().end());
}

}  // namespace parley::interop
