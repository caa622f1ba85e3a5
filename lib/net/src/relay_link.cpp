// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/net/relay_link.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <array>
#include <cctype>
#include <memory>
#include <optional>

#include "ip_literal.h"
#include "url_escape.h"

namespace parley::net {
namespace {

constexpr std::string_view kPrefix = "parley://relay?";
constexpr std::size_t kMaxHostBytes = 253;
constexpr std::size_t kMaxNameBytes = 64;

Status invalid(std::string why) {
  return Status::error(ErrorCode::kInvalidArgument, "the relay link " + std::move(why));
}

// A DNS name (letters, digits, '-', '_', dots between non-empty labels of ≤ 63 bytes) or an IPv4
// literal; IPv6 literals are checked separately.
bool is_host_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxHostBytes) return false;
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
    if (++label > 63) return false;
  }
  return label != 0;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Exactly `digits` hex digits, any case; stored lowercase.
bool normalize_hex(const std::string& text, std::size_t digits, std::string& out) {
  if (text.size() != digits) return false;
  out.clear();
  for (char c : text) {
    if (hex_value(c) < 0) return false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return true;
}

// Well-formed UTF-8 without control characters: the label is shown to people.
bool is_printable_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      if (byte < 0x20 || byte == 0x7f) return false;
      ++i;
      continue;
    }
    std::size_t length = 0;
    std::uint32_t code = 0;
    if ((byte & 0xe0) == 0xc0) {
      length = 2;
      code = byte & 0x1f;
    } else if ((byte & 0xf0) == 0xe0) {
      length = 3;
      code = byte & 0x0f;
    } else if ((byte & 0xf8) == 0xf0) {
      length = 4;
      code = byte & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3f);
    }
    static constexpr std::array<std::uint32_t, 5> kMinimum = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      return false;
    }
    if (code >= 0x80 && code < 0xa0) return false;  // C1 controls
    i += length;
  }
  return true;
}

std::string host_for_text(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

}  // namespace

std::string RelayLink::display() const {
  if (!name.empty()) return name;
  return host_for_text(host) + ":" + std::to_string(port);
}

std::string RelayLink::effective_sni() const {
  if (!sni.empty()) return sni;
  if (is_ip_literal(host)) return {};
  return host;
}

Result<RelayLink> parse_relay_link(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  if (text.size() > kRelayLinkMaxBytes) {
    return invalid("is longer than " + std::to_string(kRelayLinkMaxBytes) + " bytes");
  }
  if (text.size() < kPrefix.size()) return invalid("must start with parley://relay?");
  for (std::size_t i = 0; i < kPrefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != kPrefix[i]) {
      return invalid("must start with parley://relay?");
    }
  }
  std::string_view query = text.substr(kPrefix.size());

  RelayLink link;
  bool seen_host = false, seen_port = false, seen_sni = false, seen_secret = false,
       seen_pin = false, seen_name = false;
  std::string value;
  while (true) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) return invalid("has a part without '=' (key=value)");
    std::string_view key = pair.substr(0, eq);
    std::optional<std::string> decoded = percent_decode(pair.substr(eq + 1), PlusIs::kSpace);
    if (!decoded) {
      return invalid("has a broken %-escape in \"" + std::string(key.substr(0, 16)) + "\"");
    }
    value = std::move(*decoded);
    auto once = [&](bool& seen) -> Status {
      if (seen) return invalid("has \"" + std::string(key) + "\" twice");
      seen = true;
      if (value.empty()) return invalid("has an empty \"" + std::string(key) + "\"");
      return {};
    };
    if (key == "host") {
      PARLEY_RETURN_IF_ERROR(once(seen_host));
      if (value.size() > 2 && value.front() == '[' && value.back() == ']') {
        link.host = value.substr(1, value.size() - 2);
        if (!is_ipv6_literal(link.host)) return invalid("has a bracketed host that is not IPv6");
      } else if (is_ipv6_literal(value) || is_host_name(value)) {
        link.host = value;
      } else {
        return invalid("has a host that is not a name or an IP address");
      }
    } else if (key == "port") {
      PARLEY_RETURN_IF_ERROR(once(seen_port));
      unsigned port = 0;
      if (value.size() > 5) return invalid("has a port that is not between 1 and 65535");
      for (char c : value) {
        if (c < '0' || c > '9') return invalid("has a port that is not between 1 and 65535");
        port = port * 10 + static_cast<unsigned>(c - '0');
      }
      if (port == 0 || port > 65535) return invalid("has a port that is not between 1 and 65535");
      link.port = static_cast<std::uint16_t>(port);
    } else if (key == "sni") {
      PARLEY_RETURN_IF_ERROR(once(seen_sni));
      if (!is_host_name(value) || is_ip_literal(value)) {
        return invalid("has an sni that is not a host name");
      }
      link.sni = value;
    } else if (key == "secret") {
      PARLEY_RETURN_IF_ERROR(once(seen_secret));
      if (!normalize_hex(value, 2 * kRelaySecretBytes, link.secret_hex)) {
        return invalid("has a secret that is not 32 hex digits");
      }
    } else if (key == "pin") {
      PARLEY_RETURN_IF_ERROR(once(seen_pin));
      if (!normalize_hex(value, 64, link.pin_hex)) {
        return invalid("has a pin that is not 64 hex digits (a SHA-256)");
      }
    } else if (key == "name") {
      PARLEY_RETURN_IF_ERROR(once(seen_name));
      if (value.size() > kMaxNameBytes) return invalid("has a name over 64 bytes");
      if (!is_printable_utf8(value)) return invalid("has a name that is not printable UTF-8");
      link.name = value;
    } else {
      bool plain = !key.empty() && key.size() <= 16;
      for (char c : key) plain = plain && std::isalnum(static_cast<unsigned char>(c));
      return invalid(plain ? "has the unknown key \"" + std::string(key) + "\""
                           : std::string("has an unknown key"));
    }
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  if (!seen_host) return invalid("has no host");
  if (!seen_secret) return invalid("has no secret");
  if (!seen_pin) return invalid("has no pin");
  return link;
}

std::string format_relay_link(const RelayLink& link) {
  std::string out(kPrefix);
  out += "host=" + host_for_text(link.host);
  out += "&port=" + std::to_string(link.port);
  out += "&secret=" + link.secret_hex;
  out += "&pin=" + link.pin_hex;
  if (!link.sni.empty()) out += "&sni=" + link.sni;
  if (!link.name.empty()) out += "&name=" + percent_encode(link.name);
  return out;
}

Result<std::string> spki_pin_of_certificate_pem(std::string_view pem) {
  const Status not_pem =
      Status::error(ErrorCode::kInvalidArgument, "the text is not a PEM certificate");
  if (pem.size() > (1u << 20)) return not_pem;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) return Status::error(ErrorCode::kInternal, "openssl: out of memory");
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (!cert) return not_pem;
  unsigned char* der = nullptr;
  int size = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), &der);
  if (size <= 0) return Status::error(ErrorCode::kInternal, "openssl: cannot encode the key");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  int hashed =
      EVP_Digest(der, static_cast<std::size_t>(size), digest, &digest_size, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  if (hashed != 1) return Status::error(ErrorCode::kInternal, "openssl: cannot hash the key");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < digest_size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace parley::net
