// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// ServerCore's private state and the handler functions, split by feature across
// account_handlers.cpp, device_handlers.cpp, key_handlers.cpp, message_handlers.cpp and
// attachment_handlers.cpp; pushes and closes for devices here and on other nodes in notices.cpp.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "connection_state.h"
#include "link_codes.h"
#include "parley/proto/frame.h"
#include "parley/server/cluster_bus.h"
#include "parley/server/link_code_registry.h"
#include "parley/server/server_core.h"
#include "parley/server/shared_rate_limits.h"
#include "parley/store/blob_store.h"
#include "parley/store/store.h"
#include "presence.h"
#include "worker_pool.h"

namespace parley::server {

// One request being handled: where to write the response body and what to do after it is sent.
struct RequestContext {
  std::shared_ptr<Connection> connection;
  wire::Response* response = nullptr;
  std::vector<std::function<void()>> after_response;
  std::optional<ErrorCode> close_after;  // close the connection once the response is queued
  // An error response keeps its body (a device mismatch, an upload's `received`); otherwise the
  // body is cleared on error.
  bool error_body = false;
};

// The abuse limits' state: one bucket table per rate limit (each bounded by max_tracked_keys) and
// the open connections per IP address group. Limit names label the refusal metrics.
struct Limiters {
  Limiters(const AbuseLimits& limits, const Clock& clock);

  RateLimiter connections_per_ip;
  RateLimiter signups_per_ip;
  RateLimiter prekey_fetches_per_account;
  RateLimiter prekey_fetches_per_pair;
  RateLimiter prekey_fetches_per_target;
  RateLimiter sends_per_account;
  RateLimiter attachments_per_account;
  RateLimiter attachment_bytes_per_account;
  ConcurrencyCounter open_per_ip;

  // Every rate limiter with its metric label, for the table-size gauges.
  std::vector<std::pair<const char*, const RateLimiter*>> all() const;
};

struct ServerCore::Impl {
  Impl(store::Store& store_ref, store::BlobStore& blobs_ref, const Clock& clock_ref,
       Metrics& metrics_ref, ServerCoreConfig config_value);

  store::Store& store;
  store::BlobStore& blobs;
  const Clock& clock;
  Metrics& metrics;
  const ServerCoreConfig config;
  WorkerPool pool;
  Presence presence;
  LinkCodes own_link_codes;      // used when config.link_codes is null; purged by maintenance
  LinkCodeRegistry& link_codes;  // config.link_codes, else own_link_codes
  Limiters limiters;
  std::atomic<bool> accepting{true};
  std::atomic<std::uint32_t> pow_difficulty_bits;  // config's value until changed at runtime
  std::atomic<std::uint64_t> next_bus_token{1};    // connection tokens on config.cluster_bus

  std::mutex maintenance_mutex;
  std::condition_variable maintenance_wake;
  bool maintenance_stop = false;
  std::thread maintenance_thread;

  // ---- Connection lifecycle (server_core.cpp) ----
  void on_frame(const std::shared_ptr<Connection>& connection, ByteView frame);
  void on_close(const std::shared_ptr<Connection>& connection);
  void process(const std::shared_ptr<Connection>& connection, const wire::Request& request);
  Status route(RequestContext& ctx, const wire::Request& request);
  void refuse(const std::shared_ptr<Connection>& connection, std::uint64_t request_id,
              const Status& status);
  void shutdown();
  Status run_maintenance();

  std::int64_t now_ms() const { return unix_millis(clock.now()); }

  // ---- Abuse limits (server_core.cpp) ----
  // Takes `cost` from `key`'s bucket in `limiter`; kRateLimited naming the limit (`what`, e.g.
  // "message sends per account") and the wait when refused, counted under `name` in
  // parley_rate_limited_total. An empty key (unknown address) and a disabled limit are never
  // limited. With config.shared_rate_limits the bucket is the cluster's, under `name`; when that
  // fails (counted in parley_shared_rate_limit_errors_total) `limiter` decides instead.
  Status check_rate(RateLimiter& limiter, const char* name, const std::string& what,
                    std::string_view key, std::uint64_t cost = 1);
  // At accept: the per-IP connection limits. False (and counted) when the connection is refused.
  bool admit_connection(const std::string& ip_key);

  // ---- Accounts and authentication (account_handlers.cpp) ----
  Status registration_challenge(RequestContext& ctx);
  Status create_account(RequestContext& ctx, const wire::CreateAccountRequest& r);
  Status auth_challenge(RequestContext& ctx);
  Status authenticate(RequestContext& ctx, const wire::AuthenticateRequest& r);
  Status set_username(RequestContext& ctx, const wire::SetUsernameRequest& r);
  Status lookup_username(RequestContext& ctx, const wire::LookupUsernameRequest& r);
  Status delete_account(RequestContext& ctx);

  // ---- Devices (device_handlers.cpp) ----
  Status create_link_code(RequestContext& ctx);
  Status link_device(RequestContext& ctx, const wire::LinkDeviceRequest& r);
  Status set_device_list(RequestContext& ctx, const wire::SetDeviceListRequest& r);
  Status get_devices(RequestContext& ctx, const wire::GetDevicesRequest& r);
  Status remove_device(RequestContext& ctx, const wire::RemoveDeviceRequest& r);

