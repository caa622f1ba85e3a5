// SPDX-License-Identifier: AGPL-3.0-or-later
// parse_relay_link() over arbitrary text: share links arrive through chats and QR codes from
// anyone. It must never crash; a link it accepts must format to a text that parses back to the
// same link, whose fields keep their documented shapes.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "parley/net/relay_link.h"

namespace {

bool same(const parley::net::RelayLink& a, const parley::net::RelayLink& b) {
  return a.host == b.host && a.port == b.port && a.sni == b.sni && a.secret_hex == b.secret_hex &&
         a.pin_hex == b.pin_hex && a.name == b.name;
}

bool lowercase_hex(const std::string& text, std::size_t digits) {
  if (text.size() != digits) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto link = parley::net::parse_relay_link(text);
  if (!link.ok()) return 0;
  if (link->host.empty() || link->port == 0) std::abort();
  if (!lowercase_hex(link->secret_hex, 32) || !lowercase_hex(link->pin_hex, 64)) std::abort();
  if (link->name.size() > 64) std::abort();
  std::string formatted = parley::net::format_relay_link(*link);
  auto again = parley::net::parse_relay_link(formatted);
  if (!again.ok() || !same(*link, *again)) std::abort();
  if (parley::net::format_relay_link(*again) != formatted) std::abort();
  (void)link->display();
  (void)link->effective_sni();
  return 0;
}
