// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The Signal v3 wire messages, byte-compatible with libsignal (WhisperTextProtocol.proto):
//
//   SignalMessage                 0x33 || protobuf || MAC (8 bytes)
//   PreKeySignalMessage           0x33 || protobuf (carries a SignalMessage)
//   SenderKeyMessage              0x33 || protobuf || XEdDSA signature (64 bytes)
//   SenderKeyDistributionMessage  0x33 || protobuf
//
// The MAC is the first 8 bytes of HMAC-SHA256(macKey, senderIdentity(33) || receiverIdentity(33)
// || 0x33 || protobuf). Every parse() takes untrusted bytes and fails with kTooLarge (over 256
// KiB), kUnsupportedVersion (high nibble of the first byte is not 3) or kMalformedInput (truncated,
// bad protobuf, missing field) or kInvalidKey (a key without the 0x05 prefix or of the wrong
// length); it never crashes.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "parley/crypto/keys.h"
#include "parley/util/bytes.h"
#include "parley/util/secret_bytes.h"
#include "parley/util/status.h"

namespace parley::crypto {

inline constexpr std::uint8_t kMessageVersion = 3;
inline constexpr std::uint8_t kVersionByte = (kMessageVersion << 4) | kMessageVersion;  // 0x33
inline constexpr std::size_t kMaxMessageSize = std::size_t{256} * 1024;
inline constexpr std::size_t kMacSize = 8;

// Type tags, numbered as libsignal numbers them (CIPHERTEXT_*_TYPE).
enum class MessageType : std::uint8_t {
  kSignal = 2,
  kPreKey = 3,
  kSenderKey = 4,
  kSenderKeyDistribution = 5,
};

// What SessionCipher::encrypt hands to the transport.
struct CiphertextMessage {
  MessageType type = MessageType::kSignal;
  Bytes bytes;
};

class SignalMessage {
 public:
  // Builds and MACs a message. `mac_key` is 32 bytes.
  static Result<SignalMessage> create(const PublicKey& ratchet_key, std::uint32_t counter,
                                      std::uint32_t previous_counter, Bytes ciphertext,
                                      ByteView mac_key, const PublicKey& sender_identity,
                                      const PublicKey& receiver_identity);
  static Result<SignalMessage> parse(ByteView serialized);
  Bytes serialize() const { return serialized_; }

  // kBadMac unless the trailing 8 bytes match (constant-time).
  Status verify_mac(ByteView mac_key, const PublicKey& sender_identity,
                    const PublicKey& receiver_identity) const;

  std::uint8_t version() const { return version_; }
  const PublicKey& ratchet_key() const { return ratchet_key_; }
  std::uint32_t counter() const { return counter_; }
  std::uint32_t previous_counter() const { return previous_counter_; }
  const Bytes& ciphertext() const { return ciphertext_; }

 private:
  SignalMessage() = default;

  std::uint8_t version_ = kMessageVersion;
  PublicKey ratchet_key_;
  std::uint32_t counter_ = 0;
  std::uint32_t previous_counter_ = 0;
  Bytes ciphertext_;
  Bytes serialized_;
};

class PreKeySignalMessage {
 public:
  static Result<PreKeySignalMessage> create(std::uint32_t registration_id,
                                            std::optional<std::uint32_t> pre_key_id,
                                            std::uint32_t signed_pre_key_id,
                                            const PublicKey& base_key,
                                            const PublicKey& identity_key, SignalMessage message);
  static Result<PreKeySignalMessage> parse(ByteView serialized);
  Bytes serialize() const { return serialized_; }

  std::uint8_t version() const { return version_; }
  std::uint32_t registration_id() const { return registration_id_; }
  std::optional<std::uint32_t> pre_key_id() const { return pre_key_id_; }
  std::uint32_t signed_pre_key_id() const { return signed_pre_key_id_; }
  const PublicKey& base_key() const { return base_key_; }
  const PublicKey& identity_key() const { return identity_key_; }
  const SignalMessage& message() const { return message_; }

 private:
  explicit PreKeySignalMessage(SignalMessage message) : message_(std::move(message)) {}

  std::uint8_t version_ = kMessageVersion;
  std::uint32_t registration_id_ = 0;
  std::optional<std::uint32_t> pre_key_id_;
  std::uint32_t signed_pre_key_id_ = 0;
  PublicKey base_key_;
  PublicKey identity_key_;
  SignalMessage message_;
  Bytes serialized_;
};

class SenderKeyMessage {
 public:
  // Builds the message and signs 0x33 || protobuf with `signing_key`.
  static Result<SenderKeyMessage> create(std::uint32_t key_id, std::uint32_t iteration,
                                         Bytes ciphertext, const PrivateKey& signing_key);
  static Result<SenderKeyMessage> parse(ByteView serialized);
  Bytes serialize() const { return serialized_; }

  // kBadSignature unless the trailing signature verifies under `signing_key`.
  Status verify_signature(const PublicKey& signing_key) const;

  std::uint8_t version() const { return version_; }
  std::uint32_t key_id() const { return key_id_; }
  std::uint32_t iteration() const { return iteration_; }
  const Bytes& ciphertext() const { return ciphertext_; }

 private:
  SenderKeyMessage() = default;

  std::uint8_t version_ = kMessageVersion;
  std::uint32_t key_id_ = 0;
  std::uint32_t iteration_ = 0;
  Bytes ciphertext_;
  Bytes serialized_;
};

class SenderKeyDistributionMessage {
 public:
  // `chain_key` is the 32-byte sender chain key at `iteration`.
  static Result<SenderKeyDistributionMessage> create(std::uint32_t key_id, std::uint32_t iteration,
                                                     ByteView chain_key,
                                                     const PublicKey& signing_key);
  static Result<SenderKeyDistributionMessage> parse(ByteView serialized);
  Bytes serialize() const { return serialized_; }

  std::uint8_t version() const { return version_; }
  std::uint32_t key_id() const { return key_id_; }
  std::uint32_t iteration() const { return iteration_; }
  const SecretBytes& chain_key() const { return chain_key_; }
  const PublicKey& signing_key() const { return signing_key_; }

  SenderKeyDistributionMessage clone() const;

 private:
  SenderKeyDistributionMessage() = default;

  std::uint8_t version_ = kMessageVersion;
  std::uint32_t key_id_ = 0;
  std::uint32_t iteration_ = 0;
  SecretBytes chain_key_;
  PublicKey signing_key_;
  Bytes serialized_;
};

}  // namespace parley::crypto
