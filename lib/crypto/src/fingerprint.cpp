// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/crypto/fingerprint.h"

#include <openssl/evp.h>

#include <array>
#include <cstdlib>
#include <memory>

#include "parley/crypto/hash.h"
#include "wire.pb.h"

namespace parley::crypto {
namespace {

inline constexpr std::size_t kScannableSize = 32;
inline constexpr std::size_t kDisplayBytes = 30;

// h0 = 0x00 0x00 || key || id; h(i+1) = SHA-512(h(i) || key), `iterations` times.
std::array<std::uint8_t, kSha512Size> iterated_hash(std::string_view stable_id,
                                                    const PublicKey& key, int iterations) {
  const Bytes key_bytes = key.serialize();
  Bytes data{0x00, 0x00};
  append(data, key_bytes);
  append(data, as_bytes(stable_id));
  std::array<std::uint8_t, kSha512Size> hash{};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  for (int i = 0; i < iterations; ++i) {
    ByteView input = i == 0 ? ByteView(data) : ByteView(hash);
    unsigned int len = 0;
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha512(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), input.data(), input.size()) != 1 ||
        EVP_DigestUpdate(ctx.get(), key_bytes.data(), key_bytes.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), hash.data(), &len) != 1) {
      std::abort();
    }
  }
  return hash;
}

// Six groups of five digits: each 5-byte big-endian chunk mod 100000.
std::string display_digits(ByteView hash) {
  std::string out;
  for (std::size_t i = 0; i < kDisplayBytes; i += 5) {
    std::uint64_t chunk = 0;
    for (std::size_t j = 0; j < 5; ++j) chunk = (chunk << 8) | hash[i + j];
    std::uint64_t value = chunk % 100000;
    char group[5];
    for (int d = 4; d >= 0; --d) {
      group[d] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
    out.append(group, sizeof group);
  }
  return out;
}

}  // namespace

Result<ScannableFingerprint> ScannableFingerprint::parse(ByteView serialized) {
  if (serialized.size() > 4096) return Status::error(ErrorCode::kTooLarge, "fingerprint too large");
  wire::CombinedFingerprints proto;
  if (!proto.ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
    return Status::error(ErrorCode::kMalformedInput, "fingerprint is not valid protobuf");
  }
  if (!proto.has_version() || proto.version() != kScannableFingerprintVersion) {
    return Status::error(ErrorCode::kUnsupportedVersion, "unsupported fingerprint version");
  }
  if (!proto.has_local_fingerprint() || !proto.local_fingerprint().has_content() ||
      !proto.has_remote_fingerprint() || !proto.remote_fingerprint().has_content()) {
    return Status::error(ErrorCode::kMalformedInput, "fingerprint lacks a part");
  }
  const std::string& local = proto.local_fingerprint().content();
  const std::string& remote = proto.remote_fingerprint().content();
  return ScannableFingerprint(Bytes(local.begin(), local.end()),
                              Bytes(remote.begin(), remote.end()));
}

Bytes ScannableFingerprint::serialize() const {
  wire::CombinedFingerprints proto;
  proto.set_version(kScannableFingerprintVersion);
  proto.mutable_local_fingerprint()->set_content(std::string(as_string_view(local_)));
  proto.mutable_remote_fingerprint()->set_content(std::string(as_string_view(remote_)));
  std::string out;
  proto.SerializeToString(&out);
  return to_bytes(out);
}

Result<bool> ScannableFingerprint::matches(ByteView scanned) const {
  PARLEY_ASSIGN_OR_RETURN(ScannableFingerprint theirs, parse(scanned));
  return constant_time_equal(theirs.local_, remote_) && constant_time_equal(theirs.remote_, local_);
}

Fingerprint::Fingerprint(std::string local, std::string remote, ScannableFingerprint scannable)
    : local_digits_(std::move(local)),
      remote_digits_(std::move(remote)),
      display_(local_digits_ <= remote_digits_ ? local_digits_ + remote_digits_
                                               : remote_digits_ + local_digits_),
      scannable_(std::move(scannable)) {}

Result<Fingerprint> Fingerprint::create(std::string_view local_stable_id,
                                        const PublicKey& local_key,
                                        std::string_view remote_stable_id,
                                        const PublicKey& remote_key, int iterations) {
  if (iterations < 1) return Status::error(ErrorCode::kInvalidArgument, "iterations must be >= 1");
  auto local = iterated_hash(local_stable_id, local_key, iterations);
  auto remote = iterated_hash(remote_stable_id, remote_key, iterations);
  ScannableFingerprint scannable(Bytes(local.begin(), local.begin() + kScannableSize),
                                 Bytes(remote.begin(), remote.begin() + kScannableSize));
  return Fingerprint(display_digits(local), display_digits(remote), std::move(scannable));
}

}  // namespace parley::crypto
