// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The client's view of a connection to parleyd: an ordered, bidirectional stream of binary frames
// (one protobuf Frame each, see docs/protocol.md). The client core speaks only to this interface,
// so it never touches sockets; transports (direct TLS WebSocket today; relays and proxies later)
// implement it, and tests can plug in an in-process channel.

#include <chrono>
#include <cstdint>
#include <memory>

#include "parley/util/bytes.h"
#include "parley/util/status.h"

namespace parley::net {

class FrameChannel {
 public:
  virtual ~FrameChannel() = default;

  // Queues one frame for sending, in order. kConnectionClosed once the channel is closed or
  // broken; kTooLarge over the channel's frame limit.
  virtual Status send(ByteView frame) = 0;

  // The next frame from the server. kTimeout when none arrived within `timeout` (the channel
  // stays usable); kConnectionClosed once the server closed the connection or it broke (the
  // message says why). Frames that arrived before a close are still returned first.
  virtual Result<Bytes> receive(std::chrono::milliseconds timeout) = 0;

  // Closes the connection (a WebSocket close, then TCP). Idempotent; pending receive() calls
  // return kConnectionClosed.
  virtual void close() = 0;

  // Drops the connection at once, without a close handshake: for a connection that stopped
  // answering, where close() would wait for a reply that never comes. Default: close().
  virtual void abort() { close(); }

  // Bytes read from the network on this connection so far (TCP payload at the first hop,
  // handshakes included). The client's freeze budget rotates connections by it (CENSORSHIP.md:
  // some censors silently drop a flow after ~16 KB from the server). Channels that cannot tell
  // return 0.
  virtual std::uint64_t bytes_received() const { return 0; }
};

}  // namespace parley::net
