// SPDX-License-Identifier: AGPL-3.0-or-later
#include "signal_crypto_provider.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>

#include <array>
#include <cstdint>
#include <vector>

namespace parley::interop::detail {
namespace {

int random_bytes(std::uint8_t* data, std::size_t len, void* /*user_data*/) {
  randombytes_buf(data, len);
  return SG_SUCCESS;
}

// --- HMAC-SHA256 through EVP_MAC -----------------------------------------------------------

int hmac_init(void** hmac_context, const std::uint8_t* key, std::size_t key_len, void*) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) return SG_ERR_UNKNOWN;
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  EVP_MAC_free(mac);  // the context keeps its own reference
  if (ctx == nullptr) return SG_ERR_NOMEM;
  char digest[] = "SHA256";
  std::array<OSSL_PARAM, 2> params = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx, key, key_len, params.data()) != 1) {
    EVP_MAC_CTX_free(ctx);
    return SG_ERR_UNKNOWN;
  }
  *hmac_context = ctx;
  return SG_SUCCESS;
}

int hmac_update(void* hmac_context, const std::uint8_t* data, std::size_t data_len, void*) {
  return EVP_MAC_update(static_cast<EVP_MAC_CTX*>(hmac_context), data, data_len) == 1
             ? SG_SUCCESS
             : SG_ERR_UNKNOWN;
}

int hmac_final(void* hmac_context, signal_buffer** output, void*) {
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> mac{};
  std::size_t len = 0;
  if (EVP_MAC_final(static_cast<EVP_MAC_CTX*>(hmac_context), mac.data(), &len, mac.size()) != 1) {
    return SG_ERR_UNKNOWN;
  }
  *output = signal_buffer_create(mac.data(), len);
  return *output != nullptr ? SG_SUCCESS : SG_ERR_NOMEM;
}

void hmac_cleanup(void* hmac_context, void*) {
  EVP_MAC_CTX_free(static_cast<EVP_MAC_CTX*>(hmac_context));
}

// --- SHA-512 -------------------------------------------------------------------------------

int sha512_init(void** digest_context, void*) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return SG_ERR_NOMEM;
  if (EVP_DigestInit_ex(ctx, EVP_sha512(), nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    return SG_ERR_UNKNOWN;
  }
  *digest_context = ctx;
  return SG_SUCCESS;
}

int sha512_update(void* digest_context, const std::uint8_t* data, std::size_t data_len, void*) {
  return EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(digest_context), data, data_len) == 1
             ? SG_SUCCESS
             : SG_ERR_UNKNOWN;
}

// libsignal reuses one context for many digests (fingerprints iterate 5200 times), so finishing
// must leave the context ready for the next message.
int sha512_final(void* digest_context, signal_buffer** output, void*) {
  auto* ctx = static_cast<EVP_MD_CTX*>(digest_context);
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, md.data(), &len) != 1) return SG_ERR_UNKNOWN;
  if (EVP_DigestInit_ex(ctx, EVP_sha512(), nullptr) != 1) return SG_ERR_UNKNOWN;
  *output = signal_buffer_create(md.data(), len);
  return *output != nullptr ? SG_SUCCESS : SG_ERR_NOMEM;
}

void sha512_cleanup(void* digest_context, void*) {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(digest_context));
}

// --- AES -----------------------------------------------------------------------------------

const EVP_CIPHER* aes_cipher(int cipher, std::size_t key_len) {
  const bool cbc = cipher == SG_CIPHER_AES_CBC_PKCS5;
  if (!cbc && cipher != SG_CIPHER_AES_CTR_NOPADDING) return nullptr;
  switch (key_len) {
    case 16:
      return cbc ? EVP_aes_128_cbc() : EVP_aes_128_ctr();
    case 24:
      return cbc ? EVP_aes_192_cbc() : EVP_aes_192_ctr();
    case 32:
      return cbc ? EVP_aes_256_cbc() : EVP_aes_256_ctr();
    default:
      return nullptr;
  }
}

// One function for both directions: EVP_CipherInit_ex's `enc` flag selects it.
int aes_crypt(bool encrypt, signal_buffer** output, int cipher, const std::uint8_t* key,
              std::size_t key_len, const std::uint8_t* iv, std::size_t iv_len,
              const std::uint8_t* input, std::size_t input_len) {
  const EVP_CIPHER* evp = aes_cipher(cipher, key_len);
  if (evp == nullptr || iv_len != 16) return SG_ERR_INVAL;
  if (input_len > static_cast<std::size_t>(INT32_MAX) - 32) return SG_ERR_INVAL;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return SG_ERR_NOMEM;

  std::vector<std::uint8_t> out(input_len + 32);
  int len1 = 0;
  int len2 = 0;
  int result = SG_ERR_UNKNOWN;
  if (EVP_CipherInit_ex(ctx, evp, nullptr, key, iv, encrypt ? 1 : 0) == 1 &&
      EVP_CIPHER_CTX_set_padding(ctx, cipher == SG_CIPHER_AES_CBC_PKCS5 ? 1 : 0) == 1 &&
      EVP_CipherUpdate(ctx, out.data(), &len1, input, static_cast<int>(input_len)) == 1 &&
      EVP_CipherFinal_ex(ctx, out.data() + len1, &len2) == 1) {
    *output = signal_buffer_create(out.data(),
                                   static_cast<std::size_t>(len1) + static_cast<std::size_t>(len2));
    result = *output != nullptr ? SG_SUCCESS : SG_ERR_NOMEM;
  }
  EVP_CIPHER_CTX_free(ctx);
  sodium_memzero(out.data(), out.size());
  return result;
}

int aes_encrypt(signal_buffer** output, int cipher, const std::uint8_t* key, std::size_t key_len,
                const std::uint8_t* iv, std::size_t iv_len, const std::uint8_t* plaintext,
                std::size_t plaintext_len, void*) {
  return aes_crypt(true, output, cipher, key, key_len, iv, iv_len, plaintext, plaintext_len);
}

int aes_decrypt(signal_buffer** output, int cipher, const std::uint8_t* key, std::size_t key_len,
                const std::uint8_t* iv, std::size_t iv_len, const std::uint8_t* ciphertext,
                std::size_t ciphertext_len, void*) {
  return aes_crypt(false, output, cipher, key, key_len, iv, iv_len, ciphertext, ciphertext_len);
}

}  // namespace

int install_crypto_provider(signal_context* context) {
  if (sodium_init() < 0) return SG_ERR_UNKNOWN;
  signal_crypto_provider provider{};
  provider.random_func = random_bytes;
  provider.hmac_sha256_init_func = hmac_init;
  provider.hmac_sha256_update_func = hmac_update;
  provider.hmac_sha256_final_func = hmac_final;
  provider.hmac_sha256_cleanup_func = hmac_cleanup;
  provider.sha512_digest_init_func = sha512_init;
  provider.sha512_digest_update_func = sha512_update;
  provider.sha512_digest_final_func = sha512_final;
  provider.sha512_digest_cleanup_func = sha512_cleanup;
  provider.encrypt_func = aes_encrypt;
  provider.decrypt_func = aes_decrypt;
  provider.user_data = nullptr;
  return signal_context_set_crypto_provider(context, &provider);
}

}  // namespace parley::interop::detail
