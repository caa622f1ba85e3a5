// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// parley-relay's settings: one struct, filled from defaults, then the TOML file (--config), then
// the command line (flags win). Every flag has a TOML key of the same name with '_' for '-'
// (parsed by parleyd's config reader, apps/parleyd/config.h, so both programs read TOML alike).

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace parley::relay {

struct RelaySettings {
  std::string config_file;
  std::string data_dir = "./relay-data";
  std::string listen = "0.0.0.0:443";
  std::string admin = "off";
  std::string upstream;           // parleyd, host:port (plain TCP; the client's TLS goes through)
  std::string upstream_link;      // another relay's parley://relay?... link (chaining)
  std::string decoy_dir;          // static site from files; empty: the built-in site
  std::string decoy_upstream;     // plain-HTTP site to pass probes through to, host:port
  std::string public_host;        // for the share link
  std::uint16_t public_port = 0;  // 0: the --listen port
  std::string cover_name;         // certificate name and the link's sni
  std::string link_name;          // optional label in the link
  std::string cert;  // PEM; empty: <data-dir>/tls/server-cert.pem (generated, self-signed)
  std::string key;
  std::uint32_t threads = 0;
  std::uint64_t max_connections = 4096;
  std::uint32_t max_connections_per_ip = 64;
  std::uint64_t bandwidth_per_connection = 0;  // bytes/s; 0 = unlimited
  std::uint32_t head_timeout_ms = 10'000;
  std::uint32_t idle_timeout_ms = 300'000;
  std::uint32_t connect_timeout_ms = 10'000;
  std::uint32_t shutdown_grace_ms = 3'000;
  bool no_qr = false;
  std::string log_level = "info";
};

// Declares every option on `command`, bound to `settings`.
void add_relay_options(CLI::App& command, RelaySettings& settings);

}  // namespace parley::relay