  // ---- Notices to devices, on this node and others (notices.cpp) ----
  // All of these run after the change is committed, on a worker thread (they may read the store
  // and block on the bus); the bus parts only with config.cluster_bus. A lost notice is only late:
  // the client finds the change on its next request.
  // DeviceListChanged to the account's connections here and to every device of it elsewhere.
  void announce_device_list_changed(const store::AccountId& account);
  // The device was removed: its connection here is closed, and elsewhere told to close.
  void announce_device_removed(const store::DeviceAddress& device);
  // The account was deleted: every connection of it here but `except` (the request's own, which
  // closes after its answer) is closed, and every device of `devices` elsewhere told to close.
  void announce_account_deleted(const store::AccountId& account,
                                const std::vector<store::DeviceAddress>& devices,
                                const Connection* except);
  // PrekeysLow with `count` to the device, here or elsewhere.
  void announce_prekeys_low(const store::DeviceAddress& device, std::uint64_t count);
  // A notice from another node for `connection`'s device (a bus callback: never blocks).
  void on_bus_notice(const std::shared_ptr<Connection>& connection, const DeviceNotice& notice);

  // ---- Attachments (attachment_handlers.cpp) ----
  Status create_attachment(RequestContext& ctx, const wire::CreateAttachmentRequest& r);
  Status upload_attachment_chunk(RequestContext& ctx, const wire::UploadAttachmentChunkRequest& r);
  Status get_attachment(RequestContext& ctx, const wire::GetAttachmentRequest& r);
  Status download_attachment_chunk(RequestContext& ctx,
                                   const wire::DownloadAttachmentChunkRequest& r);
  // Deletes expired attachments (run_maintenance).
  Status purge_attachments();
  void update_attachment_gauges();

  // ---- Key directory (key_handlers.cpp) ----
  Status upload_prekeys(RequestContext& ctx, const wire::UploadPrekeysRequest& r);
  Status get_prekey_bundle(RequestContext& ctx, const wire::GetPrekeyBundleRequest& r);

  // ---- Mailboxes and delivery (message_handlers.cpp) ----
  Status send_message(RequestContext& ctx, const wire::SendMessageRequest& r);
  Status send_group_message(RequestContext& ctx, const wire::SendGroupMessageRequest& r);
  Status ack_messages(RequestContext& ctx, const wire::AckMessagesRequest& r);
  // Pushes (or schedules) each stored copy to its device if it is online; after the send's ack.
  void notify_stored(const std::vector<store::DeliveredCopy>& copies,
                     const std::optional<store::DeviceAddress>& sender, std::int64_t timestamp_ms,
                     const std::function<const Bytes&(std::size_t)>& payload_of);
  // Marks the authenticated connection online and queues the first drain.
  void start_delivery(const std::shared_ptr<Connection>& connection);
  // Cluster mode: attaches the device to the bus (before the first drain) with callbacks that
  // drain, close or notify the connection; detaches it on close.
  void attach_to_bus(const std::shared_ptr<Connection>& connection,
                     const store::DeviceAddress& address);
  void detach_from_bus(Connection& connection);
  // A newer connection of the same device (here or on another node): offline, then closed.
  void close_replaced(const std::shared_ptr<Connection>& connection);
  // Another node committed something for the connection's device: drain unless one is running.
  void wake_connection(const std::shared_ptr<Connection>& connection);
  // A message was stored for the connection's device: push it now or schedule a drain.
  void notify_message(const std::shared_ptr<Connection>& connection,
                      const store::StoredEnvelope& envelope);
  void drain(const std::shared_ptr<Connection>& connection);
  void schedule_drain(const std::shared_ptr<Connection>& connection);
  // Pushes one envelope; caller holds the connection's delivery mutex.
  bool push_envelope_locked(Connection& connection, const store::StoredEnvelope& envelope);
  // The connection has as many unacked pushes (or bytes) as the window allows.
  bool window_full(const DeliveryState& d) const {
    return d.unacked.size() >= config.delivery_window || d.unacked_bytes >= window_bytes(d);
  }
  std::size_t window_bytes(const DeliveryState& d) const {
    return d.window_bytes != 0 ? d.window_bytes : config.delivery_window_bytes;
  }
};

// Verifies an XEdDSA signature by a 33-byte 0x05-prefixed Curve25519 key (signature.cpp).
// kInvalidKey for a malformed key, kBadSignature for a signature that does not verify.
Status verify_signature(ByteView public_key, ByteView message, ByteView signature);

// The authenticated device of the request's connection, or kUnauthenticated.
Result<store::DeviceAddress> require_device(const RequestContext& ctx);
// Like require_device, and the device must be the account's primary device (kPermissionDenied).
Result<store::DeviceAddress> require_primary(const RequestContext& ctx);

// Protobuf bytes field <-> our types.
inline ByteView field_bytes(const std::string& field) {
  return as_bytes(field);
}
inline std::string to_field(ByteView bytes) {
  return std::string(as_string_view(bytes));
}
inline std::string to_field(const store::AccountId& id) {
  return std::string(reinterpret_cast<const char*>(id.data()), id.size());
}

}  // namespace parley::server
