// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// LibsignalPeer: one Signal-protocol participant run by libsignal-protocol-c, the independent
// implementation Parley is checked against. Everything crosses this API as plain bytes in the
// Signal v3 wire format (0x05-prefixed public keys, 64-byte XEdDSA signatures, serialized
// messages), so tests can hand bytes between this peer and Parley without sharing any type.
//
// Errors are libsignal's own codes (SG_ERR_*, negative; see kSg* below). Test and benchmark code
// only: libsignal-protocol-c is GPL-3 and must never be linked into a parley_* library.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace parley::interop {

using OracleBytes = std::vector<std::uint8_t>;

// A few libsignal error codes tests compare against (values from signal_protocol.h).
inline constexpr int kSgOk = 0;
inline constexpr int kSgErrDuplicateMessage = -1001;
inline constexpr int kSgErrInvalidKey = -1002;
inline constexpr int kSgErrInvalidKeyId = -1003;
inline constexpr int kSgErrInvalidMac = -1004;
inline constexpr int kSgErrInvalidMessage = -1005;
inline constexpr int kSgErrNoSession = -1008;
inline constexpr int kSgErrUntrustedIdentity = -1010;

// Message types on the wire (ciphertext_message_get_type).
inline constexpr int kTypeSignal = 2;
inline constexpr int kTypePreKey = 3;
inline constexpr int kTypeSenderKey = 4;
inline constexpr int kTypeSenderKeyDistribution = 5;

// A libsignal error code, or a value.
template <typename T>
struct OracleResult {
  int error = kSgOk;
  T value{};
  bool ok() const { return error == kSgOk; }
};

struct OracleAddress {
  std::string name;
  std::int32_t device_id = 1;
};

// What a server hands out for one device: all public keys are 33 bytes starting with 0x05.
struct OracleBundle {
  std::uint32_t registration_id = 0;
  std::int32_t device_id = 1;
  std::optional<std::uint32_t> pre_key_id;  // absent: no one-time prekey
  OracleBytes pre_key_public;
  std::uint32_t signed_pre_key_id = 0;
  OracleBytes signed_pre_key_public;
  OracleBytes signed_pre_key_signature;  // XEdDSA over signed_pre_key_public, 64 bytes
  OracleBytes identity_key;
};

struct OracleCiphertext {
  int type = 0;  // kTypeSignal or kTypePreKey
  OracleBytes bytes;
};

class LibsignalPeer {
 public:
  // A new device with a fresh identity key pair and registration id.
  static std::unique_ptr<LibsignalPeer> create(std::string name, std::int32_t device_id = 1);
  // A device with the given identity: 32-byte Curve25519 private key (clamping is applied by
  // the curve code) and registration id. Lets tests give both implementations the same identity.
  static std::unique_ptr<LibsignalPeer> create_with_identity(std::string name,
                                                             std::int32_t device_id,
                                                             const OracleBytes& identity_private,
                                                             std::uint32_t registration_id);
  ~LibsignalPeer();
  LibsignalPeer(const LibsignalPeer&) = delete;
  LibsignalPeer& operator=(const LibsignalPeer&) = delete;

  const OracleAddress& address() const;
  std::uint32_t registration_id() const;
  OracleBytes identity_public() const;   // 33 bytes, 0x05-prefixed
  OracleBytes identity_private() const;  // 32 bytes

  // Generates and stores a signed prekey (and, if asked, a one-time prekey) under the given ids
  // and returns this device's bundle.
  OracleResult<OracleBundle> make_bundle(std::uint32_t signed_pre_key_id,
                                         std::optional<std::uint32_t> one_time_pre_key_id);
  bool has_pre_key(std::uint32_t pre_key_id) const;

  // X3DH as the initiator: verifies the bundle's signature and stores a session with `remote`.
  int process_bundle(const OracleAddress& remote, const OracleBundle& bundle);
  bool has_session(const OracleAddress& remote) const;

  OracleResult<OracleCiphertext> encrypt(const OracleAddress& remote, const OracleBytes& plaintext);
  // type: kTypePreKey or kTypeSignal.
  OracleResult<OracleBytes> decrypt(const OracleAddress& remote, int type,
                                    const OracleBytes& bytes);

  // Sender Keys. This device's own chain for `group_id`: created on first call; returns the
  // serialized SenderKeyDistributionMessage to send (pairwise) to the other members.
  OracleResult<OracleBytes> sender_key_distribution(const std::string& group_id);
  int process_sender_key_distribution(const std::string& group_id, const OracleAddress& sender,
                                      const OracleBytes& distribution);
  // Serialized SenderKeyMessage on this device's own chain.
  OracleResult<OracleBytes> group_encrypt(const std::string& group_id,
                                          const OracleBytes& plaintext);
  OracleResult<OracleBytes> group_decrypt(const std::string& group_id, const OracleAddress& sender,
                                          const OracleBytes& bytes);

  // XEdDSA with the identity key.
  OracleResult<OracleBytes> sign(const OracleBytes& message);

  struct Impl;

 private:
  explicit LibsignalPeer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Stateless helpers on the same library.

// XEdDSA verify with a 33-byte public key: 1 valid, 0 invalid, negative on malformed input.
int oracle_verify_signature(const OracleBytes& public_key, const OracleBytes& message,
                            const OracleBytes& signature);

struct OracleFingerprint {
  std::string displayable;  // 60 digits (lower identifier's half first, as libsignal orders it)
  OracleBytes scannable;    // serialized CombinedFingerprints protobuf
};
// Safety number for two identities (33-byte keys), as seen from `local`.
OracleResult<OracleFingerprint> oracle_fingerprint(const std::string& local_id,
                                                   const OracleBytes& local_key,
                                                   const std::string& remote_id,
                                                   const OracleBytes& remote_key,
                                                   int iterations = 5200);

// Parses a serialized message without any session and reports its fields; used to check what the
// other implementation put on the wire.
struct OracleMessageInfo {
  int version = 0;
  std::uint32_t counter = 0;                // SignalMessage: chain index
  OracleBytes ratchet_key;                  // SignalMessage: sender ratchet key
  std::optional<std::uint32_t> pre_key_id;  // PreKeySignalMessage
  std::uint32_t signed_pre_key_id = 0;      // PreKeySignalMessage
  std::uint32_t registration_id = 0;        // PreKeySignalMessage
  std::uint32_t key_id = 0;                 // SenderKey(Distribution)Message
  std::uint32_t iteration = 0;              // SenderKey(Distribution)Message
};
OracleResult<OracleMessageInfo> oracle_inspect(int type, const OracleBytes& bytes);

}  // namespace parley::interop
