// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Where the relay sends each kind of connection, checked from the settings before anything is
// bound: Parley sessions to parleyd (--upstream) or to the next relay (--upstream-link), everyone
// else to the decoy (a plain-HTTP site, a directory, or the built-in homepage).

#include <optional>

#include "config.h"
#include "parley/net/relay_link.h"
#include "parley/net/websocket_channel.h"
#include "parley/util/status.h"

namespace parley::relay {

struct RelayRoutes {
  net::HostPort upstream_address;               // parleyd, when there is no upstream_link
  std::optional<net::RelayLink> upstream_link;  // the next relay
  std::optional<net::HostPort> decoy_upstream;  // none: the static decoy (decoy_dir or built-in)
};

// kInvalidArgument with a sentence naming the flag when the settings do not make one route each.
Result<RelayRoutes> plan_routes(const RelaySettings& settings);

}  // namespace parley::relay
