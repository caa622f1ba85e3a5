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

// How patient a connection is. A stall is "no byte arrived for stall_timeout while a reply is
// owed"; it is measured with FrameChannel::bytes_received(), so channels that report 0 (tests'
// in-process channels) never stall.
struct ConnectionTimeouts {
  std::chrono::milliseconds request = std::chrono::seconds(30);
  std::chrono::milliseconds stall = std::chrono::seconds(5);  // zero: no stall detection
};

class ServerConnection {
 public:
  ServerConnection(std::unique_ptr<net::FrameChannel> channel, ConnectionTimeouts timeouts);
  ~ServerConnection() { close(); }

  // Sends `request` and returns its response whatever its status; errors are only transport
  // failures (kConnectionClosed, kTimeout, kProtocolViolation for a frame we cannot read).
  Result<wire::Response> call_raw(wire::Request request);
  // Sends `request` without waiting for its response (ignored when it comes). For acks on a
  // connection about to be replaced: the server acts on them whether or not we read the reply.
  Status post(wire::Request request);
  // Like call_raw(), but a non-zero status becomes the error.
  Result<wire::Response> call(wire::Request request);

  // The next push: queued ones first, then from the channel. kTimeout when none in time.
  Result<wire::Push> next_push(std::chrono::milliseconds timeout);
  bool has_queued_push() const { return !pushes_.empty(); }

  bool broken() const { return broken_; }
  // The connection was given up because it stopped moving data (kStalled).
  bool stalled() const { return stalled_; }
  std::uint64_t bytes_received() const { return channel_->bytes_received(); }
  // Frames read from the channel so far (responses and pushes).
  std::uint64_t frames_received() const { return frames_; }
  // For a caller that waits for data it is owed (the queue before QueueEmpty): kStalled, and
  // the connection broken, when nothing arrived for the stall timeout; otherwise OK.
  Status check_stall();
  // Starts the stall clock afresh (a new reply becomes owed).
  void owe_reply();
  void close();

 private:
  Result<wire::Frame> receive(std::chrono::milliseconds timeout);

  std::unique_ptr<net::FrameChannel> channel_;
  ConnectionTimeouts timeouts_;
  std::deque<wire::Push> pushes_;
  std::uint64_t next_id_ = 1;
  bool broken_ = false;
  bool stalled_ = false;
  std::uint64_t frames_ = 0;
  std::uint64_t progress_bytes_ = 0;
  std::chrono::steady_clock::time_point progress_at_;
};

}  // namespace parley::client
