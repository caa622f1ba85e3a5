// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Safety numbers: Signal's NumericFingerprint (version 0), as libsignal computes it.
//
// Per side: h = SHA-512(0x00 0x00 || identityKey(33) || stableId || identityKey), then
// h = SHA-512(h || identityKey) for the remaining iterations. The first 30 bytes give six 5-digit
// groups (each 5-byte big-endian chunk mod 100000). The display string is both sides' 30 digits,
// the smaller first, so both people see the same 60 digits. The scannable form is libsignal's
// CombinedFingerprints protobuf (version 1: the first 32 bytes of each side's hash).

#include <cstdint>
#include <string>
#include <string_view>

#include "parley/crypto/keys.h"
#include "parley/util/bytes.h"
#include "parley/util/status.h"

namespace parley::crypto {

inline constexpr int kFingerprintIterations = 5200;
inline constexpr std::uint32_t kScannableFingerprintVersion = 1;

class ScannableFingerprint {
 public:
  ScannableFingerprint(Bytes local, Bytes remote)
      : local_(std::move(local)), remote_(std::move(remote)) {}

  // kMalformedInput for bad protobuf or missing parts; kUnsupportedVersion unless version 1.
  static Result<ScannableFingerprint> parse(ByteView serialized);
  Bytes serialize() const;

  const Bytes& local() const { return local_; }
  const Bytes& remote() const { return remote_; }

  // True when `scanned` (the other phone's code) matches: its local is our remote and vice versa.
  // Errors come from parsing `scanned`.
  Result<bool> matches(ByteView scanned) const;

 private:
  Bytes local_;
  Bytes remote_;
};

class Fingerprint {
 public:
  // `iterations` must be >= 1 (kInvalidArgument); Signal uses kFingerprintIterations.
  static Result<Fingerprint> create(std::string_view local_stable_id, const PublicKey& local_key,
                                    std::string_view remote_stable_id, const PublicKey& remote_key,
                                    int iterations = kFingerprintIterations);

  // 60 digits, identical on both sides.
  const std::string& display_text() const { return display_; }
  const std::string& local_digits() const { return local_digits_; }
  const std::string& remote_digits() const { return remote_digits_; }
  const ScannableFingerprint& scannable() const { return scannable_; }

 private:
  Fingerprint(std::string local, std::string remote, ScannableFingerprint scannable);

  std::string local_digits_;
  std::string remote_digits_;
  std::string display_;
  ScannableFingerprint scannable_;
};

}  // namespace parley::crypto
