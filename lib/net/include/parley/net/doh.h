// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// DNS over HTTPS (RFC 8484): a name lookup that a censor tampering with plain UDP DNS cannot
// answer for us. The query is an RFC 1035 message (A and AAAA) sent as an HTTPS POST with
// Content-Type application/dns-message over TLS 1.3; the resolver is given as a URL whose host is
// usually an IP literal ("https://1.1.1.1/dns-query"), so finding the resolver needs no DNS.
// Beast/Asio stay in src/doh.cpp.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "parley/net/websocket_channel.h"
#include "parley/util/bytes.h"
#include "parley/util/status.h"

namespace parley::net {

using namespace std::chrono_literals;

struct DohOptions {
  std::string url;       // "https://host[:port]/path"; host may be an IP literal
  TlsTrust trust;        // how to trust the resolver's certificate (empty: system store)
  std::string tls_name;  // SNI/verified name when the URL's host is an IP literal; empty: none
  std::chrono::milliseconds timeout = 8s;
};

// The resolved addresses as IP literals (IPv4 first, then IPv6), following CNAMEs inside the
// answer. kNotFound for NXDOMAIN or no address records, kUnavailable/kTimeout when the resolver
// cannot be reached, kProtocolViolation for an answer that does not parse or does not match the
// query. An IP literal `name` is returned as is without a query.
Result<std::vector<std::string>> resolve_doh(const std::string& name, const DohOptions& options);

// The pure halves, fuzzed and unit-tested without a network.
Bytes dns_query(std::string_view name, std::uint16_t id, std::uint16_t type);  // type 1 A, 28 AAAA
// Addresses (as text) of `type` in `message`, an answer to query `id` for `name`.
Result<std::vector<std::string>> parse_dns_answer(ByteView message, std::uint16_t id,
                                                  std::string_view name, std::uint16_t type);

}  // namespace parley::net
