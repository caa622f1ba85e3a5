// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// What makes a relay "this relay" across restarts: its secret and its TLS key. Both live in the
// data directory, are created on first start (mode 0600) and are reused afterwards, so a share
// link stays valid until the operator deletes them.

#include <cstdint>
#include <string>

#include "parley/util/status.h"

namespace parley::relay {

struct RelayIdentity {
  std::string secret_hex;  // 32 lowercase hex digits
  std::string cert_file;
  std::string key_file;
  std::string pin_hex;  // SHA-256 of the certificate's SubjectPublicKeyInfo (DER), lowercase hex
};

// Loads <data_dir>/secret and the certificate (`cert_file`/`key_file` when given, else
// <data_dir>/tls/server-{cert,key}.pem), creating what is missing. A generated certificate names
// `cover_name` (or "localhost" when empty).
Result<RelayIdentity> load_or_create_identity(const std::string& data_dir,
                                              const std::string& cover_name,
                                              const std::string& cert_file = {},
                                              const std::string& key_file = {});

// The link pin of the certificate in a PEM file (net::spki_pin_of_certificate_pem).
Result<std::string> spki_pin_of_certificate_file(const std::string& cert_file);

// The share link for this identity: parley://relay?host=…&port=…&secret=…&pin=…[&sni=…][&name=…].
std::string share_link(const RelayIdentity& identity, const std::string& public_host,
                       std::uint16_t public_port, const std::string& cover_name,
                       const std::string& name);

}  // namespace parley::relay
