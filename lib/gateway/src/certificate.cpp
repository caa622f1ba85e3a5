// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/gateway/certificate.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <system_error>

namespace parley::gateway {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
  void operator()(ASN1_OCTET_STRING* p) const { ASN1_OCTET_STRING_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

Status openssl_error(std::string_view what) {
  return Status::error(ErrorCode::kInternal, "openssl: " + std::string(what));
}

Result<Owned<EVP_PKEY>> generate_key(CertificateKeyType type) {
  EVP_PKEY* key = type == CertificateKeyType::kEd25519
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (key == nullptr) return openssl_error("key generation failed");
  return Owned<EVP_PKEY>(key);
}

Status add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  Owned<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) return openssl_error("adding an extension");
  return {};
}

Status add_subject_alt_names(X509* cert, const SelfSignedOptions& options) {
  Owned<GENERAL_NAMES> names(GENERAL_NAMES_new());
  if (!names) return openssl_error("allocation");
  for (const auto& dns : options.dns_names) {
    GENERAL_NAME* name = GENERAL_NAME_new();
    ASN1_IA5STRING* text = ASN1_IA5STRING_new();
    if (name == nullptr || text == nullptr ||
        ASN1_STRING_set(text, dns.data(), static_cast<int>(dns.size())) != 1) {
      GENERAL_NAME_free(name);
      ASN1_IA5STRING_free(text);
      return openssl_error("allocation");
    }
    GENERAL_NAME_set0_value(name, GEN_DNS, text);
    sk_GENERAL_NAME_push(names.get(), name);
  }
  for (const auto& ip : options.ip_addresses) {
    Owned<ASN1_OCTET_STRING> address(a2i_IPADDRESS(ip.c_str()));
    if (!address) {
      return Status::error(ErrorCode::kInvalidArgument, "not an IP address: " + ip);
    }
    GENERAL_NAME* name = GENERAL_NAME_new();
    if (name == nullptr) return openssl_error("allocation");
    GENERAL_NAME_set0_value(name, GEN_IPADD, address.release());
    sk_GENERAL_NAME_push(names.get(), name);
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return openssl_error("adding subjectAltName");
  }
  return {};
}

Result<Owned<X509>> make_certificate(EVP_PKEY* key, const SelfSignedOptions& options) {
  Owned<X509> cert(X509_new());
  if (!cert) return openssl_error("allocation");
  if (X509_set_version(cert.get(), 2) != 1) return openssl_error("version");

  // A random positive 159-bit serial, as RFC 5280 recommends for uniqueness.
  unsigned char serial_bytes[20];
  if (RAND_bytes(serial_bytes, sizeof serial_bytes) != 1) {
    return Status::error(ErrorCode::kRandomFailure, "no randomness for the serial number");
  }
  serial_bytes[0] &= 0x7f;
  Owned<BIGNUM> serial(BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr));
  if (!serial || BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return openssl_error("serial number");
  }

  // Valid from an hour ago, so a client with a slightly slow clock accepts it at once.
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), options.valid_days, 0, nullptr) == nullptr) {
    return openssl_error("validity");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(
          name, "CN", MBSTRING_UTF8,
          reinterpret_cast<const unsigned char*>(options.common_name.c_str()), -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), key) != 1) {
    return openssl_error("subject");
  }
  PARLEY_RETURN_IF_ERROR(add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  PARLEY_RETURN_IF_ERROR(add_extension(cert.get(), NID_key_usage, "critical,digitalSignature"));
  PARLEY_RETURN_IF_ERROR(add_extension(cert.get(), NID_ext_key_usage, "serverAuth"));
  PARLEY_RETURN_IF_ERROR(add_extension(cert.get(), NID_subject_key_identifier, "hash"));
  PARLEY_RETURN_IF_ERROR(add_subject_alt_names(cert.get(), options));

  // Ed25519 signs without a separate digest.
  const EVP_MD* digest = EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
  if (X509_sign(cert.get(), key, digest) <= 0) return openssl_error("signing");
  return cert;
}

Result<std::string> to_pem(const std::function<int(BIO*)>& write) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) return openssl_error("PEM encoding");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  std::string pem(data, static_cast<std::size_t>(size));
  return pem;
}

// Writes `content` to `path` with `mode` through a temporary file and rename, so a reader never
// sees half a file and the key is never readable by others, not even for a moment.
Status write_file_atomically(const std::string& path, const std::string& content, mode_t mode) {
  std::string temp = path + ".tmp";
  ::unlink(temp.c_str());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return Status::error(ErrorCode::kStorageIo,
                         "cannot create " + temp + ": " + std::generic_category().message(errno));
  }
  std::size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int error = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      return Status::error(ErrorCode::kStorageIo,
                           "cannot write " + temp + ": " + std::generic_category().message(error));
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(temp.c_str(), path.c_str()) != 0) {
    int error = errno;
    ::unlink(temp.c_str());
    return Status::error(ErrorCode::kStorageIo,
                         "cannot write " + path + ": " + std::generic_category().message(error));
  }
  return {};
}

}  // namespace

CertificateFiles certificate_files_in(const std::string& dir) {
  std::filesystem::path base(dir);
  return {(base / "server-cert.pem").string(), (base / "server-key.pem").string()};
}

Result<CertificateFiles> write_self_signed_certificate(const std::string& dir,
                                                       const SelfSignedOptions& options) {
  if (options.valid_days <= 0) {
    return Status::error(ErrorCode::kInvalidArgument, "validity must be at least one day");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Status::error(ErrorCode::kStorageIo, "cannot create " + dir + ": " + ec.message());
  }

  PARLEY_ASSIGN_OR_RETURN(auto key, generate_key(options.key_type));
  PARLEY_ASSIGN_OR_RETURN(auto cert, make_certificate(key.get(), options));
  PARLEY_ASSIGN_OR_RETURN(std::string key_pem, to_pem([&](BIO* bio) {
                            return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0,
                                                            nullptr, nullptr);
                          }));
  PARLEY_ASSIGN_OR_RETURN(std::string cert_pem,
                          to_pem([&](BIO* bio) { return PEM_write_bio_X509(bio, cert.get()); }));

  CertificateFiles files = certificate_files_in(dir);
  // Key first: a certificate on disk always has its key beside it.
  PARLEY_RETURN_IF_ERROR(write_file_atomically(files.key_file, key_pem, 0600));
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  PARLEY_RETURN_IF_ERROR(write_file_atomically(files.cert_file, cert_pem, 0644));
  return files;
}

Result<std::string> certificate_fingerprint(const std::string& cert_file) {
  std::FILE* file = std::fopen(cert_file.c_str(), "r");
  if (file == nullptr) {
    return Status::error(ErrorCode::kNotFound, "cannot open " + cert_file);
  }
  Owned<X509> cert(PEM_read_X509(file, nullptr, nullptr, nullptr));
  (void)std::fclose(file);  // read-only: nothing was written that a failed close could lose
  if (!cert) return Status::error(ErrorCode::kInvalidKey, "not a PEM certificate: " + cert_file);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (X509_digest(cert.get(), EVP_sha256(), digest, &size) != 1) return openssl_error("digest");
  static const char kHex[] = "0123456789ABCDEF";
  std::string out = "SHA256:";
  for (unsigned int i = 0; i < size; ++i) {
    if (i != 0) out += ':';
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace parley::gateway
