// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Fixed, deterministic test fixtures shared by the client fuzz targets and their seed generator
// (make_client_seeds.cpp): four accounts with identity keys derived from one-byte tags, a group
// id, and an attachment key. Seeds signed or encrypted with them carry valid signatures and MACs
// for exactly these keys, so mutations reach the checks behind the signature, not only the
// parser. None of this is anyone's key: every byte is computed from a constant.

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "parley/crypto/keys.h"
#include "parley/crypto/xeddsa.h"
#include "parley/util/bytes.h"
#include "parley/util/secret_bytes.h"

// Reports a broken invariant as a crash, which is what the fuzzer looks for.
#define PARLEY_FUZZ_CHECK(cond)                                                                    \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      (void)std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

namespace parley::client::fuzzing {

inline SecretBytes fixed_secret(std::uint8_t tag, std::size_t size = 32) {
  SecretBytes out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>(tag + 7 * i);
  return out;
}

inline Bytes fixed_bytes(std::uint8_t tag, std::size_t size) {
  Bytes out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>(tag ^ (i * 13));
  return out;
}

inline crypto::KeyPair fixed_key(std::uint8_t tag) {
  auto key = crypto::PrivateKey::parse(fixed_secret(tag).view());
  PARLEY_FUZZ_CHECK(key.ok());
  return crypto::KeyPair::from_private(std::move(key).value());
}

// XEdDSA with a fixed nonce, so seeds are byte-for-byte reproducible.
inline Bytes fixed_sign(const crypto::PrivateKey& key, ByteView message) {
  const Bytes nonce(crypto::kXeddsaRandomSize, 0x5a);
  auto signature = crypto::xeddsa_sign(key, message, nonce);
  PARLEY_FUZZ_CHECK(signature.ok());
  return std::move(signature).value();
}

// One fixed account: a 16-byte id whose first byte orders the accounts (alice < bob < carol <
// dave), and an identity key.
struct FixedAccount {
  std::string name;
  Bytes account_id;
  crypto::KeyPair identity;
};

class FixedAccounts {
 public:
  FixedAccounts() {
    const char* names[] = {"alice", "bob", "carol", "dave"};
    for (std::size_t i = 0; i < 4; ++i) {
      Bytes id = fixed_bytes(static_cast<std::uint8_t>(0xa0 + i), 16);
      id[0] = static_cast<std::uint8_t>(0x10 * (i + 1));
      accounts_.push_back(
          {names[i], std::move(id), fixed_key(static_cast<std::uint8_t>(0x11 * (i + 1)))});
    }
  }
  const FixedAccount& operator[](std::size_t i) const { return accounts_.at(i); }
  std::size_t size() const { return accounts_.size(); }
  // The account with this id, or nullptr.
  const FixedAccount* find(ByteView account_id) const {
    for (const auto& account : accounts_) {
      if (as_string_view(account.account_id) == as_string_view(account_id)) return &account;
    }
    return nullptr;
  }

 private:
  std::vector<FixedAccount> accounts_;
};

inline const FixedAccounts& fixed_accounts() {
  static const FixedAccounts accounts;
  return accounts;
}

inline Bytes fixed_group_id() {
  return fixed_bytes(0x6b, 16);
}

// The attachment key every attachment seed is encrypted with (32 bytes).
inline SecretBytes fixed_attachment_key() {
  return fixed_secret(0xc3);
}

// The header of every attachment seed (24 bytes; a real sender draws it at random).
inline Bytes fixed_attachment_header() {
  return fixed_bytes(0x3c, 24);
}

// The plaintext chunk sizes the attachment fuzzer selects with the low two bits of its first
// byte (real files use 64 KiB; small ones keep inputs small and reach many chunks).
inline constexpr std::array<std::uint32_t, 4> kAttachmentChunkSizes = {16, 64, 1000, 4096};

}  // namespace parley::client::fuzzing
