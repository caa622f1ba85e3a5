// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// ServerCore: accounts, devices, key directory, mailboxes (one-to-one and group fan-out) and
// attachments behind the ConnectionAcceptor seam.
//
// The gateway hands each new connection to accept() and feeds the returned handler one decoded
// WebSocket message at a time. The core decodes and validates every frame (parley_proto), runs
// the request on its own worker threads (store calls may block on disk; gateway threads never
// do), keeps each connection's requests in arrival order, and answers and pushes through the
// connection's sink.
//
// Lock rule for the gateway: do not hold a lock that ConnectionSink::send/close take while calling
// on_frame() or on_close(): the core calls the sink under its per-connection lock so that no sink
// call happens after on_close() has returned.
//
// The core owns no sockets, files or timers of the operating system beyond its worker threads and
// an optional maintenance thread, so the whole protocol runs in tests against a MemoryStore with
// an in-memory sink. With worker_threads = 0 every request runs inline on the caller's thread
// (deterministic tests and fuzzing).

#include <chrono>
#include <cstdint>
#include <memory>

#include "parley/proto/limits.h"
#include "parley/server/connection.h"
#include "parley/server/metrics.h"
#include "parley/server/rate_limiter.h"
#include "parley/util/clock.h"
#include "parley/util/status.h"

namespace parley::store {
class Store;
class BlobStore;
}  // namespace parley::store

namespace parley::server {

class ClusterBus;
class LinkCodeRegistry;
class SharedRateLimits;

// Abuse limits (docs/operations.md explains each default). Every RateLimit is a token bucket:
// `count` per `period` with a burst of `count`; a count of 0 disables that limit. Refusals answer
// 502 rate_limited with the limit and when to retry, and leave the connection open; a refused
// connection is closed at once with close code 1013 and reason "rate_limited". Per-IP limits use
// ConnectionSink::remote_address() (IPv6 by /64) and do nothing when it is empty.
struct AbuseLimits {
  // New connections per IP address group, and connections open at once per group (0: no limit).
  RateLimit connections_per_ip{300, std::chrono::minutes(1)};
  std::uint32_t max_connections_per_ip = 256;
  // Sign-ups per IP address group, counted when a registration challenge is handed out.
  RateLimit signups_per_ip{30, std::chrono::hours(1)};
  // Prekey bundle fetches (each hands out one-time prekeys of the target's devices): by the
  // requesting account, by one requesting account of one target account, and of one target
  // account by everyone together (bounds how fast its one-time prekeys can be drained).
  RateLimit prekey_fetches_per_account{300, std::chrono::minutes(1)};
  RateLimit prekey_fetches_per_pair{20, std::chrono::hours(1)};
  RateLimit prekey_fetches_per_target{1000, std::chrono::hours(1)};
  // Message sends (one-to-one and group requests alike) per sending account.
  RateLimit sends_per_account{600, std::chrono::minutes(1)};
  // Attachments created per account, and their declared sizes in bytes per account.
  RateLimit attachments_per_account{200, std::chrono::hours(1)};
  RateLimit attachment_bytes_per_account{std::uint64_t{2} << 30, std::chrono::hours(1)};
  // Keys each limiter's table holds at most; the least recently used are forgotten beyond.
  std::size_t max_tracked_keys = 100'000;
};

struct ServerCoreConfig {  // defaults = production defaults
  // Proof of work on sign-up: SHA-256(challenge || nonce) must start with this many zero bits.
  // 0 disables it (tests and benchmarks only; it must be set explicitly).
  std::uint32_t pow_difficulty_bits = 20;
  std::uint32_t max_devices_per_account = 6;
  std::chrono::seconds message_retention{30 * 24 * 3600};
  std::uint32_t max_queue_per_device = 10000;
  // Blocking store work happens here, never on gateway threads. 0: run inline (tests, fuzzing).
  // Workers mostly wait on fsync, and only writers waiting at the same time share one, so this is
  // sized for group commit, not for cores: 4 gave 2.3 message copies per fsync, 32 gave 11.8.
  std::uint32_t worker_threads = 16;

