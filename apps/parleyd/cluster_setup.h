// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Cluster mode's Redis side: with --redis, one Redis Cluster connection carrying what the nodes
// share besides the store — wake-ups and "newer connection wins" (RedisClusterBus), the abuse
// limits' token buckets (RedisRateLimits) and device-link codes (RedisLinkCodes). lib/server's
// cluster_bus.h, shared_rate_limits.h and link_code_registry.h say what the core expects of each.

#include <memory>

#include "config.h"
#include "parley/cluster/redis_cluster_bus.h"
#include "parley/cluster/redis_link_codes.h"
#include "parley/cluster/redis_rate_limits.h"
#include "parley/redis/cluster_client.h"
#include "parley/server/metrics.h"
#include "parley/util/status.h"

namespace parley::parleyd {

struct ClusterLink {
  std::unique_ptr<redis::RedisCluster> redis;  // declared first: the others use it
  std::unique_ptr<cluster::RedisClusterBus> bus;
  std::unique_ptr<cluster::RedisRateLimits> rate_limits;
  std::unique_ptr<cluster::RedisLinkCodes> link_codes;
};

// Empty when --redis is not set. kInvalidArgument for --redis without --postgres (a bus between
// nodes that do not share a store would wake devices for messages they cannot read) or a bad
// seed; kUnavailable when no seed answers.
Result<ClusterLink> connect_cluster(const ServeSettings& settings);

// The bus's and the shared limits' counters on /metrics (parley_cluster_*). Nothing when `link`
// is empty. `link` must outlive `metrics`' last render.
void export_cluster_metrics(server::Metrics& metrics, const ClusterLink& link);

}  // namespace parley::parleyd
