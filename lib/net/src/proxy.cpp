// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/net/proxy.h"

#include <arpa/inet.h>

#include <cctype>
#include <optional>
#include <string_view>

#include "ip_literal.h"
#include "url_escape.h"

namespace parley::net {
namespace {

constexpr std::size_t kMaxCredentialBytes = 255;  // one length byte in RFC 1929
constexpr std::size_t kMaxHostBytes = 253;

Status invalid(std::string why) {
  return Status::error(ErrorCode::kInvalidArgument, "the proxy URL " + std::move(why));
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Percent-decoding of the user or password; `what` names it in the error (never the text).
Result<std::string> decode_credential(std::string_view text, const char* what) {
  std::optional<std::string> decoded = percent_decode(text, PlusIs::kPlus);
  if (!decoded) return invalid(std::string("has a broken %-escape in the ") + what);
  return std::move(*decoded);
}

bool is_host_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

std::string host_port(const ProxyConfig& proxy) {
  std::string host =
      proxy.host.find(':') != std::string::npos ? "[" + proxy.host + "]" : proxy.host;
  return host + ":" + std::to_string(proxy.port);
}

std::string scheme_of(ProxyKind kind) {
  return kind == ProxyKind::kSocks5 ? "socks5://" : "http://";
}

}  // namespace

Result<ProxyConfig> parse_proxy_url(const std::string& url) {
  std::string_view text = url;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  ProxyConfig proxy;
  const std::string lowered = lower(text);
  if (lowered.empty() || lowered == "none" || lowered == "off") return proxy;

  std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    return invalid("must start with socks5:// or http:// (or be \"none\")");
  }
  const std::string scheme = lowered.substr(0, scheme_end);
  if (scheme == "socks5" || scheme == "socks5h") {
    proxy.kind = ProxyKind::kSocks5;
  } else if (scheme == "http") {
    proxy.kind = ProxyKind::kHttpConnect;
  } else {
    return invalid("has the unsupported scheme \"" + scheme.substr(0, 16) +
                   "\" (use socks5:// or http://)");
  }
  std::string_view rest = text.substr(scheme_end + 3);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos) {
    return invalid("must not have a path, query or fragment");
  }

  // user:password@ — the last '@' ends it, so an unescaped '@' in the password still works.
  std::size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    std::size_t colon = userinfo.find(':');
    std::string_view user = userinfo.substr(0, colon);
    std::string_view password =
        colon == std::string_view::npos ? std::string_view() : userinfo.substr(colon + 1);
    PARLEY_ASSIGN_OR_RETURN(proxy.username, decode_credential(user, "user name"));
    PARLEY_ASSIGN_OR_RETURN(proxy.password, decode_credential(password, "password"));
    if (proxy.username.empty()) return invalid("has a password but no user name");
    if (proxy.username.size() > kMaxCredentialBytes) {
      return invalid("has a user name over 255 bytes");
    }
    if (proxy.password.size() > kMaxCredentialBytes) {
      return invalid("has a password over 255 bytes");
    }
  }

  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    std::size_t close = rest.find(']');
    if (close == std::string_view::npos) return invalid("has an unclosed '[' in the host");
    proxy.host = std::string(rest.substr(1, close - 1));
    if (!is_ipv6_literal(proxy.host))
      return invalid("has a bracketed host that is not an IPv6 address");
    rest = rest.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return invalid("needs a port (host:port)");
    port_text = rest.substr(1);
  } else {
    std::size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) return invalid("needs a port (host:port)");
    proxy.host = std::string(rest.substr(0, colon));
    port_text = rest.substr(colon + 1);
    if (proxy.host.empty()) return invalid("has no host");
    if (proxy.host.size() > kMaxHostBytes) return invalid("has a host name over 253 bytes");
    for (char c : proxy.host) {
      if (!is_host_name_char(c)) return invalid("has a host with a character not allowed there");
    }
  }
  if (port_text.empty() || port_text.size() > 5) {
    return invalid("needs a port between 1 and 65535");
  }
  unsigned port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return invalid("needs a port between 1 and 65535");
    port = port * 10 + static_cast<unsigned>(c - '0');
  }
  if (port == 0 || port > 65535) return invalid("needs a port between 1 and 65535");
  proxy.port = static_cast<std::uint16_t>(port);
  return proxy;
}

std::string proxy_display(const ProxyConfig& proxy) {
  if (!proxy.enabled()) return "none";
  std::string out = scheme_of(proxy.kind);
  if (!proxy.username.empty()) out += percent_encode(proxy.username) + ":***@";
  return out + host_port(proxy);
}

std::string proxy_url(const ProxyConfig& proxy) {
  if (!proxy.enabled()) return "none";
  std::string out = scheme_of(proxy.kind);
  if (!proxy.username.empty()) {
    out += percent_encode(proxy.username);
    if (!proxy.password.empty()) out += ":" + percent_encode(proxy.password);
    out += "@";
  }
  return out + host_port(proxy);
}

}  // namespace parley::net
