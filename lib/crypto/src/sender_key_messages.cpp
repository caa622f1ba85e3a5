// SPDX-License-Identifier: AGPL-3.0-or-later
// SenderKeyMessage and SenderKeyDistributionMessage framing (libsignal v3 wire format).
#include "parley/crypto/messages.h"
#include "parley/crypto/xeddsa.h"
#include "wire.pb.h"
#include "wire_util.h"

namespace parley::crypto {
namespace {

using detail::to_string;
using detail::view_of;

inline constexpr std::size_t kChainKeySize = 32;

// The distribution message carries a chain key: wipe protobuf's copies when done with them.
struct WipedDistribution {
  WipedDistribution() = default;
  WipedDistribution(const WipedDistribution&) = delete;
  WipedDistribution& operator=(const WipedDistribution&) = delete;
  ~WipedDistribution() {
    std::string* key = proto.mutable_chain_key();
    if (!key->empty()) secure_wipe(key->data(), key->size());
  }
  wire::SenderKeyDistributionMessage proto;
};

}  // namespace

Result<SenderKeyMessage> SenderKeyMessage::create(std::uint32_t key_id, std::uint32_t iteration,
                                                  Bytes ciphertext, const PrivateKey& signing_key) {
  wire::SenderKeyMessage proto;
  proto.set_id(key_id);
  proto.set_iteration(iteration);
  proto.set_ciphertext(to_string(ciphertext));
  std::string body;
  if (!proto.SerializeToString(&body)) {
    return Status::error(ErrorCode::kInternal, "SenderKeyMessage serialization failed");
  }
  if (1 + body.size() + kSignatureSize > kMaxMessageSize) {
    return Status::error(ErrorCode::kTooLarge, "SenderKeyMessage exceeds 256 KiB");
  }
  SenderKeyMessage message;
  message.key_id_ = key_id;
  message.iteration_ = iteration;
  message.ciphertext_ = std::move(ciphertext);
  message.serialized_.push_back(kVersionByte);
  append(message.serialized_, view_of(body));
  Bytes signature = xeddsa_sign(signing_key, message.serialized_);
  append(message.serialized_, signature);
  return message;
}

Result<SenderKeyMessage> SenderKeyMessage::parse(ByteView serialized) {
  PARLEY_RETURN_IF_ERROR(
      detail::check_envelope(serialized, 1 + kSignatureSize + 1, "SenderKeyMessage"));
  ByteView body = serialized.subspan(1, serialized.size() - 1 - kSignatureSize);
  wire::SenderKeyMessage proto;
  if (!proto.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return Status::error(ErrorCode::kMalformedInput, "SenderKeyMessage is not valid protobuf");
  }
  if (!proto.has_id() || !proto.has_iteration() || !proto.has_ciphertext()) {
    return detail::missing("SenderKeyMessage");
  }
  SenderKeyMessage message;
  message.version_ = static_cast<std::uint8_t>(serialized[0] >> 4);
  message.key_id_ = proto.id();
  message.iteration_ = proto.iteration();
  message.ciphertext_ = Bytes(proto.ciphertext().begin(), proto.ciphertext().end());
  message.serialized_ = Bytes(serialized.begin(), serialized.end());
  return message;
}

Status SenderKeyMessage::verify_signature(const PublicKey& signing_key) const {
  if (serialized_.size() <= kSignatureSize) {
    return Status::error(ErrorCode::kBadSignature, "message too short for a signature");
  }
  ByteView all(serialized_);
  return xeddsa_verify(signing_key, all.first(all.size() - kSignatureSize),
                       all.last(kSignatureSize));
}

Result<SenderKeyDistributionMessage> SenderKeyDistributionMessage::create(
    std::uint32_t key_id, std::uint32_t iteration, ByteView chain_key,
    const PublicKey& signing_key) {
  if (chain_key.size() != kChainKeySize) {
    return Status::error(ErrorCode::kInvalidArgument, "sender chain key must be 32 bytes");
  }
  WipedDistribution wiped;
  wire::SenderKeyDistributionMessage& proto = wiped.proto;
  proto.set_id(key_id);
  proto.set_iteration(iteration);
  proto.set_chain_key(to_string(chain_key));
  proto.set_signing_key(to_string(signing_key.serialize()));
  std::string body;
  if (!proto.SerializeToString(&body)) {
    return Status::error(ErrorCode::kInternal, "distribution message serialization failed");
  }
  SenderKeyDistributionMessage message;
  message.key_id_ = key_id;
  message.iteration_ = iteration;
  message.chain_key_ = SecretBytes(chain_key);
  message.signing_key_ = signing_key;
  message.serialized_.push_back(kVersionByte);
  append(message.serialized_, view_of(body));
  secure_wipe(body.data(), body.size());
  return message;
}

Result<SenderKeyDistributionMessage> SenderKeyDistributionMessage::parse(ByteView serialized) {
  PARLEY_RETURN_IF_ERROR(detail::check_envelope(serialized, 2, "SenderKeyDistributionMessage"));
  ByteView body = serialized.subspan(1);
  WipedDistribution wiped;
  wire::SenderKeyDistributionMessage& proto = wiped.proto;
  if (!proto.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return Status::error(ErrorCode::kMalformedInput,
                         "SenderKeyDistributionMessage is not valid protobuf");
  }
  if (!proto.has_id() || !proto.has_iteration() || !proto.has_chain_key() ||
      !proto.has_signing_key()) {
    return detail::missing("SenderKeyDistributionMessage");
  }
  if (proto.chain_key().size() != kChainKeySize) {
    return Status::error(ErrorCode::kMalformedInput, "sender chain key must be 32 bytes");
  }
  SenderKeyDistributionMessage message;
  PARLEY_ASSIGN_OR_RETURN(message.signing_key_, detail::parse_key_field(proto.signing_key()));
  message.version_ = static_cast<std::uint8_t>(serialized[0] >> 4);
  message.key_id_ = proto.id();
  message.iteration_ = proto.iteration();
  message.chain_key_ = SecretBytes(view_of(proto.chain_key()));
  message.serialized_ = Bytes(serialized.begin(), serialized.end());
  return message;
}

SenderKeyDistributionMessage SenderKeyDistributionMessage::clone() const {
  SenderKeyDistributionMessage copy;
  copy.version_ = version_;
  copy.key_id_ = key_id_;
  copy.iteration_ = iteration_;
  copy.chain_key_ = chain_key_.clone();
  copy.signing_key_ = signing_key_;
  copy.serialized_ = serialized_;
  return copy;
}

}  // namespace parley::crypto
