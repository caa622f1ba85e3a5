// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The checks connect_websocket() makes on its options before it touches the network.

#include <string>

#include "parley/net/websocket_channel.h"
#include "parley/util/status.h"

namespace parley::net {

// kInvalidArgument with a sentence for the first option that cannot work.
Status check_options(const WebSocketChannelOptions& options);

// Is `host` an IP address as Asio's make_address() reads it? The channel connects to
// options.addresses and decides between SNI and an IP check for its TLS name with this, so it
// accepts exactly what make_address() does (a scoped IPv6 address such as "fe80::1%eth0", and
// only the text before a NUL): deliberately not ip_literal.h's stricter check.
bool is_ip_address(const std::string& host);

}  // namespace parley::net
