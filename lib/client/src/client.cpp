// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Opening a home, connecting and signing in, and the public methods that only glue the feature
// files together.

#include "parley/client/client.h"

#include <sys/stat.h>

#include <algorithm>
#include <system_error>

#include "client_impl.h"
#include "parley/client/database_key.h"
#include "parley/crypto/fingerprint.h"
#include "parley/crypto/xeddsa.h"
#include "parley/proto/signed_messages.h"
#include "parley/proto/username.h"
#include "parley/util/encoding.h"

namespace parley::client {

std::string hex_id(ByteView id) {
  return hex_encode(id);
}

const char* event_kind_name(Event::Kind kind) {
  switch (kind) {
    case Event::Kind::kMessage:
      return "message";
    case Event::Kind::kSent:
      return "sent";
    case Event::Kind::kDelivered:
      return "delivered";
    case Event::Kind::kRead:
      return "read";
    case Event::Kind::kTyping:
      return "typing";
    case Event::Kind::kTimerChanged:
      return "timer";
    case Event::Kind::kIdentityChanged:
      return "identity_changed";
    case Event::Kind::kDeviceLinked:
      return "device_linked";
    case Event::Kind::kWarning:
      return "warning";
    case Event::Kind::kGroupChanged:
      return "group_changed";
    case Event::Kind::kFileReceived:
      return "file_received";
    case Event::Kind::kTransport:
      return "transport";
  }
  return "unknown";
}

std::int64_t Client::Impl::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock->now().time_since_epoch())
      .count();
}

void Client::Impl::emit(const Event& event) const {
  if (on_event) on_event(event);
}

Status Client::Impl::require_account() const {
  if (!account) return Status::error(ErrorCode::kNotInitialized, "this home has no account yet");
  return Status();
}

Result<ServerSettings> Client::Impl::saved_server() {
  ServerSettings settings;
  if (account) {
    settings.server = account->server;
    settings.trust.pinned_sha256 = account->server_pin;
    settings.trust.ca_file = account->server_ca_file;
    PARLEY_ASSIGN_OR_RETURN(settings.network, load_network_settings());
  }
  return settings;
}

Result<std::unique_ptr<net::FrameChannel>> Client::Impl::open_channel(
    const ServerSettings& server) {
  if (offline) {
    return Status::error(ErrorCode::kUnavailable,
                         "another parley process holds the connection for this home");
  }
  if (options.connector) return options.connector(server.server, server.trust);

  net::TransportSettings settings;
  settings.server = server.server;
  settings.trust = server.trust;
  settings.tls_name = server.network.tls_name;
  settings.endpoints = server.network.endpoints;
  settings.relays = server.network.relays;
  settings.proxy = server.network.proxy;
  settings.doh_url = server.network.doh_url;
  settings.doh_trust = server.network.doh_trust;
  PARLEY_ASSIGN_OR_RETURN(std::vector<net::Candidate> candidates, net::make_candidates(settings));

  if (!transport) {
    transport = std::make_unique<net::TransportManager>(net::dial_candidate, options.transport);
    transport->set_status_callback([this](const net::TransportStatus& status) {
      Event event;
      event.kind = Event::Kind::kTransport;
      event.value = static_cast<std::int64_t>(status.state);
      event.body = status.state == net::TransportState::kConnected ? status.via : status.detail;
      emit(event);
    });
  }
  network = net::network_id();
  std::int64_t now = now_ms();
  auto connected = transport->connect(memory().order(network, std::move(candidates), now));
  if (!connected.ok()) {
    // Every route failed: remember that so a route that works elsewhere is not tried last.
    save_memory();
    return connected.status();
  }
  for (const std::string& key : connected->failed_keys) memory().record_failure(network, key, now);
  memory().record_success(network, connected->candidate.key, now);
  route_key = connected->candidate.key;
  freeze_mode = memory().freeze_seen(network, now);
  save_memory();
  return std::move(connected->channel);
}

