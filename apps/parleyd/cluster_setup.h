// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Cluster mode's wake-ups: with --redis, a RedisClusterBus over a Redis Cluster connection that
// ServerCore uses to wake devices connected to other nodes (lib/server cluster_bus.h).

#include <memory>

#include "config.h"
#include "parley/cluster/redis_cluster_bus.h"
#include "parley/redis/cluster_client.h"
#include "parley/util/status.h"

namespace parley::parleyd {

struct ClusterLink {
  std::unique_ptr<redis::RedisCluster> redis;  // declared first: the bus uses it
  std::unique_ptr<cluster::RedisClusterBus> bus;
};

// Empty when --redis is not set. kInvalidArgument for --redis without --postgres (a bus between
// nodes that do not share a store would wake devices for messages they cannot read) or a bad
// seed; kUnavailable when no seed answers.
Result<ClusterLink> connect_cluster(const ServeSettings& settings);

}  // namespace parley::parleyd
