// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/crypto/xeddsa.h"

#include <openssl/bn.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <memory>

#include "parley/crypto/hash.h"
#include "parley/crypto/random.h"
#include "sodium.h"

namespace parley::crypto {
namespace {

using Scalar = std::array<std::uint8_t, 32>;

// x mod q for a 32-byte little-endian value (crypto_core_ed25519_scalar_reduce takes 64 bytes).
void reduce32(std::span<const std::uint8_t, 32> in, std::span<std::uint8_t, 32> out) {
  std::array<std::uint8_t, 64> wide{};
  std::copy(in.begin(), in.end(), wide.begin());
  crypto_core_ed25519_scalar_reduce(out.data(), wide.data());
  sodium_memzero(wide.data(), wide.size());
}

struct BnDeleter {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
struct BnCtxDeleter {
  void operator()(BN_CTX* ctx) const { BN_CTX_free(ctx); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;

// Edwards y = (u - 1) / (u + 1) mod p for a Montgomery u (public data, so variable time is fine).
// Fails for u >= p (not a canonical field element) and u = p - 1 (no inverse), as XEdDSA requires.
Result<Scalar> montgomery_u_to_edwards_y(ByteView u_le) {
  std::unique_ptr<BN_CTX, BnCtxDeleter> ctx(BN_CTX_new());
  BnPtr p(BN_new()), u(BN_new()), num(BN_new()), den(BN_new()), y(BN_new());
  if (!ctx || !p || !u || !num || !den || !y) {
    return Status::error(ErrorCode::kInternal, "BIGNUM allocation failed");
  }
  // p = 2^255 - 19
  if (BN_set_bit(p.get(), 255) != 1 || BN_sub_word(p.get(), 19) != 1 ||
      BN_lebin2bn(u_le.data(), static_cast<int>(u_le.size()), u.get()) == nullptr) {
    return Status::error(ErrorCode::kInternal, "BIGNUM setup failed");
  }
  if (BN_cmp(u.get(), p.get()) >= 0) {
    return Status::error(ErrorCode::kInvalidKey, "public key is not a canonical field element");
  }
  if (BN_copy(num.get(), u.get()) == nullptr || BN_copy(den.get(), u.get()) == nullptr ||
      BN_add_word(den.get(), 1) != 1 ||
      BN_mod_sub(num.get(), u.get(), BN_value_one(), p.get(), ctx.get()) != 1) {
    return Status::error(ErrorCode::kInternal, "BIGNUM arithmetic failed");
  }
  if (BN_cmp(den.get(), p.get()) == 0) {
    return Status::error(ErrorCode::kInvalidKey, "public key has no Edwards form");
  }
  if (BN_mod_inverse(den.get(), den.get(), p.get(), ctx.get()) == nullptr ||
      BN_mod_mul(y.get(), num.get(), den.get(), p.get(), ctx.get()) != 1) {
    return Status::error(ErrorCode::kInvalidKey, "public key has no Edwards form");
  }
  Scalar out{};
  if (BN_bn2lebinpad(y.get(), out.data(), static_cast<int>(out.size())) != 32) {
    return Status::error(ErrorCode::kInternal, "BIGNUM encoding failed");
  }
  return out;
}

}  // namespace

Result<Bytes> xeddsa_sign(const PrivateKey& key, ByteView message, ByteView random) {
  if (random.size() != kXeddsaRandomSize) {
    return Status::error(ErrorCode::kInvalidArgument, "XEdDSA needs 64 random bytes");
  }
  detail::ensure_sodium();
  const SecretBytes& k = key.serialize();

  // calculate_key_pair(k): a = k mod q, A = aB; force A's sign bit to 0 by negating a.
  SecretBytes a(32);
  reduce32(std::span<const std::uint8_t, 32>(k.data(), 32),
           std::span<std::uint8_t, 32>(a.data(), 32));
  Scalar A{};
  if (crypto_scalarmult_ed25519_base_noclamp(A.data(), a.data()) != 0) {
    return Status::error(ErrorCode::kInvalidKey, "private key is zero mod q");
  }
  if ((A[31] & 0x80) != 0) {
    SecretBytes negated(32);
    crypto_core_ed25519_scalar_negate(negated.data(), a.data());
    a = std::move(negated);
    A[31] &= 0x7F;
  }

  // r = hash_1(a || M || Z) mod q, where hash_1(X) = SHA-512(0xFE || 0xFF*31 || X).
  SecretBytes nonce_input;
  std::array<std::uint8_t, 32> prefix{};
  prefix.fill(0xFF);
  prefix[0] = 0xFE;
  nonce_input.append(prefix);
  nonce_input.append(a.view());
  nonce_input.append(message);
  nonce_input.append(random);
  SecretBytes wide_r(64);
  {
    auto digest = sha512(nonce_input.view());
    std::copy(digest.begin(), digest.end(), wide_r.data());
    sodium_memzero(digest.data(), digest.size());
  }
  SecretBytes r(32);
  crypto_core_ed25519_scalar_reduce(r.data(), wide_r.data());

  // R = rB; h = SHA-512(R || A || M) mod q; s = r + h*a mod q.
  Scalar R{};
  if (crypto_scalarmult_ed25519_base_noclamp(R.data(), r.data()) != 0) {
    return Status::error(ErrorCode::kInternal, "nonce is zero mod q");
  }
  Bytes hram_input;
  hram_input.reserve(64 + message.size());
  append(hram_input, R);
  append(hram_input, A);
  append(hram_input, message);
  auto hram = sha512(hram_input);
  Scalar h{};
  crypto_core_ed25519_scalar_reduce(h.data(), hram.data());
  SecretBytes ha(32);
  crypto_core_ed25519_scalar_mul(ha.data(), h.data(), a.data());
  Scalar s{};
  crypto_core_ed25519_scalar_add(s.data(), r.data(), ha.data());

  Bytes signature;
  signature.reserve(kSignatureSize);
  append(signature, R);
  append(signature, s);
  return signature;
}

Bytes xeddsa_sign(const PrivateKey& key, ByteView message) {
  std::array<std::uint8_t, kXeddsaRandomSize> z{};
  fill_random(z);
  // Cannot fail: the random size is right and a clamped key is never zero mod q.
  Result<Bytes> signature = xeddsa_sign(key, message, z);
  sodium_memzero(z.data(), z.size());
  return std::move(signature).value();
}

Status ed25519_verify(ByteView edwards_public_key, ByteView message, ByteView signature) {
  if (edwards_public_key.size() != crypto_sign_ed25519_PUBLICKEYBYTES) {
    return Status::error(ErrorCode::kInvalidKey, "Edwards public key must be 32 bytes");
  }
  if (signature.size() != kSignatureSize) {
    return Status::error(ErrorCode::kBadSignature, "signature must be 64 bytes");
  }
  detail::ensure_sodium();
  if (crypto_sign_ed25519_verify_detached(signature.data(), message.data(), message.size(),
                                          edwards_public_key.data()) != 0) {
    return Status::error(ErrorCode::kBadSignature, "signature does not verify");
  }
  return Status();
}

Status xeddsa_verify(const PublicKey& key, ByteView message, ByteView signature) {
  if (signature.size() != kSignatureSize) {
    return Status::error(ErrorCode::kBadSignature, "signature must be 64 bytes");
  }
  Result<Scalar> y = montgomery_u_to_edwards_y(key.raw());
  if (!y.ok()) return Status::error(ErrorCode::kBadSignature, "signing key is not usable");
  // The top bit of s is never set in a valid signature (s < q < 2^253); libsignal's older signer
  // stores the Edwards sign bit there, and XEdDSA signers leave it 0 (= the forced sign).
  Scalar edwards = *y;
  edwards[31] = static_cast<std::uint8_t>((edwards[31] & 0x7F) | (signature[63] & 0x80));
  std::array<std::uint8_t, kSignatureSize> sig{};
  std::copy(signature.begin(), signature.end(), sig.begin());
  sig[63] &= 0x7F;
  return ed25519_verify(edwards, message, sig);
}

}  // namespace parley::crypto
