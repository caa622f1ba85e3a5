// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/cluster/redis_cluster_bus.h"

#include <charconv>
#include <optional>
#include <random>

#include "parley/redis/keys.h"

namespace parley::cluster {
namespace {

constexpr std::string_view kWakePrefix = "wake:";
constexpr std::string_view kServePrefix = "serve:";
constexpr std::string_view kNotePrefix = "note:";

// The kinds' names on the wire: words, so a message read with redis-cli says what it is.
struct NoticeKindName {
  server::DeviceNotice::Kind kind;
  std::string_view name;
};
constexpr NoticeKindName kNoticeKinds[] = {
    {server::DeviceNotice::Kind::kDeviceListChanged, "devices"},
    {server::DeviceNotice::Kind::kRemoved, "removed"},
    {server::DeviceNotice::Kind::kPrekeysLow, "prekeys"},
};

std::optional<std::string_view> notice_kind_name(server::DeviceNotice::Kind kind) {
  for (const auto& k : kNoticeKinds) {
    if (k.kind == kind) return k.name;
  }
  return std::nullopt;
}

std::optional<server::DeviceNotice::Kind> notice_kind_from(std::string_view name) {
  for (const auto& k : kNoticeKinds) {
    if (k.name == name) return k.kind;
  }
  return std::nullopt;
}

// Decimal digits only (no sign, no space), the whole text, fitting 64 bits.
std::optional<std::uint64_t> parse_decimal(std::string_view digits) {
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  return value;
}

// The next generation of a device's connections, and the node that holds the newest one. The
// counter only grows (HINCRBY), so "larger is newer" needs no clock; the expiry is refreshed on
// every attach so an idle device's key goes away eventually.
const redis::LuaScript& generation_script() {
  static const redis::LuaScript script(
      "local g = redis.call('HINCRBY', KEYS[1], 'gen', 1)\n"
      "redis.call('HSET', KEYS[1], 'node', ARGV[1])\n"
      "redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
      "return g\n");
  return script;
}

std::string random_node_id() {
  std::random_device device;
  std::uint64_t value = (std::uint64_t{device()} << 32) | device();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4) out[static_cast<std::size_t>(i)] = kHex[value & 15];
  return out;
}

std::string channel_of(const store::DeviceAddress& device) {
  return redis::wakeup_channel(device.account_id, device.device_id);
}

}  // namespace

RedisClusterBus::RedisClusterBus(redis::RedisCluster& cluster, RedisClusterBusOptions options)
    : cluster_(cluster),
      options_(std::move(options)),
      node_id_(options_.node_id.empty() ? random_node_id() : options_.node_id),
      wake_message_(std::string(kWakePrefix) + node_id_),
      subscriber_(std::make_unique<redis::ShardedSubscriber>(
          cluster,
          [this](std::string_view channel, std::string_view message) {
            on_message(channel, message);
          },
          [this](std::string_view channel) { on_resubscribed(channel); }, options_.subscriber)) {}

RedisClusterBus::~RedisClusterBus() {
  subscriber_.reset();  // no callback runs past this line
}

Status RedisClusterBus::attach(const store::DeviceAddress& device, std::uint64_t connection_token,
                               Callbacks callbacks) {
  const std::string channel = channel_of(device);
  {
    std::lock_guard lock(mutex_);
    Attachment attachment;
    attachment.token = connection_token;
    attachment.callbacks = std::move(callbacks);
    channels_[channel].push_back(std::move(attachment));
  }
  // Subscribed before the core drains (its caller does that next). Outside our lock: it waits for
  // the master, and the reader thread needs our lock to deliver messages meanwhile.
  Status subscribed = subscriber_->subscribe(channel, options_.subscribe_timeout);

  // Announce after subscribing, so that a newer attachment elsewhere is always heard.
  auto generation =
      cluster_.eval(generation_script(), {redis::presence_key(device.account_id, device.device_id)},
                    {node_id_, std::to_string(options_.presence_ttl.count())});
  if (!generation.ok() || !generation->is_integer() || generation->as_integer() <= 0) {
    ++announce_errors_;
    if (!subscribed.ok()) return subscribed;
    return generation.ok()
               ? Status::error(ErrorCode::kUnavailable, "presence generation script failed")
               : generation.status();
  }
  const auto ours = static_cast<std::uint64_t>(generation->as_integer());
  {
    std::lock_guard lock(mutex_);
    if (Attachment* attachment = find_locked(channel, connection_token)) {
      attachment->generation = ours;
      // A newer attachment announced itself before we learnt our generation.
      if (attachment->newest_seen > ours) replace_locked(*attachment);
    }
  }
  auto published =
      redis::spublish(cluster_, channel, std::string(kServePrefix) + std::to_string(ours));
  if (!published.ok()) {
    // Older connections elsewhere stay open until they close (see the header): not fatal.
    ++announce_errors_;
  }
  return subscribed;
}

