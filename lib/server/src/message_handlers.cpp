// SPDX-License-Identifier: AGPL-3.0-or-later
// Mailboxes: send (device-set check, one atomic append, dedupe), group send (the same per
// recipient account, one shared ciphertext stored once), delivery (drain on connect, then live
// pushes in seq order without gaps or duplicates), acks.
//
// Ordering: each connection keeps last_pushed (the highest seq pushed). A live notification for
// seq == last_pushed + 1 is pushed at once; anything else (a gap, a drain in progress, a full
// window) falls back to reading the mailbox from last_pushed, which returns whatever is stored in
// seq order. Senders notify only after their append committed, and a device registers in presence
// before its first read, so every message is either read by the drain or notified afterwards.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "core_impl.h"

namespace parley::server {
namespace {

constexpr std::uint32_t kDrainBatch = 100;

Bytes dedupe_key(const store::DeviceAddress& sender, const std::string& client_message_id) {
  Bytes key(sender.account_id.begin(), sender.account_id.end());
  for (int shift = 24; shift >= 0; shift -= 8) {
    key.push_back(static_cast<std::uint8_t>(sender.device_id >> shift));
  }
  append(key, as_bytes(client_message_id));
  return key;
}

std::string join(const std::vector<std::uint32_t>& ids) {
  std::string out;
  for (std::uint32_t id : ids) {
    if (!out.empty()) out += ",";
    out += std::to_string(id);
  }
  return out.empty() ? "none" : out;
}

// How the devices a sender addressed differ from the recipient account's current devices.
struct DeviceDiff {
  std::vector<std::uint32_t> missing;  // current devices the sender left out
  std::vector<std::uint32_t> extra;    // addressed devices the account does not have
  bool matches() const { return missing.empty() && extra.empty(); }
};

// The expected set is every device of the recipient; for the sender's own account, every other
// device (a device does not send to itself).
DeviceDiff diff_devices(const std::vector<store::Device>& devices,
                        const store::AccountId& recipient, const store::DeviceAddress& sender,
                        const std::set<std::uint32_t>& given) {
  std::set<std::uint32_t> expected;
  for (const auto& d : devices) {
    if (!(recipient == sender.account_id && d.device_id == sender.device_id)) {
      expected.insert(d.device_id);
    }
  }
  DeviceDiff diff;
  std::set_difference(expected.begin(), expected.end(), given.begin(), given.end(),
                      std::back_inserter(diff.missing));
  std::set_difference(given.begin(), given.end(), expected.begin(), expected.end(),
                      std::back_inserter(diff.extra));
  return diff;
}

Status queue_full_error(const Status& status, std::uint32_t cap) {
  return Status::error(ErrorCode::kQueueFull,
                       "a recipient mailbox holds " + std::to_string(cap) +
                           " messages, its limit; try again later: " + status.message());
}

}  // namespace

Status ServerCore::Impl::send_message(RequestContext& ctx, const wire::SendMessageRequest& r) {
  PARLEY_ASSIGN_OR_RETURN(store::DeviceAddress sender, require_device(ctx));
  PARLEY_RETURN_IF_ERROR(check_rate(limiters.sends_per_account, "sends_per_account",
                                    "message sends per account", to_field(sender.account_id)));
  PARLEY_ASSIGN_OR_RETURN(store::AccountId recipient,
                          store::account_id_from_bytes(field_bytes(r.recipient_account_id())));
  auto devices = store.list_devices(recipient);
  if (!devices.ok()) {
    if (devices.status().code() == ErrorCode::kNotFound) {
      return Status::error(ErrorCode::kNotFound, "recipient account not found");
    }
    return devices.status();
  }
  std::set<std::uint32_t> given;
  for (const auto& copy : r.copies()) given.insert(copy.device_id());
  DeviceDiff diff = diff_devices(*devices, recipient, sender, given);
  if (!diff.matches()) {
    auto* mismatch = ctx.response->mutable_device_mismatch();
    for (std::uint32_t id : diff.missing) mismatch->add_missing_devices(id);
    for (std::uint32_t id : diff.extra) mismatch->add_extra_devices(id);
    ctx.error_body = true;
    return Status::error(
        ErrorCode::kDeviceMismatch,
        "recipient devices changed: missing " + join(diff.missing) + "; extra " + join(diff.extra));
  }

  store::AppendRequest append;
  append.now_ms = now_ms();
  append.dedupe_key = dedupe_key(sender, r.client_message_id());
  append.max_queue_per_device = config.max_queue_per_device;
  append.envelopes.reserve(static_cast<std::size_t>(r.copies_size()));
  for (const auto& copy : r.copies()) {
    store::NewEnvelope envelope;
    envelope.recipient = {recipient, copy.device_id()};
    envelope.sender = sender;
    envelope.timestamp_ms = append.now_ms;
    envelope.payload = to_bytes(copy.ciphertext());
    append.envelopes.push_back(std::move(envelope));
  }
  auto result = store.append_messages(append);  // one atomic, synced write of every copy
  if (!result.ok()) {
    if (result.status().code() == ErrorCode::kQueueFull) {
      return queue_full_error(result.status(), config.max_queue_per_device);
    }
    return result.status();
  }
  // The same ack for a retry: the body depends only on the request and the original result.
  auto* body = ctx.response->mutable_send_message();
  body->set_client_message_id(r.client_message_id());
  body->set_stored_copies(static_cast<std::uint32_t>(result->copies.size()));
  if (result->duplicate) {
    metrics.increment("parley_messages_duplicate_total");
    return Status();  // the original was stored and notified; nothing new to deliver
  }
  metrics.increment("parley_messages_stored_total", "", result->copies.size());
  ctx.after_response.push_back([this, sender, timestamp_ms = append.now_ms,
                                copies = std::move(result->copies),
                                envelopes = std::move(append.envelopes)] {
    notify_stored(copies, sender, timestamp_ms,
                  [&](std::size_t i) -> const Bytes& { return envelopes[i].payload; });
  });
  return Status();
}

// Like send_message per recipient account, but every mismatching account is reported at once and
// the one ciphertext is stored once for every device (AppendRequest::shared_payload).
//
// Queue caps stay all or nothing, as for send_message: if any recipient device's mailbox is full
// the whole group message is refused (403) and nothing is stored, so a client never has to track
// which members got a message. One member who stays offline for long can therefore block sends
// to the group until their mailbox drains or retention purges it.
Status ServerCore::Impl::send_group_message(RequestContext& ctx,
                                            const wire::SendGroupMessageRequest& r) {
  PARLEY_ASSIGN_OR_RETURN(store::DeviceAddress sender, require_device(ctx));
  // One token per request like a one-to-one send: the group's size is bounded by the frame limits.
  PARLEY_RETURN_IF_ERROR(check_rate(limiters.sends_per_account, "sends_per_account",
                                    "message sends per account", to_field(sender.account_id)));
  store::AppendRequest append;
  append.now_ms = now_ms();
  wire::GroupDeviceMismatch mismatches;
  for (const auto& member : r.recipients()) {
    PARLEY_ASSIGN_OR_RETURN(store::AccountId recipient,
                            store::account_id_from_bytes(field_bytes(member.account_id())));
    auto devices = store.list_devices(recipient);
    if (!devices.ok()) {
      if (devices.status().code() != ErrorCode::kNotFound) return devices.status();
      auto* gone = mismatches.add_accounts();
      gone->set_account_id(member.account_id());
      gone->set_account_gone(true);
      continue;
    }
    std::set<std::uint32_t> given(member.device_ids().begin(), member.device_ids().end());
    DeviceDiff diff = diff_devices(*devices, recipient, sender, given);
    if (!diff.matches()) {
      auto* account = mismatches.add_accounts();
      account->set_account_id(member.account_id());
      for (std::uint32_t id : diff.missing) account->add_missing_devices(id);
      for (std::uint32_t id : diff.extra) account->add_extra_devices(id);
      continue;
    }
    if (mismatches.accounts_size() > 0) continue;  // nothing will be stored: skip building
    for (std::uint32_t device_id : member.device_ids()) {
      store::NewEnvelope envelope;
      envelope.recipient = {recipient, device_id};
      envelope.sender = sender;
      envelope.timestamp_ms = append.now_ms;
      // No payload of its own: the entry refers to append.shared_payload.
      append.envelopes.push_back(std::move(envelope));
    }
  }
  if (mismatches.accounts_size() > 0) {
    std::size_t count = static_cast<std::size_t>(mismatches.accounts_size());
    *ctx.response->mutable_group_device_mismatch() = std::move(mismatches);
    ctx.error_body = true;
    return Status::error(ErrorCode::kDeviceMismatch,
                         "devices changed for " + std::to_string(count) +
                             " recipient account(s); nothing was stored");
  }

  append.dedupe_key = dedupe_key(sender, r.client_message_id());
  append.max_queue_per_device = config.max_queue_per_device;
  append.shared_payload = to_bytes(r.ciphertext());
  auto result = store.append_messages(append);  // one atomic, synced write: payload + entries
  if (!result.ok()) {
    if (result.status().code() == ErrorCode::kQueueFull) {
      return queue_full_error(result.status(), config.max_queue_per_device);
    }
    return result.status();
  }
  auto* body = ctx.response->mutable_send_group_message();
  body->set_client_message_id(r.client_message_id());
  body->set_stored_copies(static_cast<std::uint32_t>(result->copies.size()));
  if (result->duplicate) {
    metrics.increment("parley_messages_duplicate_total");
    return Status();
  }
  metrics.increment("parley_group_messages_total");
  metrics.increment("parley_group_fanout_copies_total", "", result->copies.size());
  metrics.increment("parley_messages_stored_total", "", result->copies.size());
  ctx.after_response.push_back([this, sender, timestamp_ms = append.now_ms,
                                copies = std::move(result->copies),
                                payload = std::move(*append.shared_payload)] {
    notify_stored(copies, sender, timestamp_ms,
                  [&](std::size_t) -> const Bytes& { return payload; });
  });
  return Status();
}

void ServerCore::Impl::notify_stored(const std::vector<store::DeliveredCopy>& copies,
                                     const std::optional<store::DeviceAddress>& sender,
                                     std::int64_t timestamp_ms,
                                     const std::function<const Bytes&(std::size_t)>& payload_of) {
  for (std::size_t i = 0; i < copies.size(); ++i) {
    auto connection = presence.find(copies[i].recipient);
    if (!connection) continue;  // offline: drained on connect
    store::StoredEnvelope stored{copies[i].seq, sender, timestamp_ms, payload_of(i)};
    notify_message(connection, stored);
  }
  // Committed first, then woken (cluster_bus.h): a lost wake-up only waits for the next drain.
  // One batch per send: a group message to 1,000 devices is one pipeline, not 1,000 blocking
  // round trips. After the local pushes, which only queue frames, so that a Redis in trouble
  // (retrying for seconds) never delays the devices connected here.
  if (config.cluster_bus && !copies.empty()) {
    std::vector<store::DeviceAddress> recipients;
    recipients.reserve(copies.size());
    for (const store::DeliveredCopy& copy : copies) recipients.push_back(copy.recipient);
    config.cluster_bus->wake_many(recipients);
  }
}

Status ServerCore::Impl::ack_messages(RequestContext& ctx, const wire::AckMessagesRequest& r) {
  PARLEY_ASSIGN_OR_RETURN(store::DeviceAddress device, require_device(ctx));
  std::vector<std::uint64_t> seqs(r.seqs().begin(), r.seqs().end());
  PARLEY_ASSIGN_OR_RETURN(std::uint64_t deleted, store.delete_messages(device, seqs));
  metrics.increment("parley_messages_acked_total", "", deleted);
  ctx.response->mutable_ack_messages()->set_deleted(deleted);
  bool resume = false;
  {
    std::lock_guard lock(ctx.connection->delivery_mutex());
    DeliveryState& d = ctx.connection->delivery();
    for (std::uint64_t seq : seqs) {
      if (auto it = d.unacked.find(seq); it != d.unacked.end()) {
        d.unacked_bytes -= it->second;
        d.unacked.erase(it);
      }
    }
    if (d.online && d.paused && d.unacked.size() <= config.delivery_window / 2 &&
        d.unacked_bytes <= window_bytes(d) / 2) {
      d.paused = false;
      d.draining = true;
      resume = true;
    }
  }
  if (resume) ctx.after_response.push_back([this, c = ctx.connection] { schedule_drain(c); });
  return Status();
}

void ServerCore::Impl::start_delivery(const std::shared_ptr<Connection>& connection) {
  const store::DeviceAddress address = *connection->device;
  {
    std::lock_guard lock(connection->delivery_mutex());
    connection->delivery().address = address;  // before registering: see on_close
  }
  bool registered = false;
  std::shared_ptr<Connection> replaced = presence.add(address, connection, registered);
  if (replaced) close_replaced(replaced);
  if (!registered) return;
  {
    std::lock_guard lock(connection->delivery_mutex());
    DeliveryState& d = connection->delivery();
    d.online = true;
    d.draining = true;  // live pushes wait until the first drain has run
  }
  metrics.add_gauge("parley_authenticated_connections", "", 1);
  // Subscribed before the first drain below, so a message committed on another node is either
  // read by that drain or wakes this connection afterwards.
  if (config.cluster_bus) attach_to_bus(connection, address);
  // Queued behind the authenticate response, so the device hears "ok" before its messages.
  connection->enqueue([this, connection] { drain(connection); }, /*internal=*/true);
}

void ServerCore::Impl::close_replaced(const std::shared_ptr<Connection>& connection) {
  {
    std::lock_guard lock(connection->delivery_mutex());
    if (connection->delivery().online)
      metrics.add_gauge("parley_authenticated_connections", "", -1);
    connection->delivery().online = false;
  }
  connection->close(ErrorCode::kConnectionClosed);  // a newer connection of the same device
}

void ServerCore::Impl::attach_to_bus(const std::shared_ptr<Connection>& connection,
                                     const store::DeviceAddress& address) {
  const std::uint64_t token = next_bus_token.fetch_add(1);
  {
    std::lock_guard lock(connection->delivery_mutex());
    connection->delivery().bus_token = token;  // before attaching: on_close may run meanwhile
  }
  // Weak: the bus may hold the callbacks until detach, which the connection's close calls. The
  // core itself outlives every attachment (each open connection's handler keeps it alive).
  std::weak_ptr<Connection> weak = connection;
  ClusterBus::Callbacks callbacks;
  callbacks.on_wake = [this, weak] {
    if (auto c = weak.lock()) wake_connection(c);
  };
  callbacks.on_replaced = [this, weak] {
    if (auto c = weak.lock()) close_replaced(c);
  };
  callbacks.on_notice = [this, weak](const DeviceNotice& notice) {
    if (auto c = weak.lock()) on_bus_notice(c, notice);
  };
  // An error leaves the attachment pending in the bus, which wakes us once it is subscribed; the
  // drain queued next reads whatever is stored meanwhile, so the device is served either way.
  (void)config.cluster_bus->attach(address, token, std::move(callbacks));
  // If the connection closed while we attached, on_close may have detached before we attached.
  if (connection->closed()) config.cluster_bus->detach(address, token);
}

void ServerCore::Impl::detach_from_bus(Connection& connection) {
  std::optional<store::DeviceAddress> address;
  std::uint64_t token = 0;
  {
    std::lock_guard lock(connection.delivery_mutex());
    address = connection.delivery().address;
    token = connection.delivery().bus_token;
  }
  if (config.cluster_bus && address && token != 0) config.cluster_bus->detach(*address, token);
}

void ServerCore::Impl::wake_connection(const std::shared_ptr<Connection>& connection) {
  {
    std::lock_guard lock(connection->delivery_mutex());
    DeliveryState& d = connection->delivery();
    if (!d.online || d.broken || d.paused) return;  // acks or a reconnect drain later
    if (d.draining) {
      d.wake = true;  // the running drain reads once more before it stops
      return;
    }
    d.draining = true;
  }
  schedule_drain(connection);
}

void ServerCore::Impl::schedule_drain(const std::shared_ptr<Connection>& connection) {
  connection->enqueue([this, connection] { drain(connection); }, /*internal=*/true);
}

bool ServerCore::Impl::push_envelope_locked(Connection& connection,
                                            const store::StoredEnvelope& envelope) {
  wire::Push push;
  auto* message = push.mutable_message();
  message->set_seq(envelope.seq);
  if (envelope.sender) {
    message->set_sender_account_id(to_field(envelope.sender->account_id));
    message->set_sender_device_id(envelope.sender->device_id);
  }
  message->set_timestamp_ms(envelope.timestamp_ms);
  message->set_ciphertext(to_field(envelope.payload));
  DeliveryState& d = connection.delivery();
  if (!connection.send(proto::encode_shared(proto::push_frame(std::move(push))))) {
    d.broken = true;  // closed or its write queue overflowed: the gateway drops it
    return false;
  }
  d.last_pushed = envelope.seq;
  d.unacked.emplace(envelope.seq, envelope.payload.size());
  d.unacked_bytes += envelope.payload.size();
  metrics.increment("parley_messages_delivered_total");
  return true;
}

void ServerCore::Impl::notify_message(const std::shared_ptr<Connection>& connection,
                                      const store::StoredEnvelope& envelope) {
  {
    std::lock_guard lock(connection->delivery_mutex());
    DeliveryState& d = connection->delivery();
    if (!d.online || d.broken || d.paused) return;  // a later drain reads it from the store
    if (d.draining) {
      d.wake = true;  // the running drain reads once more before it stops
      return;
    }
    if (envelope.seq <= d.last_pushed) return;  // already pushed by a drain
    if (envelope.seq == d.last_pushed + 1 && !window_full(d)) {
      push_envelope_locked(*connection, envelope);
      return;
    }
    // A gap (an earlier message is not here yet, or the cursor is behind) or a full window.
    d.draining = true;
  }
  schedule_drain(connection);
}

void ServerCore::Impl::drain(const std::shared_ptr<Connection>& connection) {
  for (;;) {
    std::uint64_t after = 0;
    std::uint32_t room = 0;
    store::DeviceAddress address;
    {
      std::lock_guard lock(connection->delivery_mutex());
      DeliveryState& d = connection->delivery();
      if (!d.online || d.broken || !d.address) {
        d.draining = false;
        return;
      }
      address = *d.address;
      after = d.last_pushed;
      room = window_full(d) ? 0
                            : std::min<std::uint32_t>(
                                  kDrainBatch, config.delivery_window -
                                                   static_cast<std::uint32_t>(d.unacked.size()));
      if (room == 0) {
        d.draining = false;
        d.paused = true;  // acks resume delivery
        return;
      }
      d.wake = false;
    }
    auto batch = store.read_messages(address, after, room);  // disk: outside every lock
    std::lock_guard lock(connection->delivery_mutex());
    DeliveryState& d = connection->delivery();
    if (!batch.ok() || !d.online) {
      // A failed read leaves the messages stored; the next notification or reconnect retries.
      d.draining = false;
      return;
    }
    for (const auto& envelope : *batch) {
      if (envelope.seq <= d.last_pushed) continue;
      if (window_full(d)) {  // the byte window filled before the count did
        d.draining = false;
        d.paused = true;
        return;
      }
      if (!push_envelope_locked(*connection, envelope)) {
        d.draining = false;
        return;
      }
    }
    if (batch->size() == room || d.wake) continue;  // there may be more
    d.draining = false;
    if (!d.queue_empty_sent) {
      d.queue_empty_sent = true;
      wire::Push push;
      push.mutable_queue_empty();
      connection->send(proto::encode_shared(proto::push_frame(std::move(push))));
    }
    return;
  }
}

}  // namespace parley::server
