// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The words the WebSocket channel (websocket_channel.cpp, proxy_handshake.cpp) puts into its
// messages. Plain C++: no Asio here, so they are unit-tested without a socket.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace parley::net {

// "1500 ms".
std::string millis_text(std::chrono::milliseconds ms);

// "host:port", with brackets around an IPv6 address: for messages and the HTTP Host header.
std::string authority(const std::string& host, std::uint16_t port);

// The close reason a server sent, reduced to printable ASCII: it ends up in our messages and logs.
std::string printable(std::string_view text);

// What a SOCKS5 reply code means (RFC 1928 §6).
std::string socks5_reply_text(unsigned reply);

// The bytes as lower-case hex digits, the form relay links carry their pin in.
std::string lowercase_hex(const unsigned char* data, std::size_t size);

}  // namespace parley::net