  proto::Limits limits;  // frame size, field sizes and counts

  std::chrono::seconds registration_challenge_ttl{300};
  std::chrono::seconds auth_challenge_ttl{60};
  std::chrono::seconds link_code_ttl{600};
  std::uint32_t max_stored_one_time_prekeys = 1000;  // per device
  std::uint32_t low_prekey_threshold = 10;           // push PrekeysLow below this many
  // Pushed but not yet acknowledged messages per connection; delivery pauses at this many so a
  // long offline queue never overflows the gateway's bounded write queue.
  std::uint32_t delivery_window = 256;
  // The same window in ciphertext bytes: keep it well below the gateway's write-queue byte limit.
  std::uint32_t delivery_window_bytes = 4u << 20;
  // Requests queued on one connection beyond this are refused (kRateLimited) and it is closed.
  std::uint32_t max_pending_requests_per_connection = 64;
  // How often the maintenance thread purges expired messages, dedupe keys, link codes and
  // attachments. 0: no thread; call run_maintenance() yourself.
  std::chrono::seconds maintenance_interval{3600};

  // Attachments (the BlobStore). The largest attachment one create_attachment may declare.
  std::uint64_t max_attachment_bytes = std::uint64_t{100} << 20;
  // An attachment is deleted this long after it was created, downloaded or not.
  std::chrono::seconds attachment_retention{30 * 24 * 3600};
  // Sum of the sizes of one account's attachments that have not expired.
  std::uint64_t attachment_quota_bytes = std::uint64_t{1} << 30;
  // Unfinished uploads per account (created, not yet complete, not expired). 0: no limit.
  std::uint32_t max_pending_uploads = 32;

  AbuseLimits abuse;

  // Cluster mode (cluster_bus.h): wake-ups and replacements between nodes over one shared store.
  // nullptr: a single node. Not owned; it must outlive the core.
  ClusterBus* cluster_bus = nullptr;
  // Cluster mode (shared_rate_limits.h): the in-request abuse limits counted across all nodes.
  // nullptr: each node counts alone. Not owned; it must outlive the core.
  SharedRateLimits* shared_rate_limits = nullptr;
  // Cluster mode (link_code_registry.h): device-link codes every node can redeem. nullptr: kept
  // in this node's memory. Not owned; it must outlive the core.
  LinkCodeRegistry* link_codes = nullptr;
};

// The largest proof-of-work difficulty accepted (at start and at runtime): 2^32 hashes on average
// is already far beyond what a phone can do.
inline constexpr std::uint32_t kMaxPowDifficultyBits = 32;

class ServerCore final : public ConnectionAcceptor {
 public:
  // `store`, `blobs`, `clock` and `metrics` must outlive the core.
  ServerCore(store::Store& store, store::BlobStore& blobs, const Clock& clock, Metrics& metrics,
             ServerCoreConfig config);
  ~ServerCore() override;  // calls shutdown()

  ServerCore(const ServerCore&) = delete;
  ServerCore& operator=(const ServerCore&) = delete;

  std::unique_ptr<ConnectionHandler> accept(std::shared_ptr<ConnectionSink> sink) override;

  // Graceful shutdown: stop taking new requests (they are answered kUnavailable), finish every
  // request already accepted (so every acked message is durably stored and every started write
  // completes), then stop workers. Idempotent; blocks until done.
  void shutdown();

  // Deletes messages older than the retention, dedupe keys as old, expired link codes and expired
  // attachments. Runs on the calling thread (it blocks on the store).
  Status run_maintenance();

  // The configuration the core started with (pow_difficulty_bits is the starting value).
  const ServerCoreConfig& config() const;

  // Changes the sign-up proof-of-work difficulty without a restart: registration challenges
  // handed out from now on carry the new value; ones already handed out keep theirs. Shown on
  // /metrics as parley_pow_difficulty_bits. kInvalidArgument above kMaxPowDifficultyBits.
  Status set_pow_difficulty(std::uint32_t bits);
  std::uint32_t pow_difficulty() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace parley::server
