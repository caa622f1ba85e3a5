// SPDX-License-Identifier: AGPL-3.0-or-later
//
// The MQTT 3.1.1 driver: parley-load's scenarios against a broker (mosquitto in bench/run.sh),
// over plain TCP, QoS 1 both ways, persistent sessions (clean session = false) so that a message
// is held for a device that is away, the way Parley's mailboxes hold it.
//
// One io_context per thread, connections spread over them round robin. Each connection is a
// callback-driven state machine owned by shared_ptr (handlers hold it); it reads by waiting for
// readability and then reading into its loop's one buffer, so 10,000 idle connections cost no
// 64 KiB buffer each. The main thread runs the phases: it posts commands to the clients' loops,
// watches shared atomic counters, samples /proc at the measured window's edges, and gives every
// phase a deadline.
//
//   relay:   2 × pairs clients; client i subscribes to parley-load/<prefix><i> and publishes to
//            its partner's topic (pairs (2k, 2k+1)); flat out (`window` PUBLISHes awaiting PUBACK)
//            or paced; warm-up, measured window, drain, disconnect.
//   idle:    `connections` clients connected and subscribed, PINGREQ every keepalive.
//   offline: receivers subscribe and leave; senders fill their sessions; the receivers come back
//            and drain (drain_messages_per_second).
//   group:   one sender, `group_size` subscribers of one topic.
//
// A client whose session already existed (an earlier run's, with queued messages) connects once
// with clean session = true to drop it, then again with clean session = false: every run starts
// from empty sessions.

#include <utility>  // before Asio: Boost 1.74 + GCC 12 need std::exchange declared
//
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "drivers.h"
#include "event_loops.h"
#include "measure.h"
#include "mqtt_codec.h"

namespace parley::load {
namespace {

namespace asio = boost::asio;
namespace mq = mqtt;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kReadChunk = 64UL * 1024;
// PUBLISHes awaiting PUBACK per sender, flat out (`window`, at most this) or paced (a paced send
// finding this many unanswered is skipped and counted): the Parley driver's cap (parleyd answers
// at most 64 requests in flight per connection), the same here so every target is offered the
// same load.
constexpr std::size_t kMaxSendsInFlight = 48;
constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
constexpr auto kDrainLimit = std::chrono::seconds(5);  // relay/group: after sending stops
constexpr auto kCloseLimit = std::chrono::seconds(3);
constexpr auto kPoll = std::chrono::milliseconds(1);
constexpr std::uint16_t kSubscribePacketId = 1;
constexpr std::size_t kSetupsInFlight = 100;

Clock::time_point to_time_point(std::uint64_t ns) {
  return Clock::time_point(std::chrono::nanoseconds(ns));
}

// What every thread may read (set before the loops start) or count (atomics).
struct Shared {
  explicit Shared(const LoadConfig& c) : config(c) {}

  const LoadConfig& config;
  tcp::endpoint server;
  std::vector<asio::ip::address> sources;

  std::atomic<std::uint64_t> ready{0};   // setup phases: clients ready
  std::atomic<std::uint64_t> failed{0};  // setup phases: clients that gave up
  std::atomic<std::uint64_t> open{0};    // TCP connections open now
  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> acked{0};
  std::atomic<std::uint64_t> received{0};  // first receipts (duplicates not counted)
  std::atomic<std::uint64_t> pings_answered{0};
  std::atomic<std::uint64_t> fills_done{0};  // offline: senders whose every PUBLISH is acked

  std::mutex mutex;
  std::string first_error;  // guarded by mutex

  void note_error(const std::string& text) {
    std::lock_guard lock(mutex);
    if (first_error.empty()) first_error = text;
  }
};

// One event-loop thread and what it counts (EventLoop; no locks: only its own handlers touch
// these). Errors go to Shared's one first error, not the loop's.
struct Loop : EventLoop {
  MeasuredWindow window{0, kNever};  // set by a post before any measured traffic
  std::uint64_t last_receive_ns = 0;
  std::vector<char> read_buffer = std::vector<char>(kReadChunk);
};

struct ClientSpec {
  std::string client_id;
  std::string subscribe_topic;  // empty: subscribes to nothing
  std::string publish_topic;    // empty: never sends
  Pacing pacing;
  std::size_t source = 0;  // index into Shared::sources
};

class Client : public std::enable_shared_from_this<Client> {
 public:
  Client(Shared& shared, Loop& loop, ClientSpec spec)
      : shared_(shared),
        loop_(loop),
        spec_(std::move(spec)),
        socket_(loop.io),
        ping_timer_(loop.io),
        send_timer_(loop.io) {}

