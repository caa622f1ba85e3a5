// SPDX-License-Identifier: AGPL-3.0-or-later
#include "tls_trust.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace parley::net {
namespace {

std::string openssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace

Status configure_trust(SSL_CTX* ctx, const TlsTrust& trust, bool pinned) {
  if (pinned) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return Status();
  }
  if (!trust.ca_file.empty()) {
    std::error_code exists_error;
    if (!std::filesystem::is_regular_file(trust.ca_file, exists_error)) {
      return Status::error(ErrorCode::kNotFound,
                           "the CA file " + trust.ca_file + " does not exist");
    }
    if (SSL_CTX_load_verify_locations(ctx, trust.ca_file.c_str(), nullptr) != 1) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "cannot load the CA file " + trust.ca_file +
                               " (it must hold PEM certificates): " + openssl_error());
    }
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx), X509_V_FLAG_PARTIAL_CHAIN);
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return Status::error(ErrorCode::kUnavailable,
                         "cannot load the system's trusted certificates: " + openssl_error());
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  return Status();
}

}  // namespace parley::net
