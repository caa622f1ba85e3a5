// SPDX-License-Identifier: AGPL-3.0-or-later
#include "config.h"

#include <charconv>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <toml.hpp>

namespace parley::parleyd {

void add_serve_options(CLI::App& c, ServeSettings& s) {
  c.add_option("--config", s.config_file,
               "TOML file with any of these options (keys use '_' for '-'); flags override it");
  c.add_option("--data-dir", s.data_dir,
               "directory for the message store (RocksDB, under store/), attachments (one file "
               "each, under blobs/) and a generated certificate (under tls/)")
      ->capture_default_str();
  c.add_option("--listen", s.listen, "client address, host:port (TLS 1.3 WebSocket)")
      ->capture_default_str();
  c.add_option("--admin", s.admin,
               "admin address for /healthz and /metrics, loopback host:port, or \"off\"")
      ->capture_default_str();
  c.add_option("--cert", s.cert,
               "TLS certificate chain, PEM; default: <data-dir>/tls/server-cert.pem, generated "
               "(self-signed for localhost) on first run");
  c.add_option("--key", s.key, "private key of --cert, PEM; default: beside the generated cert");
  c.add_option("--ws-path", s.ws_path,
               "path of the WebSocket endpoint; every other path serves an ordinary web page")
      ->capture_default_str();
  c.add_option("--threads", s.threads, "network threads; 0 = one per CPU core")
      ->capture_default_str();
  c.add_option("--max-frame-bytes", s.max_frame_bytes,
               "largest frame (WebSocket message) a client may send; larger closes the "
               "connection")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1024}, std::uint64_t{16} << 20));
  c.add_option("--max-queued-frames", s.max_queued_frames,
               "frames waiting to be sent to one client before it is dropped as too slow")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c.add_option("--max-queued-bytes", s.max_queued_bytes,
               "bytes waiting to be sent to one client before it is dropped as too slow")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c.add_option("--max-connections", s.max_connections, "client connections open at once")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c.add_option("--handshake-timeout-ms", s.handshake_timeout_ms,
               "time for TCP accept + TLS handshake + WebSocket upgrade")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c.add_option("--idle-timeout-ms", s.idle_timeout_ms,
               "a silent connection is pinged after half of this and closed after all of it")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c.add_option("--shutdown-grace-ms", s.shutdown_grace_ms,
               "on SIGTERM/SIGINT: time clients get to take their last frames and close")
      ->capture_default_str();
  c.add_option("--pow-difficulty", s.pow_difficulty,
               "sign-up proof of work in leading zero bits; 0 disables it (tests only); change "
               "it while running with PUT /admin/pow-difficulty on the admin address")
      ->capture_default_str()
      ->check(CLI::Range(0, 32));
  c.add_option("--workers", s.workers,
               "threads that run requests against the store (they mostly wait on fsync; more of "
               "them share each fsync)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  c.add_option("--max-devices", s.max_devices, "devices per account")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  c.add_option("--max-queue-per-device", s.max_queue_per_device,
               "undelivered messages kept per device; sends beyond are refused")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c.add_option("--retention-days", s.retention_days, "undelivered messages are deleted after this")
      ->capture_default_str()
      ->check(CLI::Range(1, 3650));
  c.add_option("--max-attachment-mb", s.max_attachment_mb,
               "largest attachment (encrypted file) a client may upload, in MiB")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{64} << 10));
  c.add_option("--attachment-retention-days", s.attachment_retention_days,
               "attachments are deleted this many days after upload starts, downloaded or not")
      ->capture_default_str()
      ->check(CLI::Range(1, 3650));
  c.add_option("--attachment-quota-mb", s.attachment_quota_mb,
               "disk one account's unexpired attachments may take, in MiB; uploads beyond are "
               "refused until older ones expire")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 30));
  c.add_option("--max-pending-uploads", s.max_pending_uploads,
               "unfinished attachment uploads one account may have at once; 0 = no limit")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  // Abuse limits: token buckets, so each also allows a burst of its whole count at once.
  const auto limit = [&c](const std::string& flag, auto& value, const std::string& help) {
    c.add_option(flag, value, help + "; 0 = no limit")->capture_default_str();
  };
  limit("--connections-per-ip-per-minute", s.connections_per_ip_per_minute,
        "new client connections per IP address (IPv6: per /64) per minute; beyond, a connection "
        "is closed at once with WebSocket code 1013 \"rate_limited\"");
  limit("--max-connections-per-ip", s.max_connections_per_ip,
        "client connections open at once per IP address (IPv6: per /64)");
  limit("--signups-per-ip-per-hour", s.signups_per_ip_per_hour,
        "sign-ups (registration challenges) per IP address (IPv6: per /64) per hour");
  limit("--prekey-fetches-per-account-per-minute", s.prekey_fetches_per_account_per_minute,
        "prekey bundle fetches per requesting account per minute");
  limit("--prekey-fetches-per-pair-per-hour", s.prekey_fetches_per_pair_per_hour,
        "fetches of one account's prekey bundles by one account per hour");
  limit("--prekey-fetches-per-target-per-hour", s.prekey_fetches_per_target_per_hour,
        "fetches of one account's prekey bundles by everyone together per hour (each takes "
        "one-time prekeys: this bounds how fast they can be drained)");
  limit("--sends-per-account-per-minute", s.sends_per_account_per_minute,
        "message sends (one-to-one or group) per account per minute");
  limit("--attachments-per-account-per-hour", s.attachments_per_account_per_hour,
        "attachments created per account per hour");
  limit("--attachment-mb-per-account-per-hour", s.attachment_mb_per_account_per_hour,
        "declared attachment sizes per account per hour, in MiB");
  c.add_option("--limiter-max-keys", s.limiter_max_keys,
               "addresses or accounts each abuse limit tracks at most; the least recently seen "
               "are forgotten beyond (bounds memory under address spraying)")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}));
  c.add_option("--postgres", s.postgres,
               "cluster mode: the PostgreSQL store, as libpq connection strings separated by ';' "
               "(one per backend, e.g. \"host=10.0.0.5 dbname=parley user=parley\"); accounts are "
               "spread over them by --shard-map; empty: the embedded RocksDB store in --data-dir");
  c.add_option("--shard-map", s.shard_map,
               "cluster mode: which of the 1024 logical shards each --postgres backend holds, as "
               "\"first-last:backend, ...\" (e.g. \"0-511:0, 512-1023:1\"); empty: equal ranges in "
               "order. Every node must use the same map (docs/operations.md: moving a shard)");
  c.add_option("--redis", s.redis,
               "cluster mode: Redis Cluster seed nodes \"host:port, ...\" shared by the parleyd "
               "nodes for wake-ups (a message stored by one node reaches a device connected to "
               "another at once), abuse limits and device-link codes (needs --postgres); empty: "
               "delivery waits for the device's next drain, limits count per node, and a device "
               "links through its primary's node");
  c.add_option("--node-id", s.node_id,
               "cluster mode: this node's name in Redis, unique among the nodes; empty: random");
  c.add_option("--postgres-connections", s.postgres_connections,
               "cluster mode: connections this node opens to each PostgreSQL backend")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1024u));
  c.add_option("--cert-key-type", s.cert_key_type,
               "key type of a generated certificate: p256 or ed25519")
      ->capture_default_str()
      ->check(CLI::IsMember({"p256", "ed25519"}));
  c.add_option("--log-level", s.log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
}

