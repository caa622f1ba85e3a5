// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Stable, numbered error codes shared by every layer and carried on the wire.
//
// A code's number never changes once it has shipped: clients map numbers to words, and servers
// send numbers in responses. Add new codes at the end of their hundred; never renumber or reuse.
// Ranges: 0 ok · 1xx general · 2xx input/parsing · 3xx crypto · 4xx storage · 5xx network/protocol.

#include <cstdint>
#include <optional>
#include <string_view>

namespace parley {

// X(name, number, short_name, description). The single list behind the enum and its names.
#define PARLEY_ERROR_CODES(X)                                                                      \
  X(kOk, 0, "ok", "no error")                                                                      \
  X(kInvalidArgument, 100, "invalid_argument", "an argument is not valid")                         \
  X(kOutOfRange, 101, "out_of_range", "a value is outside its allowed range")                      \
  X(kNotFound, 102, "not_found", "the requested item does not exist")                              \
  X(kAlreadyExists, 103, "already_exists", "the item already exists")                              \
  X(kResourceExhausted, 104, "resource_exhausted", "a limit was reached")                          \
  X(kFailedPrecondition, 105, "failed_precondition", "the operation is not allowed in this state") \
  X(kPermissionDenied, 106, "permission_denied", "the caller may not do this")                     \
  X(kUnauthenticated, 107, "unauthenticated", "the caller is not authenticated")                   \
  X(kUnavailable, 108, "unavailable", "the service is unavailable; retry later")                   \
  X(kTimeout, 109, "timeout", "the operation timed out")                                           \
  X(kCancelled, 110, "cancelled", "the operation was cancelled")                                   \
  X(kUnimplemented, 111, "unimplemented", "the operation is not supported")                        \
  X(kNotInitialized, 112, "not_initialized",                                                       \
    "this home has no account yet; run `parley init` or `parley join-device` first")               \
  X(kExpired, 113, "expired", "the item expired and was deleted")                                  \
  X(kInternal, 199, "internal", "internal error (a bug)")                                          \
  X(kMalformedInput, 200, "malformed_input", "the input could not be parsed")                      \
  X(kTooLarge, 201, "too_large", "the input exceeds its size limit")                               \
  X(kUnsupportedVersion, 202, "unsupported_version", "the format version is not supported")        \
  X(kInvalidEncoding, 203, "invalid_encoding", "the text is not valid hex, base64 or UTF-8")       \
  X(kInvalidUsername, 204, "invalid_username",                                                     \
    "a username must be 3 to 32 characters of a-z, 0-9, '_' and '.'")                              \
  X(kInvalidKey, 300, "invalid_key", "a key is malformed or of the wrong type")                    \
  X(kBadSignature, 301, "bad_signature", "a signature does not verify")                            \
  X(kBadMac, 302, "bad_mac", "a message authentication code does not verify")                      \
  X(kDecryptFailed, 303, "decrypt_failed", "a ciphertext could not be decrypted")                  \
  X(kDuplicateMessage, 304, "duplicate_message", "the message was already received")               \
  X(kNoSession, 305, "no_session", "there is no session with this device")                         \
  X(kUntrustedIdentity, 306, "untrusted_identity", "the peer's identity key changed")              \
  X(kTooManySkipped, 307, "too_many_skipped", "too many messages were skipped")                    \
  X(kRandomFailure, 308, "random_failure", "the system random generator failed")                   \
  X(kDeviceListInvalid, 309, "device_list_invalid",                                                \
    "a signed device list does not verify against the account's identity key")                     \
  X(kStorageIo, 400, "storage_io", "the store could not read or write")                            \
  X(kStorageCorrupt, 401, "storage_corrupt", "the store is corrupted")                             \
  X(kStorageFull, 402, "storage_full", "the store has no space left")                              \
  X(kQueueFull, 403, "queue_full", "the queue is at its capacity")                                 \
  X(kWrongDatabaseKey, 404, "wrong_database_key",                                                  \
    "the local database cannot be opened with this passphrase or key file")                        \
  X(kQuotaExceeded, 405, "quota_exceeded", "the account's storage quota is used up")               \
  X(kProtocolViolation, 500, "protocol_violation", "the peer broke the protocol")                  \
  X(kConnectionClosed, 501, "connection_closed", "the connection was closed")                      \
  X(kRateLimited, 502, "rate_limited", "too many requests; slow down")                             \
  X(kDeviceMismatch, 503, "device_mismatch", "the recipient's device list has changed")            \
  X(kBadProofOfWork, 504, "bad_proof_of_work", "the proof of work is missing or insufficient")     \
  X(kChallengeInvalid, 505, "challenge_invalid", "the challenge is unknown, used or expired")      \
  X(kCertificateUntrusted, 506, "certificate_untrusted",                                           \
    "the server's TLS certificate is not the trusted one")                                         \
  X(kProxyFailed, 507, "proxy_failed", "the proxy refused or could not make the connection")       \
  X(kRelayRefused, 508, "relay_refused",                                                           \
    "the relay did not accept the link (wrong secret, or a stale link)")                           \
  X(kStalled, 509, "stalled", "the connection stopped moving data")

enum class ErrorCode : std::uint16_t {
#define PARLEY_ERROR_ENUM(name, number, short_name, description) name = number,
  PARLEY_ERROR_CODES(PARLEY_ERROR_ENUM)
#undef PARLEY_ERROR_ENUM
};

// "bad_signature" — stable identifier for logs and scripts.
std::string_view error_code_name(ErrorCode code);

// "a signature does not verify" — words for people.
std::string_view error_code_description(ErrorCode code);

// Maps a number received from the wire back to a known code; nullopt for unknown numbers.
std::optional<ErrorCode> error_code_from_number(std::uint32_t number);

}  // namespace parley