Status Client::Impl::connect_unauthenticated(const ServerSettings& server) {
  drop_connection();
  PARLEY_ASSIGN_OR_RETURN(auto channel, open_channel(server));
  connection = std::make_unique<ServerConnection>(
      std::move(channel), ConnectionTimeouts{options.request_timeout, options.stall_timeout});
  return Status();
}

void Client::Impl::drop_connection() {
  if (connection) {
    // A stalled connection says something about this network (see below).
    if (connection->stalled() && !network.empty()) {
      // The route that went silent is tried last next time: a censor that starts dropping a
      // flow usually keeps dropping that route, and another one may be open.
      if (!route_key.empty()) memory().record_failure(network, route_key, now_ms());
      // After this much, the stall looks like the censor's freeze (a flow cut silently after
      // ~16 KB): from now on, on this network, connections stay under budget.
      if (connection->bytes_received() >= options.freeze_suspect_bytes && !freeze_mode) {
        freeze_mode = true;
        memory().record_freeze(network, now_ms());
      }
      save_memory();
    }
    connection->close();
    if (transport) transport->mark_disconnected("the connection closed");
  }
  connection.reset();
  signed_in = false;
  queue_empty_seen = false;
  pending_acks.clear();  // unacked messages come again on the next sign-in
}

std::uint64_t Client::Impl::reply_room() const {
  if (!freeze_mode || !connection || connection->broken()) return UINT64_MAX;
  // Everything that arrived counts (the censor counts packets, not what we handled), plus the
  // pushes the server may still send unasked while the queue drains (our small window).
  std::uint64_t used = connection->bytes_received() + (queue_empty_seen ? 0 : kFreezeWindowBytes);
  return used >= options.freeze_budget_bytes ? 0 : options.freeze_budget_bytes - used;
}

Status Client::Impl::make_room(std::uint64_t expected_reply) {
  if (reply_room() >= expected_reply) return Status();
  if (connection->frames_received() <= frames_at_sign_in) return Status();  // fresh: go ahead
  // Acks first, without waiting for their reply (it may be past the censor's cut): what this
  // connection delivered must not come again on the next one, or rotation would never progress.
  // The close follows the acks on the same ordered stream, so the server reads them first.
  while (!pending_acks.empty()) {
    std::size_t count = 0;
    if (!connection->post(ack_request(pending_acks, count)).ok()) break;  // skipped by seq later
    pending_acks.erase(pending_acks.begin(), pending_acks.begin() + static_cast<long>(count));
  }
  drop_connection();
  return ensure_signed_in();
}

// ---- network settings ---------------------------------------------------------------------------

namespace {

constexpr std::string_view kTlsNameKey = "network.tls_name";
constexpr std::string_view kEndpointsKey = "network.endpoints";
constexpr std::string_view kRelaysKey = "network.relays";
constexpr std::string_view kProxyKey = "network.proxy";
constexpr std::string_view kDohUrlKey = "network.doh_url";
constexpr std::string_view kDohPinKey = "network.doh_pin";
constexpr std::string_view kDohCaKey = "network.doh_ca";
constexpr std::string_view kMemoryKey = "transport.memory";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  return text;
}

}  // namespace

Result<NetworkSettings> Client::Impl::load_network_settings() {
  NetworkSettings settings;
  auto text = [&](std::string_view key) -> Result<std::string> {
    PARLEY_ASSIGN_OR_RETURN(std::optional<std::string> value, store->setting(key));
    return value.value_or("");
  };
  PARLEY_ASSIGN_OR_RETURN(settings.tls_name, text(kTlsNameKey));
  PARLEY_ASSIGN_OR_RETURN(std::string endpoints, text(kEndpointsKey));
  settings.endpoints = lines_of(endpoints);
  PARLEY_ASSIGN_OR_RETURN(std::string relays, text(kRelaysKey));
  for (const std::string& line : lines_of(relays)) {
    PARLEY_ASSIGN_OR_RETURN(net::RelayLink link, net::parse_relay_link(line));
    settings.relays.push_back(std::move(link));
  }
  PARLEY_ASSIGN_OR_RETURN(std::string proxy, text(kProxyKey));
  PARLEY_ASSIGN_OR_RETURN(settings.proxy, net::parse_proxy_url(proxy));
  PARLEY_ASSIGN_OR_RETURN(settings.doh_url, text(kDohUrlKey));
  PARLEY_ASSIGN_OR_RETURN(settings.doh_trust.pinned_sha256, text(kDohPinKey));
  PARLEY_ASSIGN_OR_RETURN(settings.doh_trust.ca_file, text(kDohCaKey));
  return settings;
}

