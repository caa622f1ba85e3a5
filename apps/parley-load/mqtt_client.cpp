// SPDX-License-Identifier: AGPL-3.0-or-later
//
// One MQTT connection of the MQTT driver (see mqtt_client.h): its connect/CONNACK/SUBSCRIBE,
// PUBLISH/PUBACK and ping state machine over an Asio socket, and what it counts. The scenarios
// that drive these connections are in mqtt_driver.cpp.

#include "mqtt_client.h"
//
#include <algorithm>
#include <boost/asio.hpp>
#include <chrono>
#include <limits>
#include <string>
#include <string_view>

#include "drivers.h"

namespace parley::load::mqtt_client {
namespace {

using Clock = std::chrono::steady_clock;

// PUBLISHes awaiting PUBACK per sender, flat out (`window`, at most this) or paced (a paced send
// finding this many unanswered is skipped and counted): the Parley driver's cap (parleyd answers
// at most 64 requests in flight per connection), the same here so every target is offered the
// same load.
constexpr std::size_t kMaxSendsInFlight = 48;
constexpr std::uint16_t kSubscribePacketId = 1;

Clock::time_point to_time_point(std::uint64_t ns) {
  return Clock::time_point(std::chrono::nanoseconds(ns));
}

}  // namespace

void Client::start_setup(bool resume) {
  resume_ = resume;
  purged_ = false;
  closing_ = false;
  setup_reported_ = false;
  ready_ = false;
  connect(/*clean_session=*/false);
}

void Client::setup_deadline() {
  if (!setup_reported_) fail("not ready before the connect timeout");
}

void Client::start_sending(std::uint64_t stop_at_ns, std::uint64_t limit) {
  if (!ready_ || spec_.publish_topic.empty()) return;
  sending_ = true;
  stop_at_ns_ = stop_at_ns;
  limit_ = limit;
  if (spec_.pacing.flat_out()) {
    const std::size_t window = std::clamp<std::size_t>(shared_.config.window, 1, kMaxSendsInFlight);
    for (std::size_t i = 0; i < window && send_one(); ++i) {
    }
  } else {
    next_send_ns_ = steady_now_ns() + static_cast<std::uint64_t>(spec_.pacing.first_offset.count());
    arm_send_timer();
  }
}

void Client::close() {
  sending_ = false;
  closing_ = true;
  ping_timer_.cancel();
  send_timer_.cancel();
  if (!socket_.is_open()) return;
  if (!connected_) {
    close_socket();
    return;
  }
  out_ += mq::encode_disconnect();
  flush();
}

void Client::connect(bool clean_session) {
  reset_socket();
  if (closing_) return;
  clean_session_ = clean_session;
  state_ = State::kConnecting;
  error_code ec;
  const auto& server = shared_.server;
  socket_.open(server.protocol(), ec);
  if (!ec && !shared_.sources.empty()) {
    socket_.bind(tcp::endpoint(shared_.sources[spec_.source % shared_.sources.size()], 0), ec);
  }
  if (ec) {
    fail("socket/bind: " + ec.message());
    return;
  }
  socket_.async_connect(server, [self = shared_from_this(), gen = generation_](error_code e) {
    self->on_connected(gen, e);
  });
}

void Client::on_connected(std::uint64_t gen, error_code ec) {
  if (gen != generation_ || closing_) return;
  if (ec) {
    fail("connect: " + ec.message());
    return;
  }
  connected_ = true;
  shared_.open.fetch_add(1, std::memory_order_relaxed);
  socket_.set_option(tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);
  mq::Connect connect;
  connect.client_id = spec_.client_id;
  connect.clean_session = clean_session_;
  const auto keepalive = std::chrono::duration_cast<std::chrono::seconds>(
      shared_.config.keepalive + std::chrono::milliseconds(999));
  connect.keepalive_seconds = static_cast<std::uint16_t>(
      std::clamp<std::int64_t>(keepalive.count(), 1, std::numeric_limits<std::uint16_t>::max()));
  if (!shared_.config.password.empty()) {
    connect.username = spec_.client_id;
    connect.password = shared_.config.password;
  }
  auto bytes = mq::encode_connect(connect);
  if (!bytes.ok()) {
    fail("encoding CONNECT: " + bytes.status().message());
    return;
  }
  out_ += *bytes;
  state_ = State::kAwaitConnack;
  flush();
  wait_readable();
}

void Client::on_connack(const mq::Packet& packet) {
  auto connack = mq::decode_connack(packet);
  if (!connack.ok()) {
    fail(connack.status().message());
    return;
  }
  if (connack->return_code != mq::kConnackAccepted) {
    fail("CONNACK refused with return code " + std::to_string(connack->return_code));
    return;
  }
  if (clean_session_) {
    // The clean connection that dropped a stale session: leave, and come back persistent once
    // the broker has closed this one (a CONNECT with the same client id while it is still open
    // races with its DISCONNECT, and mosquitto may close the new connection).
    out_ += mq::encode_disconnect();
    reconnect_on_close_ = true;
    flush();
    return;
  }
  if (resume_) {
    if (!connack->session_present) {
      fail("the broker did not keep the session");
      return;
    }
    become_ready();
    return;
  }
  if (connack->session_present && !purged_) {
    // An earlier run's session (perhaps with queued messages): drop it first.
    purged_ = true;
    state_ = State::kIdle;  // ignore whatever that session still delivers
    connect(/*clean_session=*/true);
    return;
  }
  if (spec_.subscribe_topic.empty()) {
    become_ready();
    return;
  }
  auto subscribe = mq::encode_subscribe({kSubscribePacketId, {{spec_.subscribe_topic, 1}}});
  if (!subscribe.ok()) {
    fail("encoding SUBSCRIBE: " + subscribe.status().message());
    return;
  }
  out_ += *subscribe;
  state_ = State::kAwaitSuback;
  flush();
}

void Client::on_suback(const mq::Packet& packet) {
  auto suback = mq::decode_suback(packet);
  if (!suback.ok()) {
    fail(suback.status().message());
    return;
  }
  if (suback->packet_id != kSubscribePacketId || suback->return_codes.size() != 1 ||
      suback->return_codes[0] == mq::kSubackFailure) {
    fail("SUBSCRIBE refused");
    return;
  }
  if (suback->return_codes[0] != 1) {
    fail("SUBSCRIBE granted QoS " + std::to_string(suback->return_codes[0]) + ", not 1");
    return;
  }
  become_ready();
}

void Client::become_ready() {
  state_ = State::kReady;
  ready_ = true;
  arm_ping_timer();
  if (!setup_reported_) {
    setup_reported_ = true;
    shared_.ready.fetch_add(1, std::memory_order_relaxed);
  }
}

bool Client::send_one() {
  if (!sending_ || state_ != State::kReady) return false;
  const std::uint64_t now = steady_now_ns();
  if (now >= stop_at_ns_ || (limit_ != 0 && next_number_ > limit_)) {
    sending_ = false;
    return false;
  }
  if (in_flight_.size() >= kMaxSendsInFlight) {  // only when paced: flat out stays below
    ++loop_.sends_skipped;
    return false;
  }
  do {
    next_packet_id_ = static_cast<std::uint16_t>(next_packet_id_ + 1);
  } while (next_packet_id_ == 0 || in_flight_.contains(next_packet_id_));
  const std::string payload = make_payload(shared_.config.message_bytes, now, next_number_);
  auto status = mq::append_publish(out_, spec_.publish_topic, payload, 1, false, next_packet_id_);
  if (!status.ok()) {
    fail("encoding PUBLISH: " + status.message());
    return false;
  }
  ++next_number_;
  in_flight_.emplace(next_packet_id_, now);
  shared_.published.fetch_add(1, std::memory_order_relaxed);
  flush();
  return true;
}

void Client::arm_send_timer() {
  send_timer_.expires_at(to_time_point(next_send_ns_));
  send_timer_.async_wait([self = shared_from_this(), gen = generation_](error_code ec) {
    if (ec || gen != self->generation_ || !self->sending_) return;
    self->on_send_timer();
  });
}

void Client::on_send_timer() {
  const auto interval = static_cast<std::uint64_t>(spec_.pacing.interval.count());
  const std::uint64_t now = steady_now_ns();
  // Late (a busy loop): catch up on the schedule, so the offered rate stays what was asked.
  for (int burst = 0; next_send_ns_ <= now && burst < 1000 && sending_; ++burst) {
    send_one();
    next_send_ns_ += interval;
  }
  if (sending_) arm_send_timer();
}

void Client::on_puback(const mq::Packet& packet) {
  auto id = mq::decode_puback(packet);
  if (!id.ok()) {
    fail(id.status().message());
    return;
  }
  auto it = in_flight_.find(*id);
  if (it == in_flight_.end()) {
    fail("PUBACK for a packet id not in flight");
    return;
  }
  if (loop_.window.contains(it->second)) ++loop_.tally.sent_in_window;
  in_flight_.erase(it);
  shared_.acked.fetch_add(1, std::memory_order_relaxed);
  if (limit_ != 0 && next_number_ > limit_ && in_flight_.empty() && !fill_reported_) {
    fill_reported_ = true;
    shared_.fills_done.fetch_add(1, std::memory_order_relaxed);
  }
  if (spec_.pacing.flat_out()) send_one();
}

void Client::on_publish(const mq::Packet& packet) {
  auto publish = mq::decode_publish(packet);
  if (!publish.ok()) {
    fail(publish.status().message());
    return;
  }
  if (publish->qos == 1) {
    mq::append_puback(out_, publish->packet_id);
    flush();
  }
  if (state_ != State::kReady) return;  // a stale session's leftovers, being dropped
  auto stamp = read_payload(publish->payload);
  if (!stamp.ok()) {
    ++loop_.tally.errors;
    shared_.note_error("a received payload has no stamp");
    return;
  }
  const std::uint64_t now = steady_now_ns();
  if (tracker_.on_receive(stamp->send_time_ns, stamp->number, now, loop_.window, loop_.tally)) {
    shared_.received.fetch_add(1, std::memory_order_relaxed);
    loop_.last_receive_ns = std::max(loop_.last_receive_ns, now);
  }
}

void Client::handle(const mq::Packet& packet) {
  switch (packet.type()) {
    case mq::PacketType::kConnack:
      if (state_ != State::kAwaitConnack) return fail("unexpected CONNACK");
      return on_connack(packet);
    case mq::PacketType::kSuback:
      if (state_ != State::kAwaitSuback) return fail("unexpected SUBACK");
      return on_suback(packet);
    case mq::PacketType::kPublish:
      if (state_ == State::kAwaitConnack) return fail("PUBLISH before CONNACK");
      return on_publish(packet);
    case mq::PacketType::kPuback:
      return on_puback(packet);
    case mq::PacketType::kPingresp:
      if (auto status = mq::decode_empty(packet, mq::PacketType::kPingresp); !status.ok()) {
        return fail(status.message());
      }
      shared_.pings_answered.fetch_add(1, std::memory_order_relaxed);
      return;
    default:
      return fail("unexpected MQTT packet type " + std::to_string(static_cast<int>(packet.type())));
  }
}

void Client::wait_readable() {
  socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this(), gen = generation_](
                                                 error_code ec) { self->on_readable(gen, ec); });
}

