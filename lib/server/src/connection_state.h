// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Per-connection state of the core: the guarded sink, the serial request queue, the session
// (challenges, authenticated device) and the delivery cursor.
//
// Lifetime: shared by the gateway's handler, queued tasks and the presence registry, so a worker
// that finishes after on_close() still holds a valid object; it only finds the sink closed.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "parley/server/connection.h"
#include "parley/store/records.h"
#include "parley/util/bytes.h"
#include "parley/util/clock.h"

namespace parley::server {

class WorkerPool;

struct Challenge {
  Bytes value;
  MonotonicTime expires;
  // Sign-up only: the proof-of-work difficulty in force when the challenge was handed out, so a
  // runtime change applies to new challenges and never to one a client is already working on.
  std::uint32_t difficulty_bits = 0;
};

// Where this connection's device stands in its mailbox. Guarded by Connection::delivery_mutex().
struct DeliveryState {
  std::optional<store::DeviceAddress> address;  // set before registering in presence
  bool online = false;    // authenticated and registered in presence: pushes are wanted
  bool broken = false;    // the sink refused a push (closed or full): the gateway drops us
  bool draining = false;  // a drain task is queued or running; live pushes wait for it
  bool wake = false;      // a message arrived while draining: read once more before stopping
  bool paused = false;    // the window of unacked pushes is full; acks resume delivery
  bool queue_empty_sent = false;
  std::uint64_t last_pushed = 0;                 // highest seq pushed on this connection
  std::map<std::uint64_t, std::size_t> unacked;  // pushed seq -> ciphertext size, until acked
  std::size_t unacked_bytes = 0;
  std::size_t window_bytes = 0;  // the client's smaller byte window (AuthenticateRequest); 0: ours
  std::uint64_t bus_token = 0;   // this connection's token on the cluster bus; 0: not attached
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<ConnectionSink> sink, WorkerPool& pool, std::uint32_t max_pending);

  // ---- Sink, guarded: nothing reaches the sink after mark_closed() returns. ----
  bool send(std::shared_ptr<const Bytes> frame);
  void close(ErrorCode reason);
  void mark_closed();
  bool closed() const;

  // ---- Serial queue: tasks run one at a time, in order, on the pool. ----
  enum class Enqueued { kYes, kTooMany, kClosed };
  // `internal` tasks (drains, refusals) are not counted against max_pending.
  Enqueued enqueue(std::function<void()> task, bool internal);

  // After a frame that ends the connection, later frames are ignored.
  bool refusing() const;
  void set_refusing();

  // ---- Session: touched only by this connection's serial tasks, so unguarded. ----
  std::optional<Challenge> registration_challenge;
  std::optional<Challenge> auth_challenge;
  std::optional<store::DeviceAddress> device;  // set once authenticated
  // The per-IP limit key of the peer (ip_limit_key), empty when unknown. Set once at accept.
  std::string ip_key;

  // ---- Delivery: touched from any thread under delivery_mutex(). ----
  std::mutex& delivery_mutex() { return delivery_mutex_; }
  DeliveryState& delivery() { return delivery_; }

 private:
  void schedule_runner();
  void run_some();

  const std::shared_ptr<ConnectionSink> sink_;
  WorkerPool& pool_;
  const std::uint32_t max_pending_;

  mutable std::mutex sink_mutex_;
  bool closed_ = false;
  bool close_requested_ = false;

  mutable std::mutex queue_mutex_;
  std::deque<std::function<void()>> tasks_;
  std::size_t pending_requests_ = 0;
  std::deque<bool> task_is_request_;
  bool running_ = false;
  bool refusing_ = false;

  std::mutex delivery_mutex_;
  DeliveryState delivery_;
};

}  // namespace parley::server
