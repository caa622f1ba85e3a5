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
  link.rate_limits = std::make_unique<cluster::RedisRateLimits>(*link.redis);
  link.link_codes = std::make_unique<cluster::RedisLinkCodes>(*link.redis);
  spdlog::info(
      "  cluster         node {} on Redis Cluster via {} seed(s): wake-ups, rate limits and "
      "link codes shared",
      link.bus->node_id(), seeds.size());
  return link;
}

void export_cluster_metrics(server::Metrics& metrics, const ClusterLink& link) {
  if (!link.bus) return;
  using Type = server::Metrics::Type;
  metrics.describe("parley_cluster_attachments", Type::kGauge,
                   "Devices connected here that listen for wake-ups from other nodes.");
  metrics.describe("parley_cluster_wakes_total", Type::kCounter,
                   "Wake-ups published to other nodes (sent), received from them (received), "
                   "and failed to publish (error; delivery then waits for the next drain).");
  metrics.describe("parley_cluster_replaced_total", Type::kCounter,
                   "Connections closed because the same device connected to another node.");
  metrics.describe("parley_cluster_resubscriptions_total", Type::kCounter,
                   "Wake-up channels re-subscribed after a Redis failover or broken connection.");
  metrics.describe("parley_cluster_announce_errors_total", Type::kCounter,
                   "Connections whose announcement to other nodes failed.");
  metrics.describe("parley_cluster_notices_total", Type::kCounter,
                   "Notices (device list changed, device removed, prekeys low) published to "
                   "other nodes (sent), received from them (received), and failed to publish "
                   "(error; the device finds the change on its next request).");
  metrics.describe("parley_cluster_ignored_messages_total", Type::kCounter,
                   "Messages on a device channel that no node of this version sends (a newer "
                   "node in a mixed cluster, or garbage), ignored.");
  metrics.describe("parley_cluster_link_codes_total", Type::kCounter,
                   "Device-link codes in Redis: created, taken (redeemed), unknown (used, "
                   "replaced, expired or mistyped) and error (Redis unreachable).");
  metrics.add_collector([&link](server::Metrics& m) {
    const cluster::RedisClusterBusStats s = link.bus->stats();
    m.set_gauge("parley_cluster_attachments", "", static_cast<double>(link.bus->attachments()));
    m.set_counter("parley_cluster_wakes_total", "result=\"sent\"",
                  static_cast<double>(s.wakes_published));
    m.set_counter("parley_cluster_wakes_total", "result=\"received\"",
                  static_cast<double>(s.wakes_received));
    m.set_counter("parley_cluster_wakes_total", "result=\"error\"",
                  static_cast<double>(s.wake_errors));
    m.set_counter("parley_cluster_replaced_total", "", static_cast<double>(s.replaced));
    m.set_counter("parley_cluster_resubscriptions_total", "",
                  static_cast<double>(s.resubscriptions));
    m.set_counter("parley_cluster_announce_errors_total", "",
                  static_cast<double>(s.announce_errors));
    m.set_counter("parley_cluster_notices_total", "result=\"sent\"",
                  static_cast<double>(s.notices_published));
    m.set_counter("parley_cluster_notices_total", "result=\"received\"",
                  static_cast<double>(s.notices_received));
    m.set_counter("parley_cluster_notices_total", "result=\"error\"",
                  static_cast<double>(s.notice_errors));
    m.set_counter("parley_cluster_ignored_messages_total", "",
                  static_cast<double>(s.ignored_messages));
    const cluster::RedisLinkCodesStats codes = link.link_codes->stats();
    m.set_counter("parley_cluster_link_codes_total", "result=\"created\"",
                  static_cast<double>(codes.created));
    m.set_counter("parley_cluster_link_codes_total", "result=\"taken\"",
                  static_cast<double>(codes.taken));
    m.set_counter("parley_cluster_link_codes_total", "result=\"unknown\"",
                  static_cast<double>(codes.unknown));
    m.set_counter("parley_cluster_link_codes_total", "result=\"error\"",
                  static_cast<double>(codes.errors));
  });
}

}  // namespace parley::parleyd
