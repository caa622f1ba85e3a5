// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/net/relay_link.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

namespace parley::net {
namespace {

constexpr const char* kSecret = "00112233445566778899aabbccddeeff";
constexpr const char* kPin = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

std::string link_text(const std::string& extra = "") {
  return std::string("parley://relay?host=relay.example.org&port=443&secret=") + kSecret +
         "&pin=" + kPin + extra;
}

void expect_same(const RelayLink& a, const RelayLink& b) {
  EXPECT_EQ(a.host, b.host);
  EXPECT_EQ(a.port, b.port);
  EXPECT_EQ(a.sni, b.sni);
  EXPECT_EQ(a.secret_hex, b.secret_hex);
  EXPECT_EQ(a.pin_hex, b.pin_hex);
  EXPECT_EQ(a.name, b.name);
}

TEST(RelayLinkTest, ParsesTheCanonicalLink) {
  auto link = parse_relay_link(link_text());
  ASSERT_TRUE(link.ok()) << link.status().to_string();
  EXPECT_EQ(link->host, "relay.example.org");
  EXPECT_EQ(link->port, 443);
  EXPECT_EQ(link->secret_hex, kSecret);
  EXPECT_EQ(link->pin_hex, kPin);
  EXPECT_TRUE(link->sni.empty());
  EXPECT_TRUE(link->name.empty());
  EXPECT_EQ(link->effective_sni(), "relay.example.org");
  EXPECT_EQ(link->display(), "relay.example.org:443");
  EXPECT_EQ(format_relay_link(*link), link_text());
}

TEST(RelayLinkTest, AcceptsAnyKeyOrderAndDefaultsThePort) {
  auto link = parse_relay_link(std::string("parley://relay?pin=") + kPin + "&secret=" + kSecret +
                               "&host=10.0.0.1");
  ASSERT_TRUE(link.ok()) << link.status().to_string();
  EXPECT_EQ(link->port, 443);
  EXPECT_EQ(link->host, "10.0.0.1");
  EXPECT_EQ(link->effective_sni(), "");  // no SNI for an IP literal
}

TEST(RelayLinkTest, RoundTripsEveryField) {
  RelayLink link;
  link.host = "2001:db8::7";
  link.port = 8443;
  link.sni = "cover.example.com";
  link.secret_hex = kSecret;
  link.pin_hex = kPin;
  link.name = "Anna's relay & co +1 — «ü»";
  std::string text = format_relay_link(link);
  EXPECT_NE(text.find("host=[2001:db8::7]"), std::string::npos) << text;
  auto again = parse_relay_link(text);
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  expect_same(*again, link);
  EXPECT_EQ(again->display(), link.name);
  EXPECT_EQ(again->effective_sni(), "cover.example.com");
  link.name.clear();
  EXPECT_EQ(link.display(), "[2001:db8::7]:8443");
}

TEST(RelayLinkTest, NormalizesHexAndDecodesTheName) {
  auto link = parse_relay_link(
      "  parley://relay?host=r.example&secret=00112233445566778899AABBCCDDEEFF&pin=" +
      std::string(64, 'F') + "&name=Anna%27s+relay\n");
  ASSERT_TRUE(link.ok()) << link.status().to_string();
  EXPECT_EQ(link->secret_hex, kSecret);
  EXPECT_EQ(link->pin_hex, std::string(64, 'f'));
  EXPECT_EQ(link->name, "Anna's relay");
  auto upper = parse_relay_link("PARLEY://RELAY?host=r.example&secret=" + std::string(kSecret) +
                                "&pin=" + kPin);
  EXPECT_TRUE(upper.ok()) << upper.status().to_string();
}

TEST(RelayLinkTest, RefusesBadLinks) {
  const std::string pin = std::string("&pin=") + kPin;
  const std::string secret = std::string("&secret=") + kSecret;
  for (const std::string& text : {
           std::string("https://relay.example.org"),
           std::string("parley://server?host=a") + secret + pin,
           std::string("parley://relay?") + secret.substr(1) + pin,          // no host
           std::string("parley://relay?host=a") + pin,                       // no secret
           std::string("parley://relay?host=a") + secret,                    // no pin
           std::string("parley://relay?host=a&host=b") + secret + pin,       // duplicate
           std::string("parley://relay?host=a") + secret + pin + pin,        // duplicate
           std::string("parley://relay?host=a") + secret + pin + "&x=1",     // unknown key
           std::string("parley://relay?host=a") + secret + pin + "&",        // empty part
           std::string("parley://relay?host=a") + secret + pin + "&name",    // no '='
           std::string("parley://relay?host=") + secret + pin,               // empty host
           std::string("parley://relay?host=a b") + secret + pin,            // bad host
           std::string("parley://relay?host=a..b") + secret + pin,           // empty label
           std::string("parley://relay?host=[a.b]") + secret + pin,          // bracketed name
           std::string("parley://relay?host=a&port=0") + secret + pin,       // port 0
           std::string("parley://relay?host=a&port=65536") + secret + pin,   // too big
           std::string("parley://relay?host=a&port=-1") + secret + pin,      // sign
           std::string("parley://relay?host=a&port=000443") + secret + pin,  // too long
           std::string("parley://relay?host=a&secret=0011") + pin,           // short secret
           std::string("parley://relay?host=a&secret=") + std::string(32, 'g') + pin,
           std::string("parley://relay?host=a") + secret + "&pin=" + std::string(63, 'a'),
           std::string("parley://relay?host=a") + secret + "&pin=" + std::string(64, 'z'),
           std::string("parley://relay?host=a") + secret + pin + "&sni=10.0.0.1",  // IP as SNI
           std::string("parley://relay?host=a") + secret + pin + "&sni=a%2",       // bad escape
           std::string("parley://relay?host=a") + secret + pin + "&name=%00x",     // control
           std::string("parley://relay?host=a") + secret + pin + "&name=%C3",      // bad UTF-8
           std::string("parley://relay?host=a") + secret + pin + "&name=" + std::string(65, 'n'),
           std::string("parley://relay?host=a") + secret + pin + "&name=" + std::string(1100, 'n'),
       }) {
    auto link = parse_relay_link(text);
    EXPECT_FALSE(link.ok()) << text;
    if (!link.ok()) {
      EXPECT_EQ(link.status().code(), ErrorCode::kInvalidArgument) << text;
      EXPECT_EQ(link.status().message().find(kSecret), std::string::npos);
    }
  }
}

TEST(RelayLinkTest, NameLimitIsSixtyFourBytes) {
  EXPECT_TRUE(parse_relay_link(link_text("&name=" + std::string(64, 'n'))).ok());
  EXPECT_FALSE(parse_relay_link(link_text("&name=" + std::string(65, 'n'))).ok());
}

TEST(RelayLinkTest, ErrorsNeverEchoTheSecret) {
  const std::string secret = "deadbeefdeadbeefdeadbeefdeadbeef";
  for (const std::string& text : {
           "parley://relay?host=a&secret=" + secret + "&secret=" + secret + "&pin=" + kPin,
           "parley://relay?host=a&secret=" + secret + "0&pin=" + kPin,
           "parley://relay?host=a&secret=" + secret,
           "parley://relay?host=a&" + secret + "=1&pin=" + kPin,
       }) {
    auto link = parse_relay_link(text);
    ASSERT_FALSE(link.ok()) << text;
    EXPECT_EQ(link.status().message().find("deadbeef"), std::string::npos)
        << link.status().message();
  }
}

// A fresh self-signed certificate, as PEM.
std::string make_certificate_pem(EVP_PKEY** key_out) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("relay"), -1, -1, 0);
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  X509_sign(cert, key, EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  X509_free(cert);
  *key_out = key;
  return pem;
}

std::string expected_pin(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int size = i2d_PUBKEY(key, &der);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  EVP_Digest(der, static_cast<std::size_t>(size), digest, &digest_size, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < digest_size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

TEST(RelayLinkTest, SpkiPinIsTheHashOfThePublicKey) {
  EVP_PKEY* key = nullptr;
  std::string pem = make_certificate_pem(&key);
  ASSERT_NE(key, nullptr);
  auto pin = spki_pin_of_certificate_pem(pem);
  ASSERT_TRUE(pin.ok()) << pin.status().to_string();
  EXPECT_EQ(pin->size(), 64u);
  EXPECT_EQ(*pin, expected_pin(key));
  // A second certificate for the same key has the same pin (renewal keeps links valid).
  EVP_PKEY* other = nullptr;
  std::string other_pem = make_certificate_pem(&other);
  auto other_pin = spki_pin_of_certificate_pem(other_pem);
  ASSERT_TRUE(other_pin.ok());
  EXPECT_NE(*other_pin, *pin);
  EVP_PKEY_free(key);
  EVP_PKEY_free(other);
}

TEST(RelayLinkTest, SpkiPinRefusesNonCertificates) {
  for (const char* text :
       {"", "hello", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}) {
    auto pin = spki_pin_of_certificate_pem(text);
    ASSERT_FALSE(pin.ok());
    EXPECT_EQ(pin.status().code(), ErrorCode::kInvalidArgument);
  }
}

// Found by parley_fuzz_relay_link: inet_pton() stops at a NUL, so "[2001:db8::\0junk]" passed as
// an IPv6 host and did not survive a format/parse round trip.
TEST(RelayLinkTest, AHostWithANulInsideIsRefused) {
  const std::string rest = "&secret=" + std::string(32, 'a') + "&pin=" + std::string(64, 'b');
  using namespace std::string_view_literals;  // "…"sv keeps the NULs inside, sized exactly
  for (std::string_view host : {"[2001:db8::\0\0x]"sv, "2001:db8::\0x"sv, "10.0.0.1\0x"sv}) {
    auto link = parse_relay_link("parley://relay?host=" + std::string(host) + rest);
    EXPECT_EQ(link.status().code(), ErrorCode::kInvalidArgument) << host.size();
  }
}

}  // namespace
}  // namespace parley::net
