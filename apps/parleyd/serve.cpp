// SPDX-License-Identifier: AGPL-3.0-or-later
//
// `parleyd serve`: storage → core → gateway, then wait for a signal and take them down in the
// reverse order so that nothing acknowledged is lost. Logs say what an operator needs (settings,
// addresses, certificate, shutdown) and never anything about users or their addresses.

#include "serve.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>

#include "cluster_setup.h"
#include "parley/gateway/certificate.h"
#include "parley/gateway/gateway.h"
#include "parley/server/metrics.h"
#include "parley/server/server_core.h"
#include "parley/server/store_metrics.h"
#include "parley/util/clock.h"
#include "store_setup.h"

namespace parley::parleyd {
namespace {

namespace fs = std::filesystem;

// Uses the configured certificate, else the one in the data directory, else makes one there.
Result<gateway::CertificateFiles> find_or_make_certificate(const ServeSettings& settings) {
  if (!settings.cert.empty() || !settings.key.empty()) {
    if (settings.cert.empty() || settings.key.empty()) {
      return Status::error(ErrorCode::kInvalidArgument, "--cert and --key go together");
    }
    return gateway::CertificateFiles{settings.cert, settings.key};
  }
  const std::string dir = (fs::path(settings.data_dir) / "tls").string();
  gateway::CertificateFiles files = gateway::certificate_files_in(dir);
  std::error_code ec;
  if (fs::exists(files.cert_file, ec) && fs::exists(files.key_file, ec)) return files;

  gateway::SelfSignedOptions options;
  options.key_type = settings.cert_key_type == "ed25519" ? gateway::CertificateKeyType::kEd25519
                                                         : gateway::CertificateKeyType::kP256;
  PARLEY_ASSIGN_OR_RETURN(files, gateway::write_self_signed_certificate(dir, options));
  spdlog::warn("no certificate configured: generated a self-signed one for localhost in {}", dir);
  spdlog::warn("clients must pin it; use --cert/--key for a certificate a CA signed");
  return files;
}

int wait_for_signal() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  int received = 0;
  while (sigwait(&signals, &received) != 0) {
  }
  return received;
}

}  // namespace