Status Client::Impl::save_network_settings(const NetworkSettings& settings) {
  // The same checks the connection makes, so a bad setting fails here and not at connect time.
  net::TransportSettings check;
  check.server = account ? account->server : "placeholder.invalid:443";
  check.endpoints = settings.endpoints;
  PARLEY_RETURN_IF_ERROR(net::make_candidates(check).status());
  std::vector<std::string> relays;
  for (const net::RelayLink& link : settings.relays) {
    std::string text = net::format_relay_link(link);
    PARLEY_RETURN_IF_ERROR(net::parse_relay_link(text).status());
    relays.push_back(std::move(text));
  }
  if (!settings.doh_url.empty() && settings.doh_url.rfind("https://", 0) != 0) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "a DNS-over-HTTPS resolver is an https:// URL");
  }
  PARLEY_ASSIGN_OR_RETURN(auto tx, store->begin());
  PARLEY_RETURN_IF_ERROR(store->set_setting(kTlsNameKey, settings.tls_name));
  PARLEY_RETURN_IF_ERROR(store->set_setting(kEndpointsKey, joined(settings.endpoints)));
  PARLEY_RETURN_IF_ERROR(store->set_setting(kRelaysKey, joined(relays)));
  PARLEY_RETURN_IF_ERROR(store->set_setting(
      kProxyKey, settings.proxy.enabled() ? net::proxy_url(settings.proxy) : std::string()));
  PARLEY_RETURN_IF_ERROR(store->set_setting(kDohUrlKey, settings.doh_url));
  PARLEY_RETURN_IF_ERROR(store->set_setting(kDohPinKey, settings.doh_trust.pinned_sha256));
  PARLEY_RETURN_IF_ERROR(store->set_setting(kDohCaKey, settings.doh_trust.ca_file));
  return tx.commit();
}

net::TransportMemory& Client::Impl::memory() {
  if (!transport_memory) {
    auto text = store->setting(kMemoryKey);
    // A memory that cannot be read only costs a slower first connection.
    transport_memory = net::TransportMemory::parse(text.ok() ? text->value_or("") : "");
  }
  return *transport_memory;
}

void Client::Impl::save_memory() {
  if (!transport_memory || !account) return;
  (void)store->set_setting(kMemoryKey, transport_memory->serialize());  // best effort, see above
}

Status Client::Impl::ensure_signed_in() {
  PARLEY_RETURN_IF_ERROR(require_account());
  if (connection && signed_in && !connection->broken()) return Status();
  PARLEY_ASSIGN_OR_RETURN(ServerSettings server, saved_server());
  PARLEY_RETURN_IF_ERROR(connect_unauthenticated(server));

  wire::Request challenge_request;
  challenge_request.mutable_auth_challenge();
  PARLEY_ASSIGN_OR_RETURN(wire::Response challenge, connection->call(std::move(challenge_request)));
  const std::string& nonce = challenge.auth_challenge().challenge();
  PARLEY_ASSIGN_OR_RETURN(auto device_key,
                          crypto::PrivateKey::parse(account->device_private_key.view()));
  Bytes signature = crypto::xeddsa_sign(
      device_key,
      proto::auth_signed_bytes(as_bytes(nonce), account->account_id, account->device_id));
  wire::Request auth;
  auto* body = auth.mutable_authenticate();
  body->set_account_id(account->account_id.data(), account->account_id.size());
  body->set_device_id(account->device_id);
  body->set_challenge(nonce);
  body->set_signature(signature.data(), signature.size());
  if (freeze_mode) body->set_delivery_window_bytes(kFreezeWindowBytes);
  auto authenticated = connection->call(std::move(auth));
  if (!authenticated.ok()) {
    Status status = authenticated.status();
    drop_connection();
    if (status.code() == ErrorCode::kNotFound) {
      return Status::error(ErrorCode::kNotFound,
                           "the server does not know this device (it was removed, or the account "
                           "was deleted)");
    }
    return status;
  }
  signed_in = true;
  frames_at_sign_in = connection->frames_received();
  return Status();
}