namespace {

std::string key_of(const CLI::Option& option) {
  std::string name = option.get_lnames().empty() ? option.get_name() : option.get_lnames().front();
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

Result<std::string> as_text(const toml::value& value, const std::string& key) {
  if (value.is_string()) return value.as_string().str;
  if (value.is_integer()) return std::to_string(value.as_integer());
  return Status::error(ErrorCode::kMalformedInput,
                       "config key '" + key + "' must be a string or an integer");
}

// Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF). TOML files must be
// UTF-8, and toml11 3.7.1 (Debian 12) reads past its buffer on invalid UTF-8 inside a literal
// string (upstream issue #199, fixed after 3.7.1), so such text never reaches it.
bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    std::uint32_t code = 0;
    if (byte < 0x80) {
      ++i;
      continue;
    } else if ((byte & 0xE0) == 0xC0) {
      length = 2;
      code = byte & 0x1F;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3;
      code = byte & 0x0F;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4;
      code = byte & 0x07;
    } else {
      return false;
    }
    if (text.size() - i < length) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    static constexpr std::uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

}  // namespace

Status apply_config_file(CLI::App& command, ServeSettings& settings) {
  if (settings.config_file.empty()) return {};
  std::ifstream in(settings.config_file, std::ios::binary);
  std::stringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad() || std::filesystem::is_directory(settings.config_file)) {
    return Status::error(ErrorCode::kNotFound, "cannot read config file " + settings.config_file);
  }
  return apply_config_text(command, text.str(), settings.config_file);
}

Status apply_config_text(CLI::App& command, const std::string& text, const std::string& source) {
  if (!is_valid_utf8(text)) {
    return Status::error(ErrorCode::kInvalidEncoding, source + " is not valid UTF-8");
  }
  toml::value file;
  try {
    std::istringstream stream(text);
    file = toml::parse(stream, source);
  } catch (const std::exception& error) {
    // toml11 reports syntax errors as toml::syntax_error with the line and column.
    return Status::error(ErrorCode::kMalformedInput, error.what());
  }
  if (!file.is_table()) {
    return Status::error(ErrorCode::kMalformedInput, "config file is not a TOML table");
  }

  for (const auto& [key, value] : file.as_table()) {
    CLI::Option* target = nullptr;
    for (CLI::Option* option : command.get_options()) {
      if (option->get_lnames().empty() || key_of(*option) == "config") continue;
      if (key_of(*option) == key) target = option;
    }
    if (target == nullptr) {
      return Status::error(ErrorCode::kMalformedInput, "unknown key '" + key + "' in " + source);
    }
    if (target->count() > 0) continue;  // the command line wins
    PARLEY_ASSIGN_OR_RETURN(std::string value_text, as_text(value, key));
    try {
      target->clear();
      target->add_result(value_text);
      target->run_callback();
    } catch (const CLI::Error& error) {
      return Status::error(ErrorCode::kMalformedInput,
                           "config key '" + key + "': " + std::string(error.what()));
    }
  }
  return {};
}

Result<HostPort> parse_host_port(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    return Status::error(ErrorCode::kInvalidArgument, "expected host:port, got '" + text + "'");
  }
  HostPort out;
  out.host = text.substr(0, colon);
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  std::string_view port(text.data() + colon + 1, text.size() - colon - 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value > 65535 || out.host.empty()) {
    return Status::error(ErrorCode::kInvalidArgument, "expected host:port, got '" + text + "'");
  }
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

}  // namespace parley::parleyd
