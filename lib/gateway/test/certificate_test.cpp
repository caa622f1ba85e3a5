// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/gateway/certificate.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace parley::gateway {
namespace {

class CertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/parley-cert-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
};

X509* read_cert(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return nullptr;
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  (void)std::fclose(f);  // opened for reading: nothing to flush
  return cert;
}

EVP_PKEY* read_key(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return nullptr;
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  (void)std::fclose(f);  // opened for reading: nothing to flush
  return key;
}

void expect_valid_pair(const CertificateFiles& files, int expected_key_type) {
  X509* cert = read_cert(files.cert_file);
  EVP_PKEY* key = read_key(files.key_file);
  ASSERT_NE(cert, nullptr);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(EVP_PKEY_get_id(key), expected_key_type);
  EXPECT_EQ(X509_check_private_key(cert, key), 1);
  EXPECT_EQ(X509_verify(cert, key), 1);  // self-signed with that key
  // The SAN names what local clients connect to.
  EXPECT_EQ(X509_check_host(cert, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
  EXPECT_NE(X509_check_host(cert, "example.org", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_purpose(cert, X509_PURPOSE_SSL_SERVER, 0), 1);
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(cert)), 0);
  EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(cert)), 0);
  X509_free(cert);
  EVP_PKEY_free(key);

  struct stat st {};
  ASSERT_EQ(stat(files.key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(CertificateTest, P256PairIsValidForLocalhost) {
  auto files = write_self_signed_certificate(dir_);
  ASSERT_TRUE(files.ok()) << files.status().to_string();
  EXPECT_EQ(files->cert_file, certificate_files_in(dir_).cert_file);
  expect_valid_pair(*files, EVP_PKEY_EC);
}

TEST_F(CertificateTest, Ed25519PairIsValidForLocalhost) {
  SelfSignedOptions options;
  options.key_type = CertificateKeyType::kEd25519;
  auto files = write_self_signed_certificate(dir_ + "/nested", options);
  ASSERT_TRUE(files.ok()) << files.status().to_string();
  expect_valid_pair(*files, EVP_PKEY_ED25519);
}

TEST_F(CertificateTest, EachCallMakesAFreshKey) {
  auto first = write_self_signed_certificate(dir_ + "/a");
  auto second = write_self_signed_certificate(dir_ + "/b");
  ASSERT_TRUE(first.ok() && second.ok());
  EVP_PKEY* a = read_key(first->key_file);
  EVP_PKEY* b = read_key(second->key_file);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(EVP_PKEY_eq(a, b), 1);
  EVP_PKEY_free(a);
  EVP_PKEY_free(b);
}

TEST_F(CertificateTest, FingerprintIsSha256OfTheCertificate) {
  auto files = write_self_signed_certificate(dir_);
  ASSERT_TRUE(files.ok());
  auto fingerprint = certificate_fingerprint(files->cert_file);
  ASSERT_TRUE(fingerprint.ok()) << fingerprint.status().to_string();
  X509* cert = read_cert(files->cert_file);
  ASSERT_NE(cert, nullptr);
  unsigned char digest[32];
  unsigned int size = 0;
  ASSERT_EQ(X509_digest(cert, EVP_sha256(), digest, &size), 1);
  X509_free(cert);
  char first[3];
  (void)std::snprintf(first, sizeof first, "%02X", digest[0]);
  EXPECT_EQ(fingerprint->size(), 7u + 32 * 3 - 1);
  EXPECT_EQ(fingerprint->substr(0, 9), std::string("SHA256:") + first);
  EXPECT_EQ(certificate_fingerprint(dir_ + "/none.pem").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(certificate_fingerprint(files->key_file).status().code(), ErrorCode::kInvalidKey);
}

TEST_F(CertificateTest, RejectsBadAddressesAndValidity) {
  SelfSignedOptions options;
  options.ip_addresses = {"not-an-ip"};
  EXPECT_EQ(write_self_signed_certificate(dir_, options).status().code(),
            ErrorCode::kInvalidArgument);
  options = {};
  options.valid_days = 0;
  EXPECT_EQ(write_self_signed_certificate(dir_, options).status().code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace parley::gateway
