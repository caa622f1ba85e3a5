// SPDX-License-Identifier: AGPL-3.0-or-later
// SignalMessage and PreKeySignalMessage framing (libsignal v3 wire format).
#include "parley/crypto/hash.h"
#include "parley/crypto/messages.h"
#include "wire.pb.h"
#include "wire_util.h"

namespace parley::crypto {
namespace {

using detail::to_string;
using detail::view_of;

Bytes compute_mac(ByteView mac_key, const PublicKey& sender_identity,
                  const PublicKey& receiver_identity, ByteView message) {
  Bytes input = concat({sender_identity.serialize(), receiver_identity.serialize(), message});
  SecretBytes full = hmac_sha256(mac_key, input);
  return Bytes(full.view().begin(), full.view().begin() + kMacSize);
}

}  // namespace

Result<SignalMessage> SignalMessage::create(const PublicKey& ratchet_key, std::uint32_t counter,
                                            std::uint32_t previous_counter, Bytes ciphertext,
                                            ByteView mac_key, const PublicKey& sender_identity,
                                            const PublicKey& receiver_identity) {
  wire::SignalMessage proto;
  proto.set_ratchet_key(to_string(ratchet_key.serialize()));
  proto.set_counter(counter);
  proto.set_previous_counter(previous_counter);
  proto.set_ciphertext(to_string(ciphertext));
  std::string body;
  if (!proto.SerializeToString(&body)) {
    return Status::error(ErrorCode::kInternal, "SignalMessage serialization failed");
  }
  if (1 + body.size() + kMacSize > kMaxMessageSize) {
    return Status::error(ErrorCode::kTooLarge, "SignalMessage exceeds 256 KiB");
  }
  SignalMessage message;
  message.ratchet_key_ = ratchet_key;
  message.counter_ = counter;
  message.previous_counter_ = previous_counter;
  message.ciphertext_ = std::move(ciphertext);
  message.serialized_.push_back(kVersionByte);
  append(message.serialized_, view_of(body));
  Bytes mac = compute_mac(mac_key, sender_identity, receiver_identity, message.serialized_);
  append(message.serialized_, mac);
  return message;
}

Result<SignalMessage> SignalMessage::parse(ByteView serialized) {
  PARLEY_RETURN_IF_ERROR(detail::check_envelope(serialized, 1 + kMacSize + 1, "SignalMessage"));
  ByteView body = serialized.subspan(1, serialized.size() - 1 - kMacSize);
  wire::SignalMessage proto;
  if (!proto.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return Status::error(ErrorCode::kMalformedInput, "SignalMessage is not valid protobuf");
  }
  if (!proto.has_ratchet_key() || !proto.has_counter() || !proto.has_ciphertext()) {
    return detail::missing("SignalMessage");
  }
  SignalMessage message;
  PARLEY_ASSIGN_OR_RETURN(message.ratchet_key_, detail::parse_key_field(proto.ratchet_key()));
  message.version_ = static_cast<std::uint8_t>(serialized[0] >> 4);
  message.counter_ = proto.counter();
  message.previous_counter_ = proto.previous_counter();
  message.ciphertext_ = Bytes(proto.ciphertext().begin(), proto.ciphertext().end());
  message.serialized_ = Bytes(serialized.begin(), serialized.end());
  return message;
}

Status SignalMessage::verify_mac(ByteView mac_key, const PublicKey& sender_identity,
                                 const PublicKey& receiver_identity) const {
  if (serialized_.size() <= kMacSize) {
    return Status::error(ErrorCode::kBadMac, "message too short for a MAC");
  }
  ByteView all(serialized_);
  Bytes expected =
      compute_mac(mac_key, sender_identity, receiver_identity, all.first(all.size() - kMacSize));
  if (!constant_time_equal(expected, all.last(kMacSize))) {
    return Status::error(ErrorCode::kBadMac, "message MAC does not verify");
  }
  return Status();
}

Result<PreKeySignalMessage> PreKeySignalMessage::create(std::uint32_t registration_id,
                                                        std::optional<std::uint32_t> pre_key_id,
                                                        std::uint32_t signed_pre_key_id,
                                                        const PublicKey& base_key,
                                                        const PublicKey& identity_key,
                                                        SignalMessage message) {
  wire::PreKeySignalMessage proto;
  proto.set_registration_id(registration_id);
  if (pre_key_id) proto.set_pre_key_id(*pre_key_id);
  proto.set_signed_pre_key_id(signed_pre_key_id);
  proto.set_base_key(to_string(base_key.serialize()));
  proto.set_identity_key(to_string(identity_key.serialize()));
  proto.set_message(to_string(message.serialize()));
  std::string body;
  if (!proto.SerializeToString(&body)) {
    return Status::error(ErrorCode::kInternal, "PreKeySignalMessage serialization failed");
  }
  if (1 + body.size() > kMaxMessageSize) {
    return Status::error(ErrorCode::kTooLarge, "PreKeySignalMessage exceeds 256 KiB");
  }
  PreKeySignalMessage out(std::move(message));
  out.registration_id_ = registration_id;
  out.pre_key_id_ = pre_key_id;
  out.signed_pre_key_id_ = signed_pre_key_id;
  out.base_key_ = base_key;
  out.identity_key_ = identity_key;
  out.serialized_.push_back(kVersionByte);
  append(out.serialized_, view_of(body));
  return out;
}

Result<PreKeySignalMessage> PreKeySignalMessage::parse(ByteView serialized) {
  PARLEY_RETURN_IF_ERROR(detail::check_envelope(serialized, 2, "PreKeySignalMessage"));
  ByteView body = serialized.subspan(1);
  wire::PreKeySignalMessage proto;
  if (!proto.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return Status::error(ErrorCode::kMalformedInput, "PreKeySignalMessage is not valid protobuf");
  }
  if (!proto.has_signed_pre_key_id() || !proto.has_base_key() || !proto.has_identity_key() ||
      !proto.has_message()) {
    return detail::missing("PreKeySignalMessage");
  }
  PARLEY_ASSIGN_OR_RETURN(PublicKey base_key, detail::parse_key_field(proto.base_key()));
  PARLEY_ASSIGN_OR_RETURN(PublicKey identity_key, detail::parse_key_field(proto.identity_key()));
  PARLEY_ASSIGN_OR_RETURN(SignalMessage inner, SignalMessage::parse(view_of(proto.message())));
  const auto version = static_cast<std::uint8_t>(serialized[0] >> 4);
  if (inner.version() != version) {
    return Status::error(ErrorCode::kUnsupportedVersion, "inner message version differs");
  }
  PreKeySignalMessage out(std::move(inner));
  out.version_ = version;
  out.registration_id_ = proto.registration_id();
  if (proto.has_pre_key_id()) out.pre_key_id_ = proto.pre_key_id();
  out.signed_pre_key_id_ = proto.signed_pre_key_id();
  out.base_key_ = base_key;
  out.identity_key_ = identity_key;
  out.serialized_ = Bytes(serialized.begin(), serialized.end());
  return out;
}

}  // namespace parley::crypto
