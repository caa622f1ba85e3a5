// SPDX-License-Identifier: AGPL-3.0-or-later
#include "pin_check.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstddef>

#include "channel_text.h"
#include "fingerprint.h"

namespace parley::net {

Status check_certificate_pin(SSL* ssl, const Bytes& pin, const std::string& endpoint) {
  X509* leaf = SSL_get0_peer_certificate(ssl);
  if (leaf == nullptr) {
    return Status::error(ErrorCode::kCertificateUntrusted,
                         "the server " + endpoint + " sent no certificate");
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (X509_digest(leaf, EVP_sha256(), digest, &size) != 1 || size != kSha256Bytes) {
    return Status::error(ErrorCode::kInternal, "openssl: cannot hash the certificate");
  }
  if (CRYPTO_memcmp(digest, pin.data(), kSha256Bytes) != 0) {
    return Status::error(ErrorCode::kCertificateUntrusted,
                         "the certificate fingerprint of " + endpoint + ", " +
                             format_sha256_fingerprint(ByteView(digest, size)) +
                             ", does not match the pinned one");
  }
  return {};
}

Status check_relay_key_pin(SSL* ssl, const std::string& pin_hex, const std::string& target) {
  X509* leaf = SSL_get0_peer_certificate(ssl);
  if (leaf == nullptr) {
    return Status::error(ErrorCode::kCertificateUntrusted,
                         "the relay " + target + " sent no certificate");
  }
  unsigned char* der = nullptr;
  int size = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), &der);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  int hashed = size > 0 ? EVP_Digest(der, static_cast<std::size_t>(size), digest, &digest_size,
                                     EVP_sha256(), nullptr)
                        : 0;
  OPENSSL_free(der);
  if (hashed != 1 || digest_size != kSha256Bytes) {
    return Status::error(ErrorCode::kInternal, "openssl: cannot hash the relay's key");
  }
  const std::string actual = lowercase_hex(digest, digest_size);
  const std::string& expected = pin_hex;
  if (expected.size() != actual.size() ||
      CRYPTO_memcmp(expected.data(), actual.data(), actual.size()) != 0) {
    return Status::error(ErrorCode::kCertificateUntrusted,
                         "the relay's key does not match the link's pin (" + target + ")");
  }
  return {};
}

}  // namespace parley::net