Result<wire::Response> Client::Impl::call(wire::Request request) {
  PARLEY_RETURN_IF_ERROR(ensure_signed_in());
  PARLEY_RETURN_IF_ERROR(make_room());
  auto response = connection->call(std::move(request));
  if (!response.ok() && connection->broken()) drop_connection();
  return response;
}

Result<wire::Response> Client::Impl::call_raw(wire::Request request) {
  PARLEY_RETURN_IF_ERROR(ensure_signed_in());
  PARLEY_RETURN_IF_ERROR(make_room());
  auto response = connection->call_raw(std::move(request));
  if (!response.ok() && connection->broken()) drop_connection();
  return response;
}

// ---- Client --------------------------------------------------------------------------------

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() {
  if (impl_) {
    impl_->on_event = nullptr;  // the app's handler may already be gone
    impl_->drop_connection();
  }
}

Result<std::unique_ptr<Client>> Client::open(ClientOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->clock = options.clock ? options.clock : &SystemClock::instance();
  std::error_code error;
  std::filesystem::create_directories(options.home, error);
  if (error) {
    return Status::error(ErrorCode::kStorageIo, "cannot create the home directory " +
                                                    options.home.string() + ": " + error.message());
  }
  ::chmod(options.home.c_str(), 0700);  // best effort: the home holds the key file
  PARLEY_ASSIGN_OR_RETURN(DatabaseKey key,
                          load_database_key(options.home, options.passphrase, /*create=*/true));
  PARLEY_ASSIGN_OR_RETURN(impl->store, LocalStore::open(options.home / "parley.db", key.key));
  PARLEY_ASSIGN_OR_RETURN(impl->account, impl->store->account());
  impl->options = std::move(options);
  // Disappearing messages go as soon as anyone opens the home.
  PARLEY_RETURN_IF_ERROR(impl->store->delete_expired_messages(impl->now_ms()));
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

void Client::set_event_handler(EventHandler handler) {
  impl_->on_event = std::move(handler);
}

void Client::set_offline(bool offline) {
  impl_->offline = offline;
}

bool Client::initialized() const {
  return impl_->account.has_value();
}

void Client::disconnect() {
  impl_->drop_connection();
}

Result<NetworkSettings> Client::network_settings() {
  return impl_->load_network_settings();
}

Status Client::set_network_settings(const NetworkSettings& settings) {
  PARLEY_RETURN_IF_ERROR(impl_->save_network_settings(settings));
  impl_->drop_connection();  // the next connection uses them
  return Status();
}

Result<NetworkReport> Client::network_report() {
  NetworkReport report;
  PARLEY_ASSIGN_OR_RETURN(report.settings, impl_->load_network_settings());
  report.network_id = net::network_id();
  report.last_route = impl_->memory().last_success(report.network_id);
  report.freeze_mode = impl_->memory().freeze_seen(report.network_id, impl_->now_ms());
  report.status = transport_status();
  return report;
}

net::TransportStatus Client::transport_status() const {
  if (impl_->transport) return impl_->transport->status();
  return {};
}

Result<AccountInfo> Client::whoami() {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  AccountInfo info;
  info.account_id_hex = impl_->own_hex();
  info.device_id = impl_->account->device_id;
  info.username = impl_->account->username;
  info.server = impl_->account->server;
  std::string hex = hex_encode(impl_->account->identity_key);
  for (std::size_t i = 2; i < hex.size(); i += 8) {  // skip the 05 type byte
    if (!info.identity_fingerprint.empty()) info.identity_fingerprint += ' ';
    info.identity_fingerprint += hex.substr(i, 8);
  }
  auto devices = impl_->device_set(impl_->own_account_id(), /*refresh=*/false);
  if (devices.ok()) {
    for (const auto& [id, key] : devices->devices) info.devices.push_back(id);
  }
  return info;
}

Result<ContactView> Client::lookup(const std::string& username) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  PARLEY_ASSIGN_OR_RETURN(Contact contact, impl_->contact_for_username(username, true));
  return ContactView{hex_id(contact.account_id), contact.username, contact.verified,
                     contact.identity_changed};
}