void RedisClusterBus::detach(const store::DeviceAddress& device, std::uint64_t connection_token) {
  const std::string channel = channel_of(device);
  std::lock_guard lock(mutex_);
  auto it = channels_.find(channel);
  if (it == channels_.end()) return;
  std::erase_if(it->second, [&](const Attachment& a) { return a.token == connection_token; });
  if (it->second.empty()) {
    channels_.erase(it);
    subscriber_->unsubscribe(channel);  // does not wait for the server
  }
}

void RedisClusterBus::wake(const store::DeviceAddress& device) {
  auto published = redis::spublish(cluster_, channel_of(device), wake_message_);
  if (published.ok()) {
    ++wakes_published_;
  } else {
    ++wake_errors_;  // the device's next drain (reconnect, resubscription) reads the message
  }
}

void RedisClusterBus::wake_many(const std::vector<store::DeviceAddress>& devices) {
  if (devices.empty()) return;
  std::vector<std::string> channels;
  channels.reserve(devices.size());
  for (const store::DeviceAddress& device : devices) channels.push_back(channel_of(device));
  std::uint64_t published = 0;
  std::uint64_t failed = 0;
  for (const Result<std::int64_t>& result :
       redis::spublish_many(cluster_, channels, wake_message_)) {
    ++(result.ok() ? published : failed);  // a failed one waits for the device's next drain
  }
  wakes_published_ += published;
  wake_errors_ += failed;
}

void RedisClusterBus::notify(const store::DeviceAddress& device,
                             const server::DeviceNotice& notice) {
  std::optional<std::string_view> kind = notice_kind_name(notice.kind);
  if (!kind) {
    ++notice_errors_;  // a kind this bus cannot name: nothing to send
    return;
  }
  const std::uint64_t count =
      notice.kind == server::DeviceNotice::Kind::kPrekeysLow ? notice.count : 0;
  std::string message =
      std::string(kNotePrefix) + node_id_ + ":" + std::string(*kind) + ":" + std::to_string(count);
  auto published = redis::spublish(cluster_, channel_of(device), message);
  if (published.ok()) {
    ++notices_published_;
  } else {
    ++notice_errors_;  // the client finds the change in the store on its next request
  }
}

RedisClusterBus::Attachment* RedisClusterBus::find_locked(std::string_view channel,
                                                          std::uint64_t token) {
  auto it = channels_.find(channel);
  if (it == channels_.end()) return nullptr;
  for (Attachment& a : it->second) {
    if (a.token == token) return &a;
  }
  return nullptr;
}

void RedisClusterBus::replace_locked(Attachment& attachment) {
  if (attachment.replaced) return;
  attachment.replaced = true;
  ++replaced_;
  // Copied: the callback may detach, which erases the attachment.
  auto on_replaced = attachment.callbacks.on_replaced;
  if (on_replaced) on_replaced();
}

