// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The cluster's slot map (which master serves each of the 16384 slots) and the redirections a
// node answers with when it does not serve a slot. Pure parsing, no I/O: unit-tested on replies
// built by hand.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/redis/crc16.h"
#include "parley/redis/value.h"
#include "parley/util/status.h"

namespace parley::redis {

struct NodeAddress {
  std::string host;
  int port = 0;

  // "127.0.0.1:7000". Host names may contain ':' (IPv6), so the port is after the last one.
  static Result<NodeAddress> parse(std::string_view text);
  std::string to_string() const;

  friend bool operator==(const NodeAddress&, const NodeAddress&) = default;
  friend auto operator<=>(const NodeAddress&, const NodeAddress&) = default;
};

// One master and the replicas CLUSTER SLOTS listed with it. Replicas are kept for later (reads
// from replicas are not used today: presence must read its own writes).
struct Shard {
  NodeAddress master;
  std::vector<NodeAddress> replicas;
};

class SlotMap {
 public:
  SlotMap();

  // Parses a CLUSTER SLOTS reply: [[start, end, [host, port, id, ...], [replica...]...], ...].
  // An empty host means "the node you asked" (Redis 7 with an unknown endpoint), so it becomes
  // `asked_host`. Slots no range mentions stay unassigned (a cluster that is down in part).
  static Result<SlotMap> from_cluster_slots(const RedisValue& reply, std::string_view asked_host);

  // The master serving `slot`, or nullopt when no master does.
  std::optional<NodeAddress> master_for_slot(std::uint16_t slot) const;

  // Points one slot at `master` (after a MOVED), adding the master if it is new.
  void assign(std::uint16_t slot, const NodeAddress& master);

  const std::vector<Shard>& shards() const { return shards_; }
  // How many slots have a master; kSlotCount when the cluster is fully covered.
  std::size_t covered_slots() const;

 private:
  std::size_t shard_index(const NodeAddress& master);

  std::vector<Shard> shards_;
  std::array<std::int16_t, kSlotCount> owner_;  // index into shards_, -1 when unassigned
};

// A redirection from an error reply: "MOVED 3999 127.0.0.1:6381" (the slot lives there now:
// update the map) or "ASK 3999 127.0.0.1:6381" (the slot is being migrated: send ASKING and then
// this one command there, without updating the map).
struct Redirect {
  enum class Kind { kMoved, kAsk };
  Kind kind = Kind::kMoved;
  std::uint16_t slot = 0;
  NodeAddress target;
};

// nullopt when `error` is not a well-formed MOVED/ASK. An empty host (":6381") means the host of
// the node that answered, passed as `current_host`.
std::optional<Redirect> parse_redirect(std::string_view error, std::string_view current_host);

}  // namespace parley::redis
