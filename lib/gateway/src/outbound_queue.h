// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The bounded per-connection write queue, which is also the ConnectionSink the core holds.
//
// No Asio here: the queue only records frames and wakes the connection's writer through a callback
// that the session supplies (it posts onto the connection's strand). The core may call send() and
// close() from any thread; the writer pops from the connection's strand.

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "parley/server/connection.h"
#include "parley/util/bytes.h"
#include "parley/util/error_code.h"

namespace parley::gateway {

class OutboundQueue final : public server::ConnectionSink {
 public:
  struct Limits {
    std::size_t max_frames = 1024;
    std::size_t max_bytes = 8u << 20;
  };

  // `wake` is called (without the lock held) whenever the writer has something new to look at:
  // a frame after the queue was empty, a close request, or an overflow.
  OutboundQueue(Limits limits, std::function<void()> wake);

  // ConnectionSink. send() refuses (false) after close(), after shutdown() and when the queue is
  // full; a full queue marks the connection overflowed so the writer drops it.
  bool send(std::shared_ptr<const Bytes> frame) override;
  void close(ErrorCode reason) override;
  std::string remote_address() const override { return remote_address_; }

  // The peer's IP address; set once by the session before the queue is handed to the core.
  void set_remote_address(std::string address) { remote_address_ = std::move(address); }

  // Writer side.
  std::shared_ptr<const Bytes> pop();  // nullptr when empty
  bool overflowed() const;
  // Set once close() was called: the writer sends a close after the queue is drained.
  bool close_requested(ErrorCode* reason = nullptr) const;

  // The connection is over: later sends fail, pending frames are dropped, wake is never called
  // again. Called before the handler's on_close().
  void shutdown();
  bool is_shut_down() const;

  std::size_t queued_frames() const;
  std::size_t queued_bytes() const;

 private:
  const Limits limits_;
  mutable std::mutex mutex_;
  std::function<void()> wake_;
  std::deque<std::shared_ptr<const Bytes>> frames_;
  std::size_t bytes_ = 0;
  bool overflowed_ = false;
  bool close_requested_ = false;
  ErrorCode close_reason_ = ErrorCode::kOk;
  bool shut_down_ = false;
  std::string remote_address_;  // written before the core sees the queue, then only read
};

}  // namespace parley::gateway
