// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// One synchronous hiredis connection to one node (private to lib/redis: hiredis stays here).
//
// Blocking calls with timeouts: parleyd's store calls already run on worker threads, so a Redis
// call there may block too, and a synchronous context is far simpler to get right than an async
// one. After any transport error the connection is broken for good and is dropped by its owner.

#include <chrono>
#include <memory>
#include <optional>

#include "parley/redis/slot_map.h"
#include "parley/redis/value.h"
#include "parley/util/status.h"

struct redisContext;

namespace parley::redis::detail {

class Connection {
 public:
  // Connects within `connect_timeout`; every later read or write waits at most `io_timeout`
  // (zero: no timeout, for pub/sub connections driven by poll()).
  static Result<std::unique_ptr<Connection>> open(const NodeAddress& node,
                                                  std::chrono::milliseconds connect_timeout,
                                                  std::chrono::milliseconds io_timeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const NodeAddress& node() const { return node_; }
  bool broken() const { return broken_; }
  int fd() const;

  // Sends one command and reads its reply. A Redis error reply is a value; a transport failure
  // (refused, reset, timeout) is kUnavailable naming the node and breaks the connection.
  Result<RedisValue> call(const Args& argv);

  // Sends ASKING and then `argv` in one write and returns the second reply (for ASK redirects).
  Result<RedisValue> call_asking(const Args& argv);

  // Pipelines and pub/sub: queue commands, flush them, then read their replies in order
  // (read_reply() blocks for the next one; pub/sub reads whatever has arrived instead).
  void append(const Args& argv);
  Status flush();
  // Blocks (at most the I/O timeout) for the next reply. Like call(): a Redis error reply is a
  // value, a transport failure is kUnavailable or kTimeout and breaks the connection.
  Result<RedisValue> read_reply();
  // Reads from the socket once (call when poll() says readable); kUnavailable on EOF or error.
  Status read_available();
  // The next complete reply already read, or nullopt. kMalformedInput on a protocol error.
  Result<std::optional<RedisValue>> next_buffered_reply();

 private:
  Connection(NodeAddress node, redisContext* context);
  Status transport_error(std::string_view what);

  NodeAddress node_;
  redisContext* context_;
  bool broken_ = false;
};

}  // namespace parley::redis::detail