void RedisClusterBus::on_message(std::string_view channel, std::string_view message) {
  std::lock_guard lock(mutex_);
  auto it = channels_.find(channel);
  if (it == channels_.end()) return;  // detached meanwhile
  // Tokens first: a callback may detach (erase) attachments while we go through them.
  std::vector<std::uint64_t> tokens;
  for (const Attachment& a : it->second) tokens.push_back(a.token);

  if (message.starts_with(kWakePrefix)) {
    if (message.substr(kWakePrefix.size()) == node_id_) return;  // pushed locally already
    for (std::uint64_t token : tokens) {
      Attachment* a = find_locked(channel, token);
      if (!a || a->replaced || !a->callbacks.on_wake) continue;
      ++wakes_received_;
      auto on_wake = a->callbacks.on_wake;
      on_wake();
    }
    return;
  }
  if (message.starts_with(kServePrefix)) {
    std::string_view digits = message.substr(kServePrefix.size());
    std::uint64_t announced = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), announced);
    if (error != std::errc() || end != digits.data() + digits.size() || announced == 0) {
      ++ignored_messages_;
      return;
    }
    for (std::uint64_t token : tokens) {
      Attachment* a = find_locked(channel, token);
      if (!a) continue;
      if (a->generation == 0) {
        a->newest_seen = std::max(a->newest_seen, announced);
      } else if (announced > a->generation) {
        replace_locked(*a);
      }
    }
    return;
  }
  if (message.starts_with(kNotePrefix)) {
    on_notice_locked(channel, message.substr(kNotePrefix.size()), tokens);
    return;
  }
  // Anything else is not ours (garbage, or a newer node's message kind): ignored.
  ++ignored_messages_;
}

void RedisClusterBus::on_notice_locked(std::string_view channel, std::string_view body,
                                       const std::vector<std::uint64_t>& tokens) {
  // "<node id>:<kind>:<count>", split from the right: the node id is whatever precedes.
  const auto count_colon = body.rfind(':');
  const auto kind_colon = count_colon == std::string_view::npos || count_colon == 0
                              ? std::string_view::npos
                              : body.rfind(':', count_colon - 1);
  if (kind_colon == std::string_view::npos || kind_colon == 0) {
    ++ignored_messages_;
    return;
  }
  const std::string_view node = body.substr(0, kind_colon);
  const auto kind = notice_kind_from(body.substr(kind_colon + 1, count_colon - kind_colon - 1));
  const auto count = parse_decimal(body.substr(count_colon + 1));
  if (!kind || !count || (*kind != server::DeviceNotice::Kind::kPrekeysLow && *count != 0)) {
    ++ignored_messages_;
    return;
  }
  if (node == node_id_) return;  // the core told its own connections directly

  server::DeviceNotice notice;
  notice.kind = *kind;
  notice.count = *count;
  for (std::uint64_t token : tokens) {
    Attachment* a = find_locked(channel, token);
    if (!a || a->replaced || !a->callbacks.on_notice) continue;
    ++notices_received_;
    auto on_notice = a->callbacks.on_notice;  // copied: the callback may detach
    on_notice(notice);
  }
}

void RedisClusterBus::on_resubscribed(std::string_view channel) {
  ++resubscriptions_;
  std::lock_guard lock(mutex_);
  auto it = channels_.find(channel);
  if (it == channels_.end()) return;
  std::vector<std::uint64_t> tokens;
  for (const Attachment& a : it->second) tokens.push_back(a.token);
  // Wake-ups may have been lost while the subscription was down: drain every attached device.
  for (std::uint64_t token : tokens) {
    Attachment* a = find_locked(channel, token);
    if (!a || a->replaced || !a->callbacks.on_wake) continue;
    auto on_wake = a->callbacks.on_wake;
    on_wake();
  }
}

RedisClusterBusStats RedisClusterBus::stats() const {
  RedisClusterBusStats s;
  s.wakes_published = wakes_published_.load();
  s.wake_errors = wake_errors_.load();
  s.wakes_received = wakes_received_.load();
  s.replaced = replaced_.load();
  s.resubscriptions = resubscriptions_.load();
  s.announce_errors = announce_errors_.load();
  s.notices_published = notices_published_.load();
  s.notice_errors = notice_errors_.load();
  s.notices_received = notices_received_.load();
  s.ignored_messages = ignored_messages_.load();
  return s;
}

std::size_t RedisClusterBus::attachments() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& [channel, list] : channels_) n += list.size();
  return n;
}

}  // namespace parley::cluster
