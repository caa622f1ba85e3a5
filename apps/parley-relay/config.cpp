// SPDX-License-Identifier: AGPL-3.0-or-later
#include "config.h"

namespace parley::relay {

void add_relay_options(CLI::App& c, RelaySettings& s) {
  c.add_option("--config", s.config_file,
               "TOML file with any of these options (keys use '_' for '-'); flags override it");
  c.add_option("--data-dir", s.data_dir,
               "keeps the relay's secret and its TLS key + self-signed certificate (created on "
               "first start, mode 0600); the share link stays valid as long as these do")
      ->capture_default_str();
  c.add_option("--listen", s.listen, "where clients and everyone else connect (TLS), host:port")
      ->capture_default_str();
  c.add_option("--upstream", s.upstream,
               "parleyd's address, host:port: clients' inner TLS is forwarded there unchanged");
  c.add_option("--upstream-link", s.upstream_link,
               "instead of --upstream: another relay's parley://relay?... link (chaining, e.g. "
               "a domestic relay forwarding to one abroad)");
  c.add_option("--decoy-dir", s.decoy_dir,
               "directory of static files served to everyone without the secret; default: a "
               "small built-in personal homepage");
  c.add_option("--decoy-upstream", s.decoy_upstream,
               "instead of a static site: a plain-HTTP site, host:port, that gets every byte "
               "of connections without the secret (probes see exactly that site)");
  c.add_option("--public-host", s.public_host,
               "name or address clients reach this relay at; needed for the share link");
  c.add_option("--public-port", s.public_port, "port clients reach this relay at; 0: --listen's")
      ->capture_default_str();
  c.add_option("--cover-name", s.cover_name,
               "name in the relay's certificate and the SNI clients send (default: "
               "--public-host); fixed when the certificate is first generated");
  c.add_option("--name", s.link_name, "optional label in the share link (\"Anna's relay\")");
  c.add_option("--cert", s.cert,
               "TLS certificate (PEM) instead of the generated one; the link pins its key");
  c.add_option("--key", s.key, "private key of --cert, PEM");
  c.add_option("--admin", s.admin,
               "loopback host:port for GET /metrics (Prometheus) and /healthz, or \"off\"")
      ->capture_default_str();
  c.add_option("--threads", s.threads, "network threads; 0 = one per CPU core")
      ->capture_default_str();
  c.add_option("--max-connections", s.max_connections,
               "connections open at once; beyond, new ones are closed before TLS")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c.add_option("--max-connections-per-ip", s.max_connections_per_ip,
               "connections open at once per client IP address; beyond, new ones are closed "
               "before TLS; 0 = no limit")
      ->capture_default_str();
  c.add_option("--bandwidth-per-connection", s.bandwidth_per_connection,
               "bytes per second one connection may forward (both directions together); 0 = no "
               "limit")
      ->capture_default_str();
  c.add_option("--head-timeout-ms", s.head_timeout_ms,
               "time a client has after TLS to send its request head; then it gets the decoy")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c.add_option("--idle-timeout-ms", s.idle_timeout_ms,
               "a forwarded connection with no bytes either way for this long is closed")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c.add_option("--connect-timeout-ms", s.connect_timeout_ms,
               "time to reach the upstream (TCP, and TLS + handshake for a relay)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c.add_option("--shutdown-grace-ms", s.shutdown_grace_ms,
               "on SIGTERM/SIGINT: time open connections get before they are cut")
      ->capture_default_str();
  c.add_flag("--no-qr", s.no_qr, "print the share link without the QR code");
  c.add_option("--log-level", s.log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
}

}  // namespace parley::relay
