// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// A local or remote proxy the client's TCP connection goes through: SOCKS5 (RFC 1928, with
// username/password per RFC 1929) or HTTP CONNECT (RFC 9110 §9.3.6, Basic auth). This is how
// people route Parley through tor, obfs4proxy, snowflake-client, shadowsocks-libev (ss-local),
// v2ray or any VPN-provided proxy. Names are always resolved by the proxy (remote DNS): the
// client never sends a DNS query for the server or relay it reaches through a proxy.

#include <cstdint>
#include <string>

#include "parley/util/status.h"

namespace parley::net {

enum class ProxyKind { kNone, kSocks5, kHttpConnect };

struct ProxyConfig {
  ProxyKind kind = ProxyKind::kNone;
  std::string host;  // the proxy's address (usually 127.0.0.1)
  std::uint16_t port = 0;
  std::string username;  // empty: no authentication
  std::string password;

  bool enabled() const { return kind != ProxyKind::kNone; }
};

// Parses "socks5://[user:pass@]host:port", "socks5h://…" (same: names always resolve remotely)
// or "http://[user:pass@]host:port" (percent-escapes allowed in user and password). "none", "off"
// and "" give a disabled proxy. kInvalidArgument with a sentence naming the problem otherwise.
// Limits: user and password ≤ 255 bytes each (the SOCKS5 wire limit), host ≤ 253.
Result<ProxyConfig> parse_proxy_url(const std::string& url);

// "socks5://host:port" / "http://host:port"; the user name is kept, the password shown as "***"
// so the text is safe for logs and status lines. "none" for a disabled proxy.
std::string proxy_display(const ProxyConfig& proxy);

// The URL again with the password, for saving in the encrypted client store.
std::string proxy_url(const ProxyConfig& proxy);

}  // namespace parley::net
