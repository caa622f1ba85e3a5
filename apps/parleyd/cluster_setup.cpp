// SPDX-License-Identifier: AGPL-3.0-or-later
#include "cluster_setup.h"

#include <spdlog/spdlog.h>

#include "cluster_config.h"

namespace parley::parleyd {

Result<ClusterLink> connect_cluster(const ServeSettings& settings) {
  ClusterLink link;
  std::vector<HostPort> seeds;
  PARLEY_ASSIGN_OR_RETURN(seeds, parse_redis_seeds(settings.redis));
  if (seeds.empty()) return link;
  if (settings.postgres.empty()) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "--redis needs --postgres: nodes only wake each other for a shared store");
  }
  std::vector<std::string> seed_text;
  for (const auto& seed : seeds) {
    const bool v6 = seed.host.find(':') != std::string::npos;
    seed_text.push_back((v6 ? "[" + seed.host + "]" : seed.host) + ":" + std::to_string(seed.port));
  }
  auto redis = redis::RedisCluster::connect(seed_text);
  if (!redis.ok()) return redis.status().with_context("Redis Cluster (--redis)");
  link.redis = std::move(redis).value();
  cluster::RedisClusterBusOptions options;
  options.node_id = settings.node_id;
  link.bus = std::make_unique<cluster::RedisClusterBus>(*link.redis, options);
  spdlog::info("  cluster         node {} on Redis Cluster via {} seed(s)", link.bus->node_id(),
               seeds.size());
  return link;
}

}  // namespace parley::parleyd