Status Client::set_username(const std::string& username) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  if (!impl_->is_primary()) {
    return Status::error(ErrorCode::kPermissionDenied,
                         "only the primary device (device 1) can change the username");
  }
  wire::Request request;
  request.mutable_set_username()->set_username(username);
  PARLEY_ASSIGN_OR_RETURN(wire::Response response, impl_->call(std::move(request)));
  impl_->account->username = response.set_username().username();
  PARLEY_RETURN_IF_ERROR(impl_->store->save_account(*impl_->account));
  // Linked devices learn the name from the signed device list.
  PARLEY_ASSIGN_OR_RETURN(DeviceSet devices, impl_->own_device_set(false));
  return impl_->publish_device_list(devices);
}

Result<std::string> Client::queue_text(const std::string& username, const std::string& text) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  if (text.empty()) return Status::error(ErrorCode::kInvalidArgument, "the message is empty");
  if (text.size() > kMaxTextBytes) {
    return Status::error(ErrorCode::kTooLarge, "a message holds at most 32 KiB of text");
  }
  PARLEY_ASSIGN_OR_RETURN(Contact contact, impl_->contact_for_username(username, !impl_->offline));
  if (contact.identity_changed && contact.verified) {
    return Status::error(ErrorCode::kUntrustedIdentity,
                         "you verified " + username +
                             " before, and their identity key has "
                             "changed since: compare safety numbers again with `parley verify " +
                             username + "` before writing");
  }
  PARLEY_ASSIGN_OR_RETURN(Bytes id, impl_->queue_text_to(contact, text));
  return hex_id(id);
}

namespace {

// A connection can die silently while idle (a NAT timeout, a server restart): the first request
// on it fails. Such a failure is worth one fresh connection before giving up.
Status with_one_reconnect(Client::Impl& impl, const std::function<Status()>& work) {
  Status first = work();
  if (first.code() != ErrorCode::kConnectionClosed && first.code() != ErrorCode::kStalled) {
    return first;
  }
  impl.drop_connection();
  return work();
}

}  // namespace

Status Client::flush() {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  return with_one_reconnect(*impl_, [&] {
    PARLEY_RETURN_IF_ERROR(impl_->run_uploads());  // a finished upload queues its message
    return impl_->flush_outbox();
  });
}

Status Client::sync() {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  return with_one_reconnect(*impl_, [&] { return sync_once(); });
}

Status Client::sync_once() {
  PARLEY_RETURN_IF_ERROR(impl_->ensure_signed_in());
  PARLEY_RETURN_IF_ERROR(impl_->run_uploads());
  PARLEY_RETURN_IF_ERROR(impl_->flush_outbox());
  // Everything that was waiting arrives before QueueEmpty; what comes right after is live.
  auto deadline = std::chrono::steady_clock::now() + impl_->options.request_timeout;
  while (!impl_->queue_empty_seen) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::error(ErrorCode::kTimeout, "the server did not finish sending the queue");
    }
    auto push = impl_->connection->next_push(std::chrono::milliseconds(250));
    if (!push.ok()) {
      Status status = push.status();
      // The queue is owed until QueueEmpty: silence for the stall timeout means a dead flow.
      if (status.code() == ErrorCode::kTimeout) status = impl_->connection->check_stall();
      if (status.ok()) continue;
      impl_->drop_connection();
      return status;
    }
    PARLEY_RETURN_IF_ERROR(impl_->handle_push(*push));
    // On a freezing network the server pushes only a small window: ack as we go so it sends
    // more, and continue on a fresh connection before the cut.
    if (impl_->freeze_mode && !impl_->connection->has_queued_push()) {
      PARLEY_RETURN_IF_ERROR(impl_->make_room());
      PARLEY_RETURN_IF_ERROR(impl_->flush_acks());
    }
  }
  PARLEY_RETURN_IF_ERROR(impl_->drain_pushes(std::chrono::milliseconds(50)));
  PARLEY_RETURN_IF_ERROR(impl_->flush_acks());
  PARLEY_RETURN_IF_ERROR(impl_->run_downloads());  // files of the messages just received
  // Receipts and replies queued while receiving.
  return impl_->flush_outbox();
}

