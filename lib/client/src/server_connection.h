// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Request/response over a FrameChannel: numbers requests, waits for the matching response, and
// queues the pushes that arrive meanwhile so the caller handles them in arrival order later.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>

#include "parley/net/frame_channel.h"
#include "parley/util/status.h"
#include "parley/wire/frame.pb.h"

namespace parley::client {

// The Status a response carries: ok for status 0, else its ErrorCode (unknown numbers become
// kInternal) with the server's sentence.
Status response_status(const wire::Response& response);

class ServerConnection {
 public:
  ServerConnection(std::unique_ptr<net::FrameChannel> channel, std::chrono::milliseconds timeout)
      : channel_(std::move(channel)), timeout_(timeout) {}
  ~ServerConnection() { close(); }

  // Sends `request` and returns its response whatever its status; errors are only transport
  // failures (kConnectionClosed, kTimeout, kProtocolViolation for a frame we cannot read).
  Result<wire::Response> call_raw(wire::Request request);
  // Like call_raw(), but a non-zero status becomes the error.
  Result<wire::Response> call(wire::Request request);

  // The next push: queued ones first, then from the channel. kTimeout when none in time.
  Result<wire::Push> next_push(std::chrono::milliseconds timeout);
  bool has_queued_push() const { return !pushes_.empty(); }

  bool broken() const { return broken_; }
  void close();

 private:
  Result<wire::Frame> receive(std::chrono::milliseconds timeout);

  std::unique_ptr<net::FrameChannel> channel_;
  std::chrono::milliseconds timeout_;
  std::deque<wire::Push> pushes_;
  std::uint64_t next_id_ = 1;
  bool broken_ = false;
};

}  // namespace parley::client
