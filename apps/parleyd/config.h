// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// parleyd's settings: one struct, filled from defaults, then the TOML file (--config), then the
// command line (flags win). Every flag has a TOML key of the same name with '_' for '-'.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "parley/util/status.h"

namespace parley::parleyd {

struct ServeSettings {
  std::string config_file;
  std::string data_dir = "./data";
  std::string listen = "127.0.0.1:8443";
  std::string admin = "127.0.0.1:9090";  // "off" disables the admin listener
  std::string cert;                      // empty: <data-dir>/tls/server-cert.pem (generated)
  std::string key;
  std::string ws_path = "/api/v1/stream";
  std::uint32_t threads = 0;
  std::uint64_t max_frame_bytes = 256 * 1024;
  std::uint64_t max_queued_frames = 1024;
  std::uint64_t max_queued_bytes = 8u << 20;
  std::uint64_t max_connections = 100'000;
  std::uint32_t handshake_timeout_ms = 10'000;
  std::uint32_t idle_timeout_ms = 120'000;
  std::uint32_t shutdown_grace_ms = 5'000;
  std::uint32_t pow_difficulty = 20;
  // Store workers: 64 beat 16 by ~30% on the relay benchmark (bench/RESULTS.md).
  std::uint32_t workers = 64;
  std::uint32_t max_devices = 6;
  std::uint32_t max_queue_per_device = 10'000;
  std::uint32_t retention_days = 30;
  std::uint64_t max_attachment_mb = 100;  // MiB
  std::uint32_t attachment_retention_days = 30;
  std::uint64_t attachment_quota_mb = 1024;  // MiB per account
  std::uint32_t max_pending_uploads = 32;    // per account
  // Abuse limits (docs/operations.md); 0 disables each. Periods are in the names.
  std::uint32_t connections_per_ip_per_minute = 300;
  std::uint32_t max_connections_per_ip = 256;
  std::uint32_t signups_per_ip_per_hour = 30;
  std::uint32_t prekey_fetches_per_account_per_minute = 300;
  std::uint32_t prekey_fetches_per_pair_per_hour = 20;
  std::uint32_t prekey_fetches_per_target_per_hour = 1000;
  std::uint32_t sends_per_account_per_minute = 600;
  std::uint32_t attachments_per_account_per_hour = 200;
  std::uint64_t attachment_mb_per_account_per_hour = 2048;  // MiB
  std::uint64_t limiter_max_keys = 100'000;
  // Cluster mode (docs/operations.md "Cluster mode"): empty postgres = one node on the embedded
  // RocksDB store in data_dir. Lists are text so that flags and TOML read them the same way
  // (cluster_config.h parses them).
  std::string postgres;                     // libpq connection strings, ';' between backends
  std::string shard_map;                    // "first-last:backend, …"; empty: spread evenly
  std::uint32_t postgres_connections = 16;  // per backend, per node
  std::string redis;    // Redis Cluster seeds "host:port, …": wake-ups between nodes
  std::string node_id;  // this node's name among the nodes; empty: random at each start
  std::string cert_key_type = "p256";  // for a generated certificate: p256 | ed25519
  std::string log_level = "info";
};

// Declares every serve option on `command`, bound to `settings`.
void add_serve_options(CLI::App& command, ServeSettings& settings);

// After CLI parsing: reads settings.config_file (if set) and applies each key whose flag was not
// given on the command line. kNotFound (no file), kInvalidEncoding (not UTF-8), kMalformedInput
// (not TOML, an unknown key or a value of the wrong type; the message says which).
Status apply_config_file(CLI::App& command, ServeSettings& settings);

// The same for TOML `text` already in memory (`source` names it in messages), applied to the
// settings `command`'s options are bound to: kMalformedInput as above, kInvalidEncoding when the
// text is not UTF-8. Separate from the file so the parsing is testable and fuzzable without files
// (apps/parleyd/fuzz/config_fuzzer.cpp).
Status apply_config_text(CLI::App& command, const std::string& text, const std::string& source);

// "host:port" or "[v6]:port". kInvalidArgument when malformed.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
Result<HostPort> parse_host_port(const std::string& text);

}  // namespace parley::parleyd