void Client::on_readable(std::uint64_t gen, error_code ec) {
  if (gen != generation_) return;
  if (ec) {
    if (!closing_) fail("read: " + ec.message());
    return;
  }
  for (;;) {
    const std::size_t n = socket_.read_some(asio::buffer(loop_.read_buffer), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) {
      if (closing_) {
        close_socket();
      } else if (reconnect_on_close_) {
        reconnect_on_close_ = false;
        connect(/*clean_session=*/false);
      } else {
        fail(ec == asio::error::eof ? "the broker closed the connection" : "read: " + ec.message());
      }
      return;
    }
    reader_.feed(std::string_view(loop_.read_buffer.data(), n));
    for (;;) {
      auto next = reader_.next();
      if (!next.ok()) return fail(next.status().message());
      if (!next->has_value()) break;
      handle(**next);
      if (gen != generation_) return;  // the packet closed or replaced this connection
    }
  }
  wait_readable();
}

void Client::flush() {
  if (writing_ || out_.empty() || !connected_) return;
  writing_ = true;
  std::swap(out_, pending_write_);
  out_.clear();
  asio::async_write(socket_, asio::buffer(pending_write_),
                    [self = shared_from_this(), gen = generation_](error_code ec, std::size_t) {
                      self->on_written(gen, ec);
                    });
}

