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

ServerSettings Client::Impl::saved_server() const {
  ServerSettings settings;
  if (account) {
    settings.server = account->server;
    settings.trust.pinned_sha256 = account->server_pin;
    settings.trust.ca_file = account->server_ca_file;
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
  PARLEY_ASSIGN_OR_RETURN(net::HostPort where, net::parse_host_port(server.server));
  net::WebSocketChannelOptions channel;
  channel.host = where.host;
  channel.port = where.port;
  channel.trust = server.trust;
  return net::connect_websocket(channel);
}

Status Client::Impl::connect_unauthenticated(const ServerSettings& server) {
  drop_connection();
  PARLEY_ASSIGN_OR_RETURN(auto channel, open_channel(server));
  connection = std::make_unique<ServerConnection>(std::move(channel), options.request_timeout);
  return Status();
}

void Client::Impl::drop_connection() {
  if (connection) connection->close();
  connection.reset();
  signed_in = false;
  queue_empty_seen = false;
  pending_acks.clear();  // unacked messages come again on the next sign-in
}

Status Client::Impl::ensure_signed_in() {
  PARLEY_RETURN_IF_ERROR(require_account());
  if (connection && signed_in && !connection->broken()) return Status();
  PARLEY_RETURN_IF_ERROR(connect_unauthenticated(saved_server()));

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
  return Status();
}

Result<wire::Response> Client::Impl::call(wire::Request request) {
  PARLEY_RETURN_IF_ERROR(ensure_signed_in());
  auto response = connection->call(std::move(request));
  if (!response.ok() && connection->broken()) drop_connection();
  return response;
}

Result<wire::Response> Client::Impl::call_raw(wire::Request request) {
  PARLEY_RETURN_IF_ERROR(ensure_signed_in());
  auto response = connection->call_raw(std::move(request));
  if (!response.ok() && connection->broken()) drop_connection();
  return response;
}

// ---- Client --------------------------------------------------------------------------------

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() {
  if (impl_) impl_->drop_connection();
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
  if (first.code() != ErrorCode::kConnectionClosed) return first;
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
    auto push = impl_->connection->next_push(std::chrono::milliseconds(500));
    if (!push.ok()) {
      if (push.status().code() == ErrorCode::kTimeout) continue;
      impl_->drop_connection();
      return push.status();
    }
    PARLEY_RETURN_IF_ERROR(impl_->handle_push(*push));
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
