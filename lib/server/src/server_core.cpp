// SPDX-License-Identifier: AGPL-3.0-or-later
// ServerCore: connection lifecycle, frame intake, request routing, shutdown and maintenance.
#include "parley/server/server_core.h"

#include <exception>
#include <string>

#include "core_impl.h"

namespace parley::server {
namespace {

std::string type_label(std::string_view type) {
  return "type=\"" + std::string(type) + "\"";
}
std::string code_label(ErrorCode code) {
  return "code=\"" + std::to_string(static_cast<unsigned>(code)) + "\"";
}

void describe_metrics(Metrics& m) {
  using T = Metrics::Type;
  m.describe("parley_connections", T::kGauge, "Open client connections.");
  m.describe("parley_authenticated_connections", T::kGauge, "Connections with a device signed in.");
  m.describe("parley_frames_total", T::kCounter, "Frames received, by request type.");
  m.describe("parley_errors_total", T::kCounter, "Error responses, by status code.");
  m.describe("parley_messages_stored_total", T::kCounter, "Message copies durably stored.");
  m.describe("parley_messages_duplicate_total", T::kCounter,
             "Sends answered from the dedupe record.");
  m.describe("parley_messages_delivered_total", T::kCounter, "Message copies pushed to devices.");
  m.describe("parley_messages_acked_total", T::kCounter, "Message copies deleted by device acks.");
  m.describe("parley_messages_purged_total", T::kCounter, "Message copies deleted by retention.");
  m.describe("parley_group_messages_total", T::kCounter,
             "Group messages stored (one shared ciphertext each; retries not counted).");
  m.describe("parley_group_fanout_copies_total", T::kCounter,
             "Mailbox entries created by group messages (each refers to the shared ciphertext).");
  m.describe("parley_attachments_created_total", T::kCounter, "Attachments created.");
  m.describe("parley_attachment_bytes_uploaded_total", T::kCounter,
             "Attachment bytes durably stored from uploads.");
  m.describe("parley_attachment_bytes_downloaded_total", T::kCounter,
             "Attachment bytes sent in downloads.");
  m.describe("parley_attachments_purged_total", T::kCounter, "Attachments deleted on expiry.");
  m.describe("parley_attachments_stored", T::kGauge,
             "Attachments stored (complete or not), as of the last create or purge.");
  m.describe("parley_attachment_bytes_stored", T::kGauge,
             "Bytes of stored attachments, as of the last create or purge.");
  m.describe("parley_worker_queue_depth", T::kGauge, "Tasks waiting for a worker thread.");
  m.describe("parley_request_seconds", T::kHistogram, "Time to handle one request.");
  m.describe("parley_mailbox_depth_on_connect", T::kHistogram,
             "Messages waiting for a device when it signs in.", {0, 1, 10, 100, 1000, 10000});
  m.describe("parley_rate_limited_total", T::kCounter,
             "Requests and connections refused by an abuse limit, by limit.");
  m.describe("parley_shared_rate_limit_errors_total", T::kCounter,
             "Abuse-limit checks the cluster's shared limiter could not answer, so this node's own "
             "limiter decided, by limit.");
  m.describe("parley_rate_limiter_keys", T::kGauge,
             "Keys (address groups, accounts) an abuse limiter's table holds, by limit.");
  m.describe("parley_rate_limiter_evictions_total", T::kCounter,
             "Buckets forgotten before they refilled because a limiter's table was full.");
  m.describe("parley_connection_limit_addresses", T::kGauge,
             "Address groups with open connections (the concurrent-connection limit's table).");
  m.describe("parley_pow_difficulty_bits", T::kGauge,
             "Proof-of-work difficulty of new registration challenges.");
}

std::string limit_label(std::string_view name) {
  return "limit=\"" + std::string(name) + "\"";
}

// What accept() returns for a connection an abuse limit refused: the sink is already closing.
class RefusedHandler final : public ConnectionHandler {
 public:
  void on_frame(ByteView) override {}
  void on_close() override {}
};

class Handler final : public ConnectionHandler {
 public:
  Handler(std::shared_ptr<ServerCore::Impl> impl, std::shared_ptr<Connection> connection)
      : impl_(std::move(impl)), connection_(std::move(connection)) {}
  ~Handler() override { Handler::on_close(); }

  void on_frame(ByteView frame) override {
    if (!closed_) impl_->on_frame(connection_, frame);
  }
  void on_close() override {
    if (closed_) return;
    closed_ = true;
    impl_->on_close(connection_);
  }