Status Client::listen(const std::function<bool()>& keep_going, std::chrono::milliseconds tick) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  PARLEY_RETURN_IF_ERROR(impl_->ensure_signed_in());
  auto last_expiry = std::chrono::steady_clock::now();
  // Transfers pause between chunks when the app stops listening.
  struct StopTransfers {
    Impl* impl;
    ~StopTransfers() { impl->keep_going = nullptr; }
  } stop_transfers{impl_.get()};
  impl_->keep_going = &keep_going;
  while (keep_going()) {
    PARLEY_RETURN_IF_ERROR(impl_->run_uploads());
    PARLEY_RETURN_IF_ERROR(impl_->flush_outbox());
    PARLEY_RETURN_IF_ERROR(impl_->ensure_signed_in());  // a transfer may have dropped it
    auto push = impl_->connection->next_push(tick);
    if (push.ok()) {
      PARLEY_RETURN_IF_ERROR(impl_->handle_push(*push));
      if (impl_->pending_acks.size() >= 64) PARLEY_RETURN_IF_ERROR(impl_->flush_acks());
      if (impl_->freeze_mode && !impl_->connection->has_queued_push()) {
        PARLEY_RETURN_IF_ERROR(impl_->make_room());
        PARLEY_RETURN_IF_ERROR(impl_->flush_acks());
      }
      continue;
    }
    if (push.status().code() != ErrorCode::kTimeout) {
      impl_->drop_connection();
      return push.status();
    }
    PARLEY_RETURN_IF_ERROR(impl_->flush_acks());
    PARLEY_RETURN_IF_ERROR(impl_->run_downloads());  // idle: the queue is drained
    if (std::chrono::steady_clock::now() - last_expiry > std::chrono::seconds(1)) {
      last_expiry = std::chrono::steady_clock::now();
      PARLEY_RETURN_IF_ERROR(impl_->store->delete_expired_messages(impl_->now_ms()));
    }
  }
  return impl_->flush_acks();
}

Status Client::mark_read(const std::string& username) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  PARLEY_ASSIGN_OR_RETURN(Contact contact, impl_->contact_for_username(username, false));
  PARLEY_ASSIGN_OR_RETURN(auto unread, impl_->store->unread(contact.account_id));
  if (unread.empty()) return Status();
  std::vector<Bytes> ids;
  PARLEY_ASSIGN_OR_RETURN(auto tx, impl_->store->begin());
  for (const auto& message : unread) {
    PARLEY_RETURN_IF_ERROR(impl_->store->advance_status(
        contact.account_id, MessageDirection::kIncoming, message.client_message_id,
        MessageStatus::kRead, impl_->now_ms()));
    if (message.kind == MessageKind::kText) ids.push_back(message.client_message_id);
  }
  PARLEY_ASSIGN_OR_RETURN(auto conversation, impl_->store->conversation(contact.account_id));
  if (conversation) {
    conversation->unread = 0;
    PARLEY_RETURN_IF_ERROR(impl_->store->save_conversation(*conversation));
  }
  if (!ids.empty()) {
    PARLEY_RETURN_IF_ERROR(impl_->queue_receipt(contact.account_id, content::Receipt::READ, ids));
  }
  return tx.commit();
}

Status Client::send_typing(const std::string& username, bool started) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  PARLEY_ASSIGN_OR_RETURN(Contact contact, impl_->contact_for_username(username, !impl_->offline));
  content::Content content;
  content.mutable_typing()->set_started(started);
  return impl_->queue_content(contact.account_id, content);
}

