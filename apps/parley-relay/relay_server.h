// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The relay's network side: the TLS listener, the secret check on each connection's first bytes,
// forwarding to the upstream (parleyd or another relay), the decoy site and the admin listener.
// Boost.Asio/Beast stay in relay_server.cpp (this program's only Beast translation unit).

#include <memory>
#include <optional>
#include <string>

#include "config.h"
#include "identity.h"
#include "parley/net/relay_link.h"
#include "parley/util/status.h"

namespace parley::relay {

class RelayServer {
 public:
  // Binds the listeners (errors: kInvalidArgument for bad settings, kUnavailable when a port
  // cannot be bound) and starts the network threads.
  static Result<std::unique_ptr<RelayServer>> start(const RelaySettings& settings,
                                                    const RelayIdentity& identity);
  ~RelayServer();
  RelayServer(const RelayServer&) = delete;
  RelayServer& operator=(const RelayServer&) = delete;

  // Stops accepting, gives open connections the grace period, then stops the threads.
  void stop();

  struct Impl;

 private:
  explicit RelayServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::relay