 private:
  std::shared_ptr<ServerCore::Impl> impl_;
  std::shared_ptr<Connection> connection_;
  bool closed_ = false;
};

}  // namespace

ServerCore::Impl::Impl(store::Store& store_ref, store::BlobStore& blobs_ref, const Clock& clock_ref,
                       Metrics& metrics_ref, ServerCoreConfig config_value)
    : store(store_ref),
      blobs(blobs_ref),
      clock(clock_ref),
      metrics(metrics_ref),
      config(config_value),
      pool(config.worker_threads),
      own_link_codes(clock_ref),
      link_codes(config.link_codes ? *config.link_codes : own_link_codes),
      limiters(config.abuse, clock_ref),
      pow_difficulty_bits(config.pow_difficulty_bits) {}

Limiters::Limiters(const AbuseLimits& l, const Clock& clock)
    : connections_per_ip(l.connections_per_ip, l.max_tracked_keys, clock),
      signups_per_ip(l.signups_per_ip, l.max_tracked_keys, clock),
      prekey_fetches_per_account(l.prekey_fetches_per_account, l.max_tracked_keys, clock),
      prekey_fetches_per_pair(l.prekey_fetches_per_pair, l.max_tracked_keys, clock),
      prekey_fetches_per_target(l.prekey_fetches_per_target, l.max_tracked_keys, clock),
      sends_per_account(l.sends_per_account, l.max_tracked_keys, clock),
      attachments_per_account(l.attachments_per_account, l.max_tracked_keys, clock),
      attachment_bytes_per_account(l.attachment_bytes_per_account, l.max_tracked_keys, clock) {}

std::vector<std::pair<const char*, const RateLimiter*>> Limiters::all() const {
  return {{"connections_per_ip", &connections_per_ip},
          {"signups_per_ip", &signups_per_ip},
          {"prekey_fetches_per_account", &prekey_fetches_per_account},
          {"prekey_fetches_per_pair", &prekey_fetches_per_pair},
          {"prekey_fetches_per_target", &prekey_fetches_per_target},
          {"sends_per_account", &sends_per_account},
          {"attachments_per_account", &attachments_per_account},
          {"attachment_bytes_per_account", &attachment_bytes_per_account}};
}

Status ServerCore::Impl::check_rate(RateLimiter& limiter, const char* name, const std::string& what,
                                    std::string_view key, std::uint64_t cost) {
  if (key.empty() || !limiter.limit().enabled()) return Status();
  RateLimiter::Decision decision;
  if (config.shared_rate_limits) {
    auto shared = config.shared_rate_limits->acquire(name, limiter.limit(), key, cost);
    if (shared.ok()) {
      decision = *shared;
    } else {
      // Fail open to this node's own limit (shared_rate_limits.h says why).
      metrics.increment("parley_shared_rate_limit_errors_total", limit_label(name));
      decision = limiter.acquire(key, cost);
    }
  } else {
    decision = limiter.acquire(key, cost);
  }
  if (decision.allowed) return Status();
  metrics.increment("parley_rate_limited_total", limit_label(name));
  return Status::error(ErrorCode::kRateLimited,
                       "rate limited: " + what + ": at most " + describe_rate(limiter.limit()) +
                           "; retry in " + std::to_string(decision.retry_after.count()) + " s");
}

// Always this node's own limiters: see shared_rate_limits.h for why connections are not shared.
bool ServerCore::Impl::admit_connection(const std::string& ip_key) {
  if (ip_key.empty()) return true;
  if (!limiters.connections_per_ip.acquire(ip_key).allowed) {
    metrics.increment("parley_rate_limited_total", limit_label("connections_per_ip"));
    return false;
  }
  if (!limiters.open_per_ip.try_add(ip_key, config.abuse.max_connections_per_ip)) {
    metrics.increment("parley_rate_limited_total", limit_label("concurrent_connections_per_ip"));
    return false;
  }
  return true;
}

void ServerCore::Impl::refuse(const std::shared_ptr<Connection>& connection,
                              std::uint64_t request_id, const Status& status) {
  metrics.increment("parley_errors_total", code_label(status.code()));
  connection->send(proto::encode_shared(proto::response_frame(request_id, status)));
  connection->close(status.code());
}

void ServerCore::Impl::on_frame(const std::shared_ptr<Connection>& connection, ByteView frame) {
  if (connection->refusing()) return;
  // Decoding is CPU work bounded by the frame limit, so it runs here; store work never does.
  auto decoded =
      std::make_shared<proto::DecodedRequest>(proto::decode_request(frame, config.limits));
  if (!decoded->status.ok()) {
    metrics.increment("parley_frames_total", type_label("invalid"));
    connection->set_refusing();
    // Queued behind earlier requests so their answers still go out before the close.
    auto queued = connection->enqueue(
        [this, connection, decoded] { refuse(connection, decoded->request_id, decoded->status); },
        /*internal=*/true);
    if (queued != Connection::Enqueued::kYes)
      refuse(connection, decoded->request_id, decoded->status);
    return;
  }
  metrics.increment("parley_frames_total", type_label(proto::request_type_name(decoded->request)));
  if (!accepting.load()) {
    connection->set_refusing();
    refuse(connection, decoded->request_id,
           Status::error(ErrorCode::kUnavailable, "the server is shutting down; reconnect later"));
    return;
  }
  auto queued = connection->enqueue(
      [this, connection, decoded] { process(connection, decoded->request); }, /*internal=*/false);
  if (queued == Connection::Enqueued::kTooMany) {
    connection->set_refusing();
    Status status =
        Status::error(ErrorCode::kRateLimited, "too many requests waiting on this connection");
    connection->enqueue(
        [this, connection, id = decoded->request_id, status] { refuse(connection, id, status); },
        /*internal=*/true);
  }
}

void ServerCore::Impl::on_close(const std::shared_ptr<Connection>& connection) {
  // Closed first: Presence::add refuses a closed connection, and authenticate records the address
  // before registering, so either we see the address here or the registration never happens.
  connection->mark_closed();
  std::optional<store::DeviceAddress> address;
  {
    std::lock_guard lock(connection->delivery_mutex());
    DeliveryState& d = connection->delivery();
    address = d.address;
    if (d.online) metrics.add_gauge("parley_authenticated_connections", "", -1);
    d.online = false;
    d.unacked.clear();
    d.unacked_bytes = 0;
  }
  if (address) presence.remove(*address, connection.get());
  if (config.cluster_bus) detach_from_bus(*connection);
  if (!connection->ip_key.empty()) limiters.open_per_ip.release(connection->ip_key);
  metrics.add_gauge("parley_connections", "", -1);
}

void ServerCore::Impl::process(const std::shared_ptr<Connection>& connection,
                               const wire::Request& request) {
  if (connection->closed()) return;
  auto started = std::chrono::steady_clock::now();
  metrics.set_gauge("parley_worker_queue_depth", "", static_cast<double>(pool.queued()));
  wire::Frame frame = proto::response_frame(request.id(), Status());
  RequestContext ctx{connection, frame.mutable_response(), {}, std::nullopt};
  Status status;
  try {
    status = route(ctx, request);
  } catch (const std::exception&) {
    // No library we call should throw except on allocation failure; never let it kill a worker.
    status = Status::error(ErrorCode::kInternal, "internal error");
  }
  if (!status.ok()) {
    metrics.increment("parley_errors_total", code_label(status.code()));
    wire::Frame error = proto::response_frame(request.id(), status);
    ctx.response->set_status(error.response().status());
    ctx.response->set_message(error.response().message());
    if (!ctx.error_body) ctx.response->clear_body();
  }
  connection->send(proto::encode_shared(std::move(frame)));
  for (auto& action : ctx.after_response) action();
  if (ctx.close_after) connection->close(*ctx.close_after);
  metrics.observe(
      "parley_request_seconds", "",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

Status ServerCore::Impl::route(RequestContext& ctx, const wire::Request& r) {
  switch (r.body_case()) {
    case wire::Request::kPing:
      ctx.response->mutable_ping()->set_server_time_ms(now_ms());
      return Status();
    case wire::Request::kRegistrationChallenge:
      return registration_challenge(ctx);
    case wire::Request::kCreateAccount:
      return create_account(ctx, r.create_account());
    case wire::Request::kAuthChallenge:
      return auth_challenge(ctx);
    case wire::Request::kAuthenticate:
      return authenticate(ctx, r.authenticate());
    case wire::Request::kSetUsername:
      return set_username(ctx, r.set_username());
    case wire::Request::kLookupUsername:
      return lookup_username(ctx, r.lookup_username());
    case wire::Request::kDeleteAccount:
      return delete_account(ctx);
    case wire::Request::kCreateLinkCode:
      return create_link_code(ctx);
    case wire::Request::kLinkDevice:
      return link_device(ctx, r.link_device());
    case wire::Request::kSetDeviceList:
      return set_device_list(ctx, r.set_device_list());
    case wire::Request::kGetDevices:
      return get_devices(ctx, r.get_devices());
    case wire::Request::kRemoveDevice:
      return remove_device(ctx, r.remove_device());
    case wire::Request::kUploadPrekeys:
      return upload_prekeys(ctx, r.upload_prekeys());
    case wire::Request::kGetPrekeyBundle:
      return get_prekey_bundle(ctx, r.get_prekey_bundle());
    case wire::Request::kSendMessage:
      return send_message(ctx, r.send_message());
    case wire::Request::kAckMessages:
      return ack_messages(ctx, r.ack_messages());
    case wire::Request::kSendGroupMessage:
      return send_group_message(ctx, r.send_group_message());
    case wire::Request::kCreateAttachment:
      return create_attachment(ctx, r.create_attachment());
    case wire::Request::kUploadAttachmentChunk:
      return upload_attachment_chunk(ctx, r.upload_attachment_chunk());
    case wire::Request::kGetAttachment:
      return get_attachment(ctx, r.get_attachment());
    case wire::Request::kDownloadAttachmentChunk:
      return download_attachment_chunk(ctx, r.download_attachment_chunk());
    case wire::Request::BODY_NOT_SET:
      break;
  }
  return Status::error(ErrorCode::kMalformedInput, "request has no known body");
}

void ServerCore::Impl::shutdown() {
  accepting.store(false);
  {
    std::lock_guard lock(maintenance_mutex);
    maintenance_stop = true;
  }
  maintenance_wake.notify_all();
  if (maintenance_thread.joinable()) maintenance_thread.join();
  pool.shutdown();  // runs every accepted request to its end
}

Status ServerCore::Impl::run_maintenance() {
  std::int64_t cutoff =
      unix_millis(clock.now() - std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                    config.message_retention));
  PARLEY_ASSIGN_OR_RETURN(std::uint64_t purged, store.purge_messages_older_than(cutoff));
  metrics.increment("parley_messages_purged_total", "", purged);
  // A retry older than the retention is a new message: the original may be gone too.
  PARLEY_RETURN_IF_ERROR(store.purge_dedupe_keys_older_than(cutoff));
  own_link_codes.purge_expired();  // a shared registry expires its codes itself
  return purge_attachments();
}

// ---- ServerCore ---------------------------------------------------------------------------------

ServerCore::ServerCore(store::Store& store, store::BlobStore& blobs, const Clock& clock,
                       Metrics& metrics, ServerCoreConfig config)
    : impl_(std::make_shared<Impl>(store, blobs, clock, metrics, config)) {
  describe_metrics(metrics);
  impl_->update_attachment_gauges();
  metrics.set_gauge("parley_pow_difficulty_bits", "", impl_->pow_difficulty_bits.load());
  // Table sizes at scrape time. Weak: the registry may outlive the core.
  metrics.add_collector([weak = std::weak_ptr<Impl>(impl_)](Metrics& m) {
    auto impl = weak.lock();
    if (!impl) return;
    for (const auto& [name, limiter] : impl->limiters.all()) {
      m.set_gauge("parley_rate_limiter_keys", limit_label(name),
                  static_cast<double>(limiter->size()));
      m.set_counter("parley_rate_limiter_evictions_total", limit_label(name),
                    static_cast<double>(limiter->evictions()));
    }
    m.set_gauge("parley_connection_limit_addresses", "",
                static_cast<double>(impl->limiters.open_per_ip.size()));
  });
  if (impl_->config.maintenance_interval.count() > 0) {
    Impl* impl = impl_.get();
    impl_->maintenance_thread = std::thread([impl] {
      std::unique_lock lock(impl->maintenance_mutex);
      while (!impl->maintenance_wake.wait_for(lock, impl->config.maintenance_interval,
                                              [impl] { return impl->maintenance_stop; })) {
        lock.unlock();
        (void)impl->run_maintenance();  // a failed purge is retried at the next interval
        lock.lock();
      }
    });
  }
}

ServerCore::~ServerCore() {
  shutdown();
}

std::unique_ptr<ConnectionHandler> ServerCore::accept(std::shared_ptr<ConnectionSink> sink) {
  std::string ip_key = ip_limit_key(sink->remote_address());
  if (!impl_->admit_connection(ip_key)) {
    // Closed before any frame: the gateway sends close 1013 "rate_limited" (try again later).
    sink->close(ErrorCode::kRateLimited);
    return std::make_unique<RefusedHandler>();
  }
  auto connection = std::make_shared<Connection>(std::move(sink), impl_->pool,
                                                 impl_->config.max_pending_requests_per_connection);
  connection->ip_key = std::move(ip_key);
  impl_->metrics.add_gauge("parley_connections", "", 1);
  return std::make_unique<Handler>(impl_, std::move(connection));
}

void ServerCore::shutdown() {
  impl_->shutdown();
}

Status ServerCore::run_maintenance() {
  return impl_->run_maintenance();
}

const ServerCoreConfig& ServerCore::config() const {
  return impl_->config;
}

Status ServerCore::set_pow_difficulty(std::uint32_t bits) {
  if (bits > kMaxPowDifficultyBits) {
    return Status::error(
        ErrorCode::kInvalidArgument,
        "proof-of-work difficulty must be 0 to " + std::to_string(kMaxPowDifficultyBits) + " bits");
  }
  impl_->pow_difficulty_bits.store(bits);
  impl_->metrics.set_gauge("parley_pow_difficulty_bits", "", bits);
  return Status();
}

std::uint32_t ServerCore::pow_difficulty() const {
  return impl_->pow_difficulty_bits.load();
}

}  // namespace parley::server
