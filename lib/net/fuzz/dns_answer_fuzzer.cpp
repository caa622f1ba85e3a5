// SPDX-License-Identifier: AGPL-3.0-or-later
// parse_dns_answer() over arbitrary bytes: what a DNS-over-HTTPS resolver (or whoever answers in
// its place) can send. The query is fixed (www.example.com), its id is taken from the input's
// first two bytes so every answer is reachable, and the type is A or AAAA by the RD bit of the
// flags (which the parser ignores, so both types can succeed). It must never crash, and every
// address it returns must be a real IP literal.

#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "parley/net/doh.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  parley::ByteView message(data, size);
  std::uint16_t id = size >= 2 ? static_cast<std::uint16_t>((data[0] << 8) | data[1]) : 0;
  std::uint16_t type = (size >= 3 && (data[2] & 1) != 0) ? 28 : 1;
  auto result = parley::net::parse_dns_answer(message, id, "www.example.com", type);
  if (!result.ok()) return 0;
  if (result->empty()) std::abort();  // success means at least one address
  for (const std::string& text : *result) {
    unsigned char address[16];
    if (inet_pton(type == 1 ? AF_INET : AF_INET6, text.c_str(), address) != 1) std::abort();
  }
  return 0;
}