  // Connects with clean session = false and subscribes (QoS 1). `resume`: reconnects to the
  // session made earlier (no SUBSCRIBE; it must still be there) and takes what it queued.
  // Counts the client into Shared::ready or Shared::failed exactly once.
  void start_setup(bool resume) {
    resume_ = resume;
    purged_ = false;
    closing_ = false;
    setup_reported_ = false;
    ready_ = false;
    connect(/*clean_session=*/false);
  }

  // The connect timeout passed: a client not ready by now fails.
  void setup_deadline() {
    if (!setup_reported_) fail("not ready before the connect timeout");
  }

  // Sends until `stop_at_ns` or `limit` messages (0: no limit), paced or with `window` in flight.
  void start_sending(std::uint64_t stop_at_ns, std::uint64_t limit) {
    if (!ready_ || spec_.publish_topic.empty()) return;
    sending_ = true;
    stop_at_ns_ = stop_at_ns;
    limit_ = limit;
    if (spec_.pacing.flat_out()) {
      const std::size_t window =
          std::clamp<std::size_t>(shared_.config.window, 1, kMaxSendsInFlight);
      for (std::size_t i = 0; i < window && send_one(); ++i) {
      }
    } else {
      next_send_ns_ =
          steady_now_ns() + static_cast<std::uint64_t>(spec_.pacing.first_offset.count());
      arm_send_timer();
    }
  }

