// SPDX-License-Identifier: AGPL-3.0-or-later
#include "routes.h"

#include <filesystem>

namespace parley::relay {

Result<RelayRoutes> plan_routes(const RelaySettings& settings) {
  RelayRoutes routes;
  if (settings.upstream.empty() == settings.upstream_link.empty()) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "give exactly one of --upstream HOST:PORT or --upstream-link LINK");
  }
  if (!settings.upstream.empty()) {
    auto parsed = net::parse_host_port(settings.upstream);
    if (!parsed.ok()) {
      return Status::error(ErrorCode::kInvalidArgument, "--upstream: " + parsed.status().message());
    }
    routes.upstream_address = *parsed;
  } else {
    auto link = net::parse_relay_link(settings.upstream_link);
    if (!link.ok()) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "--upstream-link: " + link.status().message());
    }
    routes.upstream_link = *link;
  }
  if (!settings.decoy_upstream.empty()) {
    if (!settings.decoy_dir.empty()) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "--decoy-dir and --decoy-upstream exclude each other");
    }
    auto parsed = net::parse_host_port(settings.decoy_upstream);
    if (!parsed.ok()) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "--decoy-upstream: " + parsed.status().message());
    }
    routes.decoy_upstream = *parsed;
  }
  if (!settings.decoy_dir.empty() && !std::filesystem::is_directory(settings.decoy_dir)) {
    return Status::error(ErrorCode::kInvalidArgument, "--decoy-dir is not a directory");
  }
  return routes;
}

}  // namespace parley::relay