int serve(const ServeSettings& s) {
  auto listen = parse_host_port(s.listen);
  if (!listen.ok()) {
    spdlog::error("--listen: {}", listen.status().message());
    return 2;
  }
  Result<HostPort> admin = HostPort{};
  const bool admin_enabled = s.admin != "off";
  if (admin_enabled) {
    admin = parse_host_port(s.admin);
    if (!admin.ok()) {
      spdlog::error("--admin: {}", admin.status().message());
      return 2;
    }
  }

  std::error_code ec;
  fs::create_directories(s.data_dir, ec);
  if (ec) {
    spdlog::error("cannot create data directory {}: {}", s.data_dir, ec.message());
    return 1;
  }
  auto certificate = find_or_make_certificate(s);
  if (!certificate.ok()) {
    spdlog::error("certificate: {}", certificate.status().to_string());
    return 1;
  }
  auto fingerprint = gateway::certificate_fingerprint(certificate->cert_file);

  spdlog::info("parleyd starting");
  spdlog::info("  data dir        {}", fs::absolute(s.data_dir).string());
  spdlog::info("  certificate     {} ({})", certificate->cert_file,
               fingerprint.ok() ? *fingerprint : fingerprint.status().message());
  spdlog::info("  websocket path  {}", s.ws_path);
  spdlog::info("  limits          frame {} B, queue {} frames / {} B, {} connections",
               s.max_frame_bytes, s.max_queued_frames, s.max_queued_bytes, s.max_connections);
  spdlog::info("  timeouts        handshake {} ms, idle {} ms, shutdown grace {} ms",
               s.handshake_timeout_ms, s.idle_timeout_ms, s.shutdown_grace_ms);
  spdlog::info(
      "  accounts        proof of work {} bits, {} devices, {} queued per device, "
      "retention {} days",
      s.pow_difficulty, s.max_devices, s.max_queue_per_device, s.retention_days);
  if (s.pow_difficulty == 0) spdlog::warn("proof of work is off: anyone can sign up in bulk");
  spdlog::info(
      "  attachments     up to {} MiB each, kept {} days, quota {} MiB per account, {} unfinished "
      "uploads per account",
      s.max_attachment_mb, s.attachment_retention_days, s.attachment_quota_mb,
      s.max_pending_uploads);
  spdlog::info(
      "  abuse limits    per IP: {} new / {} open connections, {} sign-ups per hour; per "
      "account: {} sends per minute, {} prekey fetches per minute, {} per target per hour ({} "
      "by everyone), {} attachments / {} MiB per hour; {} keys tracked each (0 = no limit)",
      s.connections_per_ip_per_minute, s.max_connections_per_ip, s.signups_per_ip_per_hour,
      s.sends_per_account_per_minute, s.prekey_fetches_per_account_per_minute,
      s.prekey_fetches_per_pair_per_hour, s.prekey_fetches_per_target_per_hour,
      s.attachments_per_account_per_hour, s.attachment_mb_per_account_per_hour, s.limiter_max_keys);
  if (s.attachment_quota_mb < s.max_attachment_mb) {
    spdlog::warn(
        "--attachment-quota-mb is below --max-attachment-mb: the largest attachments "
        "can never be uploaded");
  }

  auto stores = open_stores(s);
  if (!stores.ok()) {
    spdlog::error("{}", stores.status().to_string());
    return 1;
  }
  store::Store& store = *stores->store;
  store::BlobStore& blobs = *stores->blobs;
  auto cluster = connect_cluster(s);  // before the core, which must not outlive it
  if (!cluster.ok()) {
    spdlog::error("{}", cluster.status().to_string());
    return 1;
  }

  server::Metrics metrics;
  server::export_store_metrics(metrics, store);
  export_cluster_metrics(metrics, *cluster);
  server::ServerCoreConfig core_config;
  core_config.pow_difficulty_bits = s.pow_difficulty;
  core_config.worker_threads = s.workers;
  core_config.max_devices_per_account = s.max_devices;
  core_config.max_queue_per_device = s.max_queue_per_device;
  core_config.message_retention = std::chrono::hours(24) * s.retention_days;
  core_config.limits.max_frame_bytes = s.max_frame_bytes;
  core_config.max_attachment_bytes = s.max_attachment_mb << 20;
  core_config.attachment_retention = std::chrono::hours(24) * s.attachment_retention_days;
  core_config.attachment_quota_bytes = s.attachment_quota_mb << 20;
  core_config.max_pending_uploads = s.max_pending_uploads;
  // nullptr for each: one node.
  core_config.cluster_bus = cluster->bus.get();
  core_config.shared_rate_limits = cluster->rate_limits.get();
  core_config.link_codes = cluster->link_codes.get();
  {
    using std::chrono::hours;
    using std::chrono::minutes;
    server::AbuseLimits& a = core_config.abuse;
    a.connections_per_ip = {s.connections_per_ip_per_minute, minutes(1)};
    a.max_connections_per_ip = s.max_connections_per_ip;
    a.signups_per_ip = {s.signups_per_ip_per_hour, hours(1)};
    a.prekey_fetches_per_account = {s.prekey_fetches_per_account_per_minute, minutes(1)};
    a.prekey_fetches_per_pair = {s.prekey_fetches_per_pair_per_hour, hours(1)};
    a.prekey_fetches_per_target = {s.prekey_fetches_per_target_per_hour, hours(1)};
    a.sends_per_account = {s.sends_per_account_per_minute, minutes(1)};
    a.attachments_per_account = {s.attachments_per_account_per_hour, hours(1)};
    a.attachment_bytes_per_account = {
        std::min<std::uint64_t>(s.attachment_mb_per_account_per_hour, std::uint64_t{1} << 40) << 20,
        hours(1)};
    a.max_tracked_keys = s.limiter_max_keys;
  }
  // A chunk and its frame's overhead must fit in one frame: a small --max-frame-bytes shrinks the
  // chunk size the server advertises (CreateAttachmentResponse.max_chunk_bytes).
  constexpr std::size_t kChunkFrameOverhead = 256;
  core_config.limits.max_attachment_chunk_bytes = std::min<std::size_t>(
      core_config.limits.max_attachment_chunk_bytes, s.max_frame_bytes - kChunkFrameOverhead);
  server::ServerCore core(store, blobs, SystemClock::instance(), metrics, core_config);

  gateway::GatewayConfig gateway_config;
  gateway_config.listen_address = listen->host;
  gateway_config.listen_port = listen->port;
  gateway_config.admin_enabled = admin_enabled;
  gateway_config.admin_address = admin->host;
  gateway_config.admin_port = admin->port;
  gateway_config.cert_file = certificate->cert_file;
  gateway_config.key_file = certificate->key_file;
  gateway_config.websocket_path = s.ws_path;
  gateway_config.threads = s.threads;
  gateway_config.max_frame_bytes = s.max_frame_bytes;
  gateway_config.max_queued_frames = s.max_queued_frames;
  gateway_config.max_queued_bytes = s.max_queued_bytes;
  gateway_config.max_connections = s.max_connections;
  gateway_config.handshake_timeout = std::chrono::milliseconds(s.handshake_timeout_ms);
  gateway_config.idle_timeout = std::chrono::milliseconds(s.idle_timeout_ms);
  gateway_config.set_pow_difficulty = [&core](std::uint32_t bits) {
    const std::uint32_t before = core.pow_difficulty();
    Status changed = core.set_pow_difficulty(bits);
    if (changed.ok()) {
      spdlog::info("proof of work changed from {} to {} bits (admin endpoint)", before, bits);
      if (bits == 0) spdlog::warn("proof of work is off: anyone can sign up in bulk");
    }
    return changed;
  };
  gateway::Gateway gateway(gateway_config, core, metrics);
  if (Status started = gateway.start(); !started.ok()) {
    spdlog::error("cannot start: {}", started.to_string());
    core.shutdown();
    return 1;
  }
  spdlog::info("listening on {}:{} (TLS 1.3, WebSocket at {})", listen->host, gateway.listen_port(),
               s.ws_path);
  if (admin_enabled) {
    spdlog::info("admin on http://{}:{}/healthz and /metrics (PUT /admin/pow-difficulty)",
                 admin->host, gateway.admin_port());
  }

  const int signal_number = wait_for_signal();
  spdlog::info("received {}: shutting down", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  auto started = std::chrono::steady_clock::now();
  gateway.stop_accepting();  // new clients are refused; /healthz says 503
  core.shutdown();           // requests in flight finish: every acknowledged write is durable
  gateway.stop(std::chrono::milliseconds(s.shutdown_grace_ms));  // flush, close "going away"
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  spdlog::info("stopped cleanly in {} ms", took.count());
  return 0;
}

}  // namespace parley::parleyd
