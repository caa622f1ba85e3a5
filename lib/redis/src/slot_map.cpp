// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/redis/slot_map.h"

#include <algorithm>
#include <charconv>

namespace parley::redis {
namespace {

bool parse_int(std::string_view text, long long& out) {
  if (text.empty()) return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

bool valid_port(long long port) {
  return port > 0 && port <= 65535;
}

// [host, port, id, ...] → address; nullopt when malformed.
std::optional<NodeAddress> parse_node(const RedisValue& node, std::string_view asked_host) {
  if (!node.is_array() || node.elements().size() < 2) return std::nullopt;
  const RedisValue& host = node.elements()[0];
  const RedisValue& port = node.elements()[1];
  if (!(host.is_string() || host.is_nil()) || !port.is_integer()) return std::nullopt;
  if (!valid_port(port.as_integer())) return std::nullopt;
  // "?" is what Redis 7 prints for an endpoint it does not know; treat it like an empty one.
  std::string name =
      host.text().empty() || host.text() == "?" ? std::string(asked_host) : host.text();
  return NodeAddress{std::move(name), static_cast<int>(port.as_integer())};
}

}  // namespace

Result<NodeAddress> NodeAddress::parse(std::string_view text) {
  std::size_t colon = text.rfind(':');
  long long port = 0;
  if (colon == std::string_view::npos || colon == 0 || !parse_int(text.substr(colon + 1), port) ||
      !valid_port(port)) {
    return Status::error(ErrorCode::kInvalidArgument, "a redis node must be host:port");
  }
  return NodeAddress{std::string(text.substr(0, colon)), static_cast<int>(port)};
}

std::string NodeAddress::to_string() const {
  return host + ":" + std::to_string(port);
}

SlotMap::SlotMap() {
  owner_.fill(-1);
}

Result<SlotMap> SlotMap::from_cluster_slots(const RedisValue& reply, std::string_view asked_host) {
  auto malformed = [] {
    return Status::error(ErrorCode::kMalformedInput, "malformed CLUSTER SLOTS reply");
  };
  if (!reply.is_array()) return malformed();
  SlotMap map;
  for (const RedisValue& range : reply.elements()) {
    const auto& fields = range.elements();
    if (!range.is_array() || fields.size() < 3 || !fields[0].is_integer() ||
        !fields[1].is_integer()) {
      return malformed();
    }
    std::int64_t start = fields[0].as_integer();
    std::int64_t end = fields[1].as_integer();
    if (start < 0 || end < start || end >= kSlotCount) return malformed();
    std::optional<NodeAddress> master = parse_node(fields[2], asked_host);
    if (!master) return malformed();
    std::size_t index = map.shard_index(*master);
    for (std::size_t i = 3; i < fields.size(); ++i) {
      std::optional<NodeAddress> replica = parse_node(fields[i], asked_host);
      if (!replica) return malformed();
      auto& replicas = map.shards_[index].replicas;
      if (std::find(replicas.begin(), replicas.end(), *replica) == replicas.end()) {
        replicas.push_back(std::move(*replica));
      }
    }
    for (std::int64_t slot = start; slot <= end; ++slot) {
      map.owner_[static_cast<std::size_t>(slot)] = static_cast<std::int16_t>(index);
    }
  }
  return map;
}

std::optional<NodeAddress> SlotMap::master_for_slot(std::uint16_t slot) const {
  if (slot >= kSlotCount) return std::nullopt;
  std::int16_t index = owner_[slot];
  if (index < 0) return std::nullopt;
  return shards_[static_cast<std::size_t>(index)].master;
}

void SlotMap::assign(std::uint16_t slot, const NodeAddress& master) {
  if (slot >= kSlotCount) return;
  owner_[slot] = static_cast<std::int16_t>(shard_index(master));
}

std::size_t SlotMap::covered_slots() const {
  return static_cast<std::size_t>(
      std::count_if(owner_.begin(), owner_.end(), [](std::int16_t i) { return i >= 0; }));
}

std::size_t SlotMap::shard_index(const NodeAddress& master) {
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    if (shards_[i].master == master) return i;
  }
  shards_.push_back(Shard{master, {}});
  return shards_.size() - 1;
}

std::optional<Redirect> parse_redirect(std::string_view error, std::string_view current_host) {
  Redirect redirect;
  std::string_view rest;
  if (error.starts_with("MOVED ")) {
    redirect.kind = Redirect::Kind::kMoved;
    rest = error.substr(6);
  } else if (error.starts_with("ASK ")) {
    redirect.kind = Redirect::Kind::kAsk;
    rest = error.substr(4);
  } else {
    return std::nullopt;
  }
  std::size_t space = rest.find(' ');
  long long slot = 0;
  if (space == std::string_view::npos || !parse_int(rest.substr(0, space), slot) || slot < 0 ||
      slot >= kSlotCount) {
    return std::nullopt;
  }
  std::string_view endpoint = rest.substr(space + 1);
  std::size_t colon = endpoint.rfind(':');
  long long port = 0;
  if (colon == std::string_view::npos || !parse_int(endpoint.substr(colon + 1), port) ||
      !valid_port(port)) {
    return std::nullopt;
  }
  std::string_view host = endpoint.substr(0, colon);
  redirect.slot = static_cast<std::uint16_t>(slot);
  redirect.target =
      NodeAddress{std::string(host.empty() ? current_host : host), static_cast<int>(port)};
  return redirect;
}

}  // namespace parley::redis
