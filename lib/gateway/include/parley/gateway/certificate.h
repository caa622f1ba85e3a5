// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Self-signed TLS certificates for a server that has none yet (first run, tests, local use).
// Clients that connect to such a server pin its certificate or key; the certificate names
// localhost and the loopback addresses by default.

#include <string>
#include <vector>

#include "parley/util/status.h"

namespace parley::gateway {

enum class CertificateKeyType { kP256, kEd25519 };

struct SelfSignedOptions {
  CertificateKeyType key_type = CertificateKeyType::kP256;
  std::string common_name = "localhost";
  std::vector<std::string> dns_names = {"localhost"};
  std::vector<std::string> ip_addresses = {"127.0.0.1", "::1"};
  int valid_days = 825;
};

struct CertificateFiles {
  std::string cert_file;  // <dir>/server-cert.pem
  std::string key_file;   // <dir>/server-key.pem, mode 0600
};

// The file names used inside a directory, whether or not they exist.
CertificateFiles certificate_files_in(const std::string& dir);

// Generates a fresh key and a self-signed X.509 v3 certificate (SAN with the names and addresses)
// and writes both as PEM into `dir` (created if missing), replacing existing files atomically.
// Errors: kInvalidArgument (a bad IP address or validity), kStorageIo (cannot write), kInternal.
Result<CertificateFiles> write_self_signed_certificate(const std::string& dir,
                                                       const SelfSignedOptions& options = {});

// "SHA256:AB:CD:..." of the certificate's DER encoding, for pinning and for the operator's log.
// kNotFound (no such file), kInvalidKey (not a PEM certificate).
Result<std::string> certificate_fingerprint(const std::string& cert_file);

}  // namespace parley::gateway