Status Client::set_disappearing_timer(const std::string& username, std::int64_t seconds) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  if (seconds < 0 || seconds > std::int64_t{366} * 24 * 3600) {
    return Status::error(ErrorCode::kOutOfRange, "the timer must be between 0 and 366 days");
  }
  PARLEY_ASSIGN_OR_RETURN(Contact contact, impl_->contact_for_username(username, !impl_->offline));
  PARLEY_ASSIGN_OR_RETURN(auto tx, impl_->store->begin());
  PARLEY_ASSIGN_OR_RETURN(auto conversation, impl_->store->conversation(contact.account_id));
  Conversation updated = conversation.value_or(Conversation{contact.account_id, 0, 0, 0});
  updated.disappearing_seconds = seconds;
  updated.last_activity_ms = impl_->now_ms();
  PARLEY_RETURN_IF_ERROR(impl_->store->save_conversation(updated));
  content::Content to_peer;
  to_peer.mutable_timer()->set_seconds(seconds);
  PARLEY_RETURN_IF_ERROR(impl_->queue_content(contact.account_id, to_peer));
  content::Content to_self;
  auto* sent = to_self.mutable_sent();
  sent->set_recipient_account_id(contact.account_id.data(), contact.account_id.size());
  sent->mutable_timer()->set_seconds(seconds);
  PARLEY_RETURN_IF_ERROR(impl_->queue_content(impl_->own_account_id(), to_self));
  return tx.commit();
}

Result<std::vector<ChatSummary>> Client::chats() {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  PARLEY_ASSIGN_OR_RETURN(auto conversations, impl_->store->conversations());
  std::vector<ChatSummary> out;
  for (const auto& conversation : conversations) {
    if (conversation.is_group) continue;  // groups are listed by groups()
    ChatSummary summary;
    PARLEY_ASSIGN_OR_RETURN(auto contact, impl_->store->contact(conversation.peer));
    summary.contact.account_id_hex = hex_id(conversation.peer);
    if (contact) {
      summary.contact.username = contact->username;
      summary.contact.verified = contact->verified;
      summary.contact.identity_changed = contact->identity_changed;
    }
    summary.last_activity_ms = conversation.last_activity_ms;
    summary.unread = conversation.unread;
    summary.disappearing_seconds = conversation.disappearing_seconds;
    PARLEY_ASSIGN_OR_RETURN(auto last, impl_->store->history(conversation.peer, 1));
    if (!last.empty()) summary.last_message = std::move(last.back());
    out.push_back(std::move(summary));
  }
  return out;
}

Result<std::vector<MessageRecord>> Client::history(const std::string& username, std::size_t limit) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  PARLEY_RETURN_IF_ERROR(impl_->store->delete_expired_messages(impl_->now_ms()));
  PARLEY_ASSIGN_OR_RETURN(Contact contact, impl_->contact_for_username(username, false));
  return impl_->store->history(contact.account_id, limit);
}

Result<std::size_t> Client::outbox_size() {
  PARLEY_ASSIGN_OR_RETURN(auto entries, impl_->store->outbox());
  return entries.size();
}

Result<SafetyNumber> Client::safety_number(const std::string& username) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  PARLEY_ASSIGN_OR_RETURN(Contact contact, impl_->contact_for_username(username, !impl_->offline));
  PARLEY_ASSIGN_OR_RETURN(auto own_key, crypto::PublicKey::parse(impl_->account->identity_key));
  PARLEY_ASSIGN_OR_RETURN(auto their_key, crypto::PublicKey::parse(contact.identity_key));
  PARLEY_ASSIGN_OR_RETURN(auto fingerprint,
                          crypto::Fingerprint::create(impl_->own_hex(), own_key,
                                                      hex_id(contact.account_id), their_key));
  return SafetyNumber{fingerprint.display_text(), fingerprint.scannable().serialize(),
                      contact.verified};
}

Status Client::mark_verified(const std::string& username) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  PARLEY_ASSIGN_OR_RETURN(Contact contact, impl_->contact_for_username(username, false));
  contact.verified = true;
  contact.identity_changed = false;
  contact.updated_ms = impl_->now_ms();
  return impl_->store->save_contact(contact);
}

}  // namespace parley::client