  // DISCONNECT, then close once it is written.
  void close() {
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

 private:
  enum class State { kIdle, kConnecting, kAwaitConnack, kAwaitSuback, kReady };

  // ---- connecting ----------------------------------------------------------------------------

  void connect(bool clean_session) {
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

  void on_connected(std::uint64_t gen, error_code ec) {
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

  void on_connack(const mq::Packet& packet) {
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

  void on_suback(const mq::Packet& packet) {
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

  void become_ready() {
    state_ = State::kReady;
    ready_ = true;
    arm_ping_timer();
    if (!setup_reported_) {
      setup_reported_ = true;
      shared_.ready.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // ---- sending -------------------------------------------------------------------------------

  bool send_one() {
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

  void arm_send_timer() {
    send_timer_.expires_at(to_time_point(next_send_ns_));
    send_timer_.async_wait([self = shared_from_this(), gen = generation_](error_code ec) {
      if (ec || gen != self->generation_ || !self->sending_) return;
      self->on_send_timer();
    });
  }

  void on_send_timer() {
    const auto interval = static_cast<std::uint64_t>(spec_.pacing.interval.count());
    const std::uint64_t now = steady_now_ns();
    // Late (a busy loop): catch up on the schedule, so the offered rate stays what was asked.
    for (int burst = 0; next_send_ns_ <= now && burst < 1000 && sending_; ++burst) {
      send_one();
      next_send_ns_ += interval;
    }
    if (sending_) arm_send_timer();
  }

  void on_puback(const mq::Packet& packet) {
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

  // ---- receiving -----------------------------------------------------------------------------

  void on_publish(const mq::Packet& packet) {
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

  void handle(const mq::Packet& packet) {
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
        return fail("unexpected MQTT packet type " +
                    std::to_string(static_cast<int>(packet.type())));
    }
  }

  void wait_readable() {
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this(), gen = generation_](
                                                   error_code ec) { self->on_readable(gen, ec); });
  }

  void on_readable(std::uint64_t gen, error_code ec) {
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
          fail(ec == asio::error::eof ? "the broker closed the connection"
                                      : "read: " + ec.message());
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

  // ---- writing -------------------------------------------------------------------------------

  void flush() {
    if (writing_ || out_.empty() || !connected_) return;
    writing_ = true;
    std::swap(out_, pending_write_);
    out_.clear();
    asio::async_write(socket_, asio::buffer(pending_write_),
                      [self = shared_from_this(), gen = generation_](error_code ec, std::size_t) {
                        self->on_written(gen, ec);
                      });
  }

  void on_written(std::uint64_t gen, error_code ec) {
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

  void arm_ping_timer() {
    ping_timer_.expires_after(shared_.config.keepalive);
    ping_timer_.async_wait([self = shared_from_this(), gen = generation_](error_code ec) {
      if (ec || gen != self->generation_ || self->closing_) return;
      self->out_ += mq::encode_pingreq();
      self->flush();
      self->arm_ping_timer();
    });
  }

  // ---- ending --------------------------------------------------------------------------------

  void fail(const std::string& what) {
    ++loop_.tally.errors;
    shared_.note_error(what);
    sending_ = false;
    close_socket();
    if (!setup_reported_) {
      setup_reported_ = true;
      shared_.failed.fetch_add(1, std::memory_order_relaxed);
    }
  }

  void close_socket() {
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

  void reset_socket() {
    close_socket();
    socket_ = tcp::socket(loop_.io);
    reader_ = mq::PacketReader();
    out_.clear();
    writing_ = false;
    reconnect_on_close_ = false;
  }

  Shared& shared_;
  Loop& loop_;
  const ClientSpec spec_;
  tcp::socket socket_;
  asio::steady_timer ping_timer_;
  asio::steady_timer send_timer_;

  std::uint64_t generation_ = 0;
  State state_ = State::kIdle;
  bool connected_ = false;
  bool clean_session_ = false;
  bool resume_ = false;
  bool purged_ = false;
  bool closing_ = false;
  bool ready_ = false;
  bool reconnect_on_close_ = false;
  bool setup_reported_ = true;  // nothing to report before the first start_setup

  mq::PacketReader reader_;
  std::string out_;            // queued while a write is in flight
  std::string pending_write_;  // the bytes of the write in flight
  bool writing_ = false;

  // Sender.
  bool sending_ = false;
  bool fill_reported_ = false;
  std::uint64_t stop_at_ns_ = 0;
  std::uint64_t limit_ = 0;
  std::uint64_t next_number_ = 1;
  std::uint16_t next_packet_id_ = 0;
  std::uint64_t next_send_ns_ = 0;
  std::unordered_map<std::uint16_t, std::uint64_t> in_flight_;  // packet id → send time

  // Receiver: one sender per receiving client in every scenario.
  StreamTracker tracker_;
};

using ClientPtr = std::shared_ptr<Client>;

using Loops = EventLoops<Loop>;

// A handler threw (a bug, or an allocation failure): count it, keep the loop alive.
EventLoopSet::ExceptionHandler count_exceptions(Shared& shared) {
  return [&shared](EventLoop& loop, const std::exception& e) {
    ++loop.tally.errors;
    shared.note_error(std::string("event loop: ") + e.what());
  };
}

// The latest receive on any loop (read after the loops stopped).
std::uint64_t last_receive_ns(const Loops& loops) {
  std::uint64_t last = 0;
  for (std::size_t i = 0; i < loops.size(); ++i) last = std::max(last, loops[i].last_receive_ns);
  return last;
}

void set_window(Loops& loops, const MeasuredWindow& window) {
  for (std::size_t i = 0; i < loops.size(); ++i) {
    asio::post(loops[i].io, [&l = loops[i], window] { l.window = window; });
  }
}

std::string topic_of(const LoadConfig& config, unsigned index) {
  return "parley-load/" + config.user_prefix + std::to_string(index);
}

// The run: the loops, the clients (destroyed before the loops), and the report being filled.
class Run {
 public:
  explicit Run(const LoadConfig& config)
      : config_(config), shared_(config), loops_(config.threads) {
    report_.target = Target::kMqtt;
    report_.scenario = config.scenario;
  }
  ~Run() {
    loops_.stop();
    clients_.clear();
  }
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  Status resolve() {
    error_code ec;
    auto address = asio::ip::make_address(config_.host, ec);
    if (ec) {
      asio::io_context io;
      tcp::resolver resolver(io);
      auto results = resolver.resolve(config_.host, std::to_string(config_.port), ec);
      if (ec || results.empty()) {
        return Status::error(ErrorCode::kUnavailable, "cannot resolve the broker's host name");
      }
      shared_.server = *results.begin();
    } else {
      shared_.server = tcp::endpoint(address, config_.port);
    }
    PARLEY_ASSIGN_OR_RETURN(shared_.sources, parse_sources(config_));
    return {};
  }

  unsigned add_client(ClientSpec spec) {
    const auto index = static_cast<unsigned>(clients_.size());
    spec.source = index;
    clients_.push_back(std::make_shared<Client>(shared_, loops_.for_index(index), spec));
    return index;
  }
  ClientSpec spec_for(unsigned index) const {
    ClientSpec spec;
    spec.client_id = config_.user_prefix + std::to_string(index);
    return spec;
  }

  // Posts `fn(client)` to each listed client's loop.
  template <typename Fn>
  void post_each(const std::vector<unsigned>& indexes, Fn fn) {
    for (unsigned i : indexes) {
      asio::post(loops_.for_index(i).io, [client = clients_[i], fn] { fn(*client); });
    }
  }

  // Sets up the listed clients; returns how many became ready before the connect timeout.
  std::uint64_t setup(const std::vector<unsigned>& indexes, bool resume) {
    shared_.ready = 0;
    shared_.failed = 0;
    const auto deadline = Clock::now() + config_.connect_timeout;
    const auto settled = [&] { return shared_.ready + shared_.failed; };
    // At most kSetupsInFlight at once: a burst of thousands of SYNs overflows the broker's listen
    // backlog (mosquitto's is 100), and a dropped SYN is retried only after 1 s, then 3 s, ...
    std::size_t posted = 0;
    while (posted < indexes.size() && Clock::now() < deadline) {
      const auto allowed = std::min<std::size_t>(indexes.size(), settled() + kSetupsInFlight);
      std::vector<unsigned> batch;
      for (; posted < allowed; ++posted) batch.push_back(indexes[posted]);
      post_each(batch, [resume](Client& c) { c.start_setup(resume); });
      if (posted < indexes.size()) std::this_thread::sleep_for(kPoll);
    }
    const std::vector<unsigned> started(indexes.begin(),
                                        indexes.begin() + static_cast<std::ptrdiff_t>(posted));
    if (!wait_until([&] { return settled() >= posted; }, deadline, kPoll)) {
      post_each(started, [](Client& c) { c.setup_deadline(); });
      wait_until([&] { return settled() >= posted; }, Clock::now() + std::chrono::seconds(1),
                 kPoll);
    }
    if (posted < indexes.size()) {
      unstarted_ += indexes.size() - posted;
      shared_.note_error("not ready before the connect timeout");
    }
    return shared_.ready;
  }

  void close(const std::vector<unsigned>& indexes) {
    post_each(indexes, [](Client& c) { c.close(); });
    wait_until([&] { return shared_.open == 0; }, Clock::now() + kCloseLimit, kPoll);
  }

  // `sampled`: whether the server was (report_.has_server is set from the flag at the end).
  void note_server_sampled(bool sampled) {
    if (config_.server_pid != 0 && !sampled) server_sample_failed_ = true;
  }
  void sample_before() { note_server_sampled(sample_edge(config_, report_, Edge::kBefore)); }
  void sample_after() { note_server_sampled(sample_edge(config_, report_, Edge::kAfter)); }

  Result<ScenarioReport> run() {
    PARLEY_RETURN_IF_ERROR(resolve());
    loops_.start(count_exceptions(shared_));
    Status status;
    switch (config_.scenario) {
      case Scenario::kRelay:
        status = relay();
        break;
      case Scenario::kIdle:
        status = idle();
        break;
      case Scenario::kOffline:
        status = offline();
        break;
      case Scenario::kGroup:
        status = group();
        break;
    }
    loops_.stop();
    if (!status.ok()) return status;
    loops_.fold_into(report_);  // (no loop notes: errors go to Shared)
    report_.errors += unstarted_;
    report_.has_server = config_.server_pid != 0 && !server_sample_failed_;
    if (config_.server_pid != 0 && server_sample_failed_) {
      report_.notes.push_back("the server process could not be sampled");
    }
    std::lock_guard lock(shared_.mutex);
    if (!shared_.first_error.empty())
      report_.notes.push_back("first error: " + shared_.first_error);
    return report_;
  }

 private:
  // Every client ready, or an error that says why none is.
  Status setup_all(const std::vector<unsigned>& indexes, bool resume, std::uint64_t& ready) {
    const std::uint64_t start = steady_now_ns();
    ready = setup(indexes, resume);
    report_.setup_seconds += seconds_between(start, steady_now_ns());
    if (ready == 0 && !indexes.empty()) {
      std::lock_guard lock(shared_.mutex);
      return Status::error(ErrorCode::kUnavailable,
                           "no MQTT connection became ready: " + shared_.first_error);
    }
    return {};
  }

  static std::vector<unsigned> range(unsigned from, unsigned to, unsigned step = 1) {
    std::vector<unsigned> out;
    for (unsigned i = from; i < to; i += step) out.push_back(i);
    return out;
  }

  // Measured traffic from `senders` until the window ends, then a brief drain. `fanout`: how many
  // receipts each PUBLISH should make.
  void measure_traffic(const std::vector<unsigned>& senders, std::uint64_t fanout) {
    const MeasuredWindow window = MeasuredWindow::after_warmup(config_, steady_now_ns());
    set_window(loops_, window);
    post_each(senders, [end = window.end_ns](Client& c) { c.start_sending(end, 0); });
    note_server_sampled(measure_window(config_, window, report_));
    wait_until([&] { return shared_.received >= shared_.published * fanout; },
               Clock::now() + kDrainLimit, kPoll);
  }

  Status relay() {
    const unsigned devices = 2 * config_.pairs;
    for (unsigned i = 0; i < devices; ++i) {
      ClientSpec spec = spec_for(i);
      spec.subscribe_topic = topic_of(config_, i);
      spec.publish_topic = topic_of(config_, i ^ 1u);
      spec.pacing = Pacing::for_sender(config_, devices, i);
      add_client(std::move(spec));
    }
    const auto all = range(0, devices);
    std::uint64_t ready = 0;
    PARLEY_RETURN_IF_ERROR(setup_all(all, false, ready));
    report_.connections = ready;
    measure_traffic(all, 1);
    close(all);
    return {};
  }

  Status group() {
    ClientSpec sender = spec_for(0);
    sender.publish_topic = "parley-load/" + config_.user_prefix + "group";
    sender.pacing = Pacing::for_sender(config_, 1, 0);
    add_client(sender);
    for (unsigned i = 1; i <= config_.group_size; ++i) {
      ClientSpec spec = spec_for(i);
      spec.subscribe_topic = sender.publish_topic;
      add_client(std::move(spec));
    }
    const auto all = range(0, config_.group_size + 1);
    std::uint64_t ready = 0;
    PARLEY_RETURN_IF_ERROR(setup_all(all, false, ready));
    report_.connections = ready;
    const std::uint64_t receivers = ready > 0 ? ready - 1 : 0;
    measure_traffic({0}, receivers);
    close(all);
    report_.extra["group_size"] = config_.group_size;
    return {};
  }

  Status idle() {
    for (unsigned i = 0; i < config_.connections; ++i) {
      ClientSpec spec = spec_for(i);
      spec.subscribe_topic = topic_of(config_, i);
      add_client(std::move(spec));
    }
    const auto all = range(0, config_.connections);
    // The baseline before anything connects (MQTT has no sign-up phase): the RSS change is then
    // what the connections and their sessions cost, as for the other targets.
    sample_before();
    std::uint64_t ready = 0;
    PARLEY_RETURN_IF_ERROR(setup_all(all, false, ready));
    report_.connections = ready;
    const std::uint64_t start = steady_now_ns();
    set_window(loops_, {start, start + static_cast<std::uint64_t>(
                                           std::chrono::nanoseconds(config_.duration).count())});
    std::this_thread::sleep_for(config_.duration);
    sample_after();
    report_.seconds = seconds_between(start, steady_now_ns());
    add_per_connection_costs(report_, ready);
    report_.extra["connections_open_at_end"] = static_cast<double>(shared_.open.load());
    report_.extra["pings_answered"] = static_cast<double>(shared_.pings_answered.load());
    close(all);
    return {};
  }

  Status offline() {
    // Even indexes send, odd ones receive: sender 2k fills receiver 2k+1's session.
    for (unsigned k = 0; k < config_.pairs; ++k) {
      ClientSpec sender = spec_for(2 * k);
      sender.publish_topic = topic_of(config_, 2 * k + 1);
      sender.pacing = Pacing{};  // the fill runs flat out with `window` in flight
      add_client(std::move(sender));
      ClientSpec receiver = spec_for(2 * k + 1);
      receiver.subscribe_topic = topic_of(config_, 2 * k + 1);
      add_client(std::move(receiver));
    }
    const auto senders = range(0, 2 * config_.pairs, 2);
    const auto receivers = range(1, 2 * config_.pairs, 2);
    const auto phase_limit = std::max<Clock::duration>(config_.connect_timeout, config_.duration);

    // 1. The receivers make their sessions and subscriptions, then go away.
    std::uint64_t receivers_ready = 0;
    PARLEY_RETURN_IF_ERROR(setup_all(receivers, false, receivers_ready));
    close(receivers);

    // 2. The senders fill the sessions.
    std::uint64_t senders_ready = 0;
    PARLEY_RETURN_IF_ERROR(setup_all(senders, false, senders_ready));
    report_.connections = receivers_ready + senders_ready;
    const std::uint64_t fill_start = steady_now_ns();
    set_window(loops_, {fill_start, kNever});
    sample_before();
    post_each(senders,
              [limit = config_.messages_per_device](Client& c) { c.start_sending(kNever, limit); });
    const bool filled = wait_until([&] { return shared_.fills_done >= senders_ready; },
                                   Clock::now() + phase_limit, kPoll);
    const std::uint64_t fill_end = steady_now_ns();
    if (!filled) report_.notes.push_back("the fill did not finish before its deadline");
    close(senders);
    const std::uint64_t stored = shared_.acked;

    // 3. The receivers come back and drain what waited for them.
    shared_.received = 0;
    const std::uint64_t drain_start = steady_now_ns();
    std::uint64_t resumed = 0;
    PARLEY_RETURN_IF_ERROR(setup_all(receivers, true, resumed));
    const bool drained =
        wait_until([&] { return shared_.received >= stored; }, Clock::now() + phase_limit, kPoll);
    const std::uint64_t drain_end = steady_now_ns();
    sample_after();
    close(receivers);
    if (!drained) report_.notes.push_back("the drain did not finish before its deadline");
    loops_.stop();  // the loops' last receive times are now safe to read
    const std::uint64_t last = std::min(std::max(last_receive_ns(loops_), drain_start), drain_end);
    const double drain_seconds = seconds_between(drain_start, drained ? last : drain_end);
    report_.seconds = drain_seconds;
    report_.extra["stored_messages"] = static_cast<double>(stored);
    report_.extra["fill_seconds"] = seconds_between(fill_start, fill_end);
    report_.extra["fill_messages_per_second"] =
        fill_end > fill_start ? stored / seconds_between(fill_start, fill_end) : 0;
    report_.extra["drain_seconds"] = drain_seconds;
    report_.extra["drain_messages_per_second"] =
        drain_seconds > 0 ? static_cast<double>(shared_.received) / drain_seconds : 0;
    return {};
  }

  const LoadConfig& config_;
  Shared shared_;
  ScenarioReport report_;
  bool server_sample_failed_ = false;
  std::uint64_t unstarted_ = 0;  // clients never started before the connect timeout: errors
  Loops loops_;
  std::vector<ClientPtr> clients_;  // declared after loops_: destroyed first
};

}  // namespace

Result<ScenarioReport> run_mqtt(const LoadConfig& config) {
  Run run(config);
  return run.run();
}

}  // namespace parley::load