void Client::on_written(std::uint64_t gen, error_code ec) {
  if (gen != generation_) return;
  writing_ = false;
  pending_write_.clear();
  if (ec) {
    if (closing_) {
      close_socket();
    } else if (!reconnect_on_close_) {  // else: the read side sees the close and reconnects
      fail("write: " + ec.message());
    }
    return;
  }
  if (!out_.empty()) {
    flush();
  } else if (closing_) {
    close_socket();
  }
}

void Client::arm_ping_timer() {
  ping_timer_.expires_after(shared_.config.keepalive);
  ping_timer_.async_wait([self = shared_from_this(), gen = generation_](error_code ec) {
    if (ec || gen != self->generation_ || self->closing_) return;
    self->out_ += mq::encode_pingreq();
    self->flush();
    self->arm_ping_timer();
  });
}

void Client::fail(const std::string& what) {
  ++loop_.tally.errors;
  shared_.note_error(what);
  sending_ = false;
  close_socket();
  if (!setup_reported_) {
    setup_reported_ = true;
    shared_.failed.fetch_add(1, std::memory_order_relaxed);
  }
}

void Client::close_socket() {
  ++generation_;  // every handler of this connection is now stale
  if (connected_) shared_.open.fetch_sub(1, std::memory_order_relaxed);
  connected_ = false;
  ready_ = false;
  state_ = State::kIdle;
  ping_timer_.cancel();
  send_timer_.cancel();
  error_code ignored;
  if (socket_.is_open()) {
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }
}

void Client::reset_socket() {
  close_socket();
  socket_ = tcp::socket(loop_.io);
  reader_ = mq::PacketReader();
  out_.clear();
  writing_ = false;
  reconnect_on_close_ = false;
}

}  // namespace parley::load::mqtt_client
