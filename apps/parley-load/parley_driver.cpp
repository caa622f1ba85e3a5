// SPDX-License-Identifier: AGPL-3.0-or-later
// The Parley driver: real TLS 1.3 WebSocket connections to parleyd, one Asio event loop per
// thread, each device signing up and in with its own key (parley_wire.h does the protocol). This
// is parley-load's only Beast file (one Beast translation unit costs ~60 s to compile).
//
// Every connection lives on one loop's thread; the main thread only starts phases (by posting to
// the loops) and watches atomic progress counters, so no per-connection state needs a lock.

// clang-format off
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded
// clang-format on

#include <openssl/ssl.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "drivers.h"
#include "measure.h"
#include "parley_wire.h"

namespace parley::load {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Stream = websocket::stream<asio::ssl::stream<tcp::socket>>;

constexpr unsigned kSetupInFlightPerLoop = 48;   // connections being set up at once, per loop
constexpr std::uint64_t kMaxSendsInFlight = 48;  // under the server's 64 requests per connection
constexpr std::size_t kAckBatch = 256;           // proto::Limits::max_acks_per_request
constexpr auto kAckDelay = std::chrono::milliseconds(1);  // acks gathered this long, then sent
constexpr auto kDrainTimeout = std::chrono::seconds(10);

auto with_error(beast::error_code& ec) {
  return asio::redirect_error(asio::use_awaitable, ec);
}

struct Loop;

// One device and its connection.
struct Conn {
  Conn(Loop& loop_in, std::size_t index_in) : loop(&loop_in), index(index_in) {}

  Loop* loop;
  std::size_t index;
  LoadDevice device;
  std::unique_ptr<Stream> ws;
  bool open = false;
  bool ready = false;
  bool writing = false;
  std::deque<Bytes> out;
  std::vector<std::uint64_t> acks;
  std::unique_ptr<asio::steady_timer> ack_timer;
  bool ack_armed = false;
  StreamTracker tracker;

  // Sending: to one partner (relay, offline) or to every receiver (group).
  const Conn* partner = nullptr;
  bool group_sender = false;
  std::uint64_t next_number = 1;
  std::deque<std::uint64_t> send_times;    // of sends not yet answered, in request order
  std::uint64_t send_budget = UINT64_MAX;  // offline: messages still to send
};

// One event loop and everything its thread counts.
struct Loop {
  asio::io_context io{1};
  std::vector<Conn*> conns;
  std::deque<Conn*> to_set_up;
  unsigned setting_up = 0;
  Tally tally;
  std::string first_error;
  std::uint64_t sends_skipped = 0;  // paced sends not made because 48 were already in flight
};

// What the whole run shares. Written by the main thread before it posts a phase to the loops
// (the post orders it before the loops read it); the counters are atomics.
struct Run {
  const LoadConfig& config;
  asio::ssl::context tls{asio::ssl::context::tls_client};
  tcp::endpoint server;
  std::vector<asio::ip::address> sources;
  MeasuredWindow window{0, UINT64_MAX};
  bool sending = false;
  bool flat_out = true;  // false: paced_sender() sends, answers never trigger sends
  bool close_when_ready = false;  // idle's sign-up phase: never hold more than the setup slots
  std::vector<Bytes> group_recipients;
  std::uint64_t fan_out = 1;  // deliveries per accepted send

  std::atomic<std::uint64_t> ready{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> expected{0};  // deliveries owed for accepted sends
  std::atomic<std::uint64_t> delivered{0};

  explicit Run(const LoadConfig& c) : config(c) {}
};

void note_error(Loop& loop, const std::string& text) {
  ++loop.tally.errors;
  if (loop.first_error.empty()) loop.first_error = text;
}

void enqueue(Run& run, Conn& c, Bytes frame);
void setup_more(Run& run, Loop& loop);

asio::awaitable<void> write_loop(Conn& c, Stream* ws) {
  beast::error_code ec;
  while (!c.out.empty() && c.ws.get() == ws && c.open) {
    Bytes frame = std::move(c.out.front());
    c.out.pop_front();
    co_await ws->async_write(asio::buffer(frame.data(), frame.size()), with_error(ec));
    if (ec) break;  // the reader sees the same failure and reports it
  }
  c.writing = false;
}

void enqueue(Run&, Conn& c, Bytes frame) {
  if (!c.open) return;
  c.out.push_back(std::move(frame));
  if (!c.writing) {
    c.writing = true;
    asio::co_spawn(c.loop->io, write_loop(c, c.ws.get()), asio::detached);
  }
}

void flush_acks(Run& run, Conn& c) {
  while (!c.acks.empty()) {
    const std::size_t n = std::min(c.acks.size(), kAckBatch);
    std::vector<std::uint64_t> batch(c.acks.begin(), c.acks.begin() + static_cast<long>(n));
    c.acks.erase(c.acks.begin(), c.acks.begin() + static_cast<long>(n));
    enqueue(run, c, c.device.ack(batch));
  }
}

void send_one(Run& run, Conn& c) {
  const std::uint64_t now = steady_now_ns();
  const std::string payload = make_payload(run.config.message_bytes, now, c.next_number++);
  c.send_times.push_back(now);
  if (c.send_budget != UINT64_MAX) --c.send_budget;
  enqueue(run, c,
          c.group_sender ? c.device.send_group_message(run.group_recipients, payload)
                         : c.device.send_message(c.partner->device.account_id(), payload));
}

// Flat out: keep the window full while the run sends.
void fill_window(Run& run, Conn& c) {
  if (!run.sending || !run.flat_out || !c.open || !c.ready) return;
  const std::uint64_t window = std::min<std::uint64_t>(run.config.window, kMaxSendsInFlight);
  while (c.device.sends_in_flight() < window && c.send_budget > 0 &&
         steady_now_ns() < run.window.end_ns) {
    send_one(run, c);
  }
}

void on_ready(Run& run, Conn& c) {
  c.ready = true;
  Loop& loop = *c.loop;
  if (loop.setting_up > 0) --loop.setting_up;
  run.ready.fetch_add(1, std::memory_order_relaxed);
  if (run.close_when_ready) {
    c.open = false;
    c.ready = false;
    beast::error_code ec;
    beast::get_lowest_layer(*c.ws).close(ec);
  }
  setup_more(run, loop);
}

void on_failed(Run& run, Conn& c, const std::string& why) {
  const bool was_ready = c.ready;
  c.open = false;
  c.ready = false;
  if (!was_ready) {
    Loop& loop = *c.loop;
    if (loop.setting_up > 0) --loop.setting_up;
    run.failed.fetch_add(1, std::memory_order_relaxed);
    note_error(loop, "connection " + std::to_string(c.index) + ": " + why);
    setup_more(run, loop);
  } else if (run.sending) {
    note_error(*c.loop, "connection " + std::to_string(c.index) + " lost: " + why);
  }
}

void on_frame(Run& run, Conn& c, ByteView frame) {
  Loop& loop = *c.loop;
  LoadDevice::Events events;
  auto replies = c.device.on_frame(frame, events);
  if (!replies.ok()) {
    on_failed(run, c, "bad frame: " + replies.status().message());
    return;
  }
  for (Bytes& reply : *replies) enqueue(run, c, std::move(reply));
  if (!events.error.empty()) note_error(loop, events.error);
  if (c.device.phase() == LoadDevice::Phase::kFailed) {
    on_failed(run, c, events.error);
    return;
  }
  const std::uint64_t now = steady_now_ns();
  for (const auto& received : events.received) {
    auto stamp = read_payload(received.ciphertext);
    if (stamp.ok()) {
      c.tracker.on_receive(stamp->send_time_ns, stamp->number, now, run.window, loop.tally);
      run.delivered.fetch_add(1, std::memory_order_relaxed);
    } else {
      note_error(loop, "a delivered message is not a load payload");
    }
    c.acks.push_back(received.seq);
  }
  if (c.acks.size() >= kAckBatch) {
    flush_acks(run, c);
  } else if (!c.acks.empty() && !c.ack_armed) {
    c.ack_armed = true;
    c.ack_timer->expires_after(kAckDelay);
    c.ack_timer->async_wait([&run, &c](const beast::error_code&) {
      c.ack_armed = false;
      flush_acks(run, c);
    });
  }
  const std::uint32_t answered = events.sends_accepted + events.sends_refused;
  for (std::uint32_t i = 0; i < answered && !c.send_times.empty(); ++i) {
    const std::uint64_t sent_at = c.send_times.front();
    c.send_times.pop_front();
    if (i < events.sends_accepted) {
      if (run.window.contains(sent_at)) ++loop.tally.sent_in_window;
      run.accepted.fetch_add(1, std::memory_order_relaxed);
      run.expected.fetch_add(run.fan_out, std::memory_order_relaxed);
    }
  }
  if (events.became_ready) on_ready(run, c);
  if (answered > 0) fill_window(run, c);
}

asio::awaitable<void> read_loop(Run& run, Conn& c, Stream* ws) {
  beast::flat_buffer buffer;
  beast::error_code ec;
  for (;;) {
    co_await ws->async_read(buffer, with_error(ec));
    if (ec) {
      if (c.ws.get() == ws && c.open) on_failed(run, c, "read: " + ec.message());
      co_return;
    }
    const auto data = buffer.cdata();
    on_frame(run, c, ByteView(static_cast<const std::uint8_t*>(data.data()), data.size()));
    buffer.consume(buffer.size());
  }
}

asio::awaitable<void> connect(Run& run, Conn& c) {
  Loop& loop = *c.loop;
  auto ws = std::make_unique<Stream>(loop.io, run.tls);
  tcp::socket& socket = ws->next_layer().next_layer();
  beast::error_code ec;
  socket.open(run.server.protocol(), ec);
  if (!ec && !run.sources.empty()) {
    socket.set_option(asio::socket_base::reuse_address(true), ec);
    socket.bind(tcp::endpoint(run.sources[c.index % run.sources.size()], 0), ec);
  }
  if (!ec) co_await socket.async_connect(run.server, with_error(ec));
  if (ec) {
    on_failed(run, c, "connect: " + ec.message());
    co_return;
  }
  socket.set_option(tcp::no_delay(true), ec);
  co_await ws->next_layer().async_handshake(asio::ssl::stream_base::client, with_error(ec));
  if (ec) {
    on_failed(run, c, "TLS: " + ec.message());
    co_return;
  }
  co_await ws->async_handshake(run.config.host, run.config.ws_path, with_error(ec));
  if (ec) {
    on_failed(run, c, "WebSocket upgrade: " + ec.message());
    co_return;
  }
  ws->binary(true);
  c.ws = std::move(ws);
  c.open = true;
  c.out.clear();
  c.writing = false;
  c.send_times.clear();
  if (!c.ack_timer) c.ack_timer = std::make_unique<asio::steady_timer>(loop.io);
  for (Bytes& frame : c.device.start_connection()) enqueue(run, c, std::move(frame));
  asio::co_spawn(loop.io, read_loop(run, c, c.ws.get()), asio::detached);
}

void setup_more(Run& run, Loop& loop) {
  while (loop.setting_up < kSetupInFlightPerLoop && !loop.to_set_up.empty()) {
    Conn* c = loop.to_set_up.front();
    loop.to_set_up.pop_front();
    ++loop.setting_up;
    asio::co_spawn(loop.io, connect(run, *c), asio::detached);
  }
}

// Paced: one send per interval, skipped (and counted) when 48 are already unanswered.
asio::awaitable<void> paced_sender(Run& run, Conn& c, Pacing pacing) {
  asio::steady_timer timer(c.loop->io);
  auto next = std::chrono::steady_clock::now() + pacing.first_offset;
  const auto end =
      std::chrono::steady_clock::time_point(std::chrono::nanoseconds(run.window.end_ns));
  beast::error_code ec;
  while (next < end && c.open) {
    timer.expires_at(next);
    co_await timer.async_wait(with_error(ec));
    if (c.device.sends_in_flight() < kMaxSendsInFlight) {
      send_one(run, c);
    } else {
      ++c.loop->sends_skipped;
    }
    next += pacing.interval;
  }
}

asio::awaitable<void> keepalive(Run& run, Conn& c) {
  asio::steady_timer timer(c.loop->io);
  beast::error_code ec;
  while (c.open) {
    timer.expires_after(run.config.keepalive);
    co_await timer.async_wait(with_error(ec));
    if (!c.open || ec) break;
    co_await c.ws->async_ping({}, with_error(ec));
  }
}

// Runs `fn(loop)` on every loop's own thread and waits for all of them.
template <typename Fn>
void on_each_loop(std::vector<std::unique_ptr<Loop>>& loops, Fn fn) {
  std::atomic<std::size_t> done{0};
  for (auto& loop : loops) {
    asio::post(loop->io, [&fn, &done, l = loop.get()] {
      fn(*l);
      done.fetch_add(1);
    });
  }
  while (done.load() < loops.size()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// Sets up every connection in `conns` (new ones sign up first) and waits until all are ready or
// failed, or the connect timeout passes. Returns the seconds it took.
Result<double> set_up(Run& run, std::vector<std::unique_ptr<Loop>>& loops,
                      const std::vector<Conn*>& conns) {
  const std::uint64_t start = steady_now_ns();
  const std::uint64_t base = run.ready.load() + run.failed.load();
  on_each_loop(loops, [&run, &conns](Loop& loop) {
    for (Conn* c : conns) {
      if (c->loop == &loop) loop.to_set_up.push_back(c);
    }
    setup_more(run, loop);
  });
  const auto deadline = std::chrono::steady_clock::now() + run.config.connect_timeout;
  while (run.ready.load() + run.failed.load() - base < conns.size()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::error(ErrorCode::kTimeout,
                           "connections not ready within the connect timeout (" +
                               std::to_string(run.ready.load() + run.failed.load() - base) +
                               " of " + std::to_string(conns.size()) + " done)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return static_cast<double>(steady_now_ns() - start) / 1e9;
}

void close_all(std::vector<std::unique_ptr<Loop>>& loops, const std::vector<Conn*>& conns) {
  on_each_loop(loops, [&conns](Loop& loop) {
    for (Conn* c : conns) {
      if (c->loop != &loop || !c->ws) continue;
      c->open = false;
      c->ready = false;
      beast::error_code ec;
      beast::get_lowest_layer(*c->ws).close(ec);  // abrupt: the server sees the peer go
      if (c->ack_timer) c->ack_timer->cancel();
    }
  });
}

void sleep_until_ns(std::uint64_t t) {
  const std::uint64_t now = steady_now_ns();
  if (t > now) std::this_thread::sleep_for(std::chrono::nanoseconds(t - now));
}

// Waits until every accepted send was delivered (or the drain timeout).
bool wait_drained(Run& run) {
  const auto deadline = std::chrono::steady_clock::now() + kDrainTimeout;
  while (run.delivered.load() < run.expected.load()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

class Runner {
 public:
  explicit Runner(const LoadConfig& config) : run_(config) {}

  ~Runner() {
    for (auto& loop : loops_) loop->io.stop();
    for (auto& thread : threads_) thread.join();
    conns_.clear();  // sockets close while their io_contexts still exist
    loops_.clear();
  }

  Status init() {
    const LoadConfig& config = run_.config;
    beast::error_code ec;
    const auto address = asio::ip::make_address(config.host, ec);
    if (ec) return Status::error(ErrorCode::kInvalidArgument, "--host must be an IP address");
    run_.server = tcp::endpoint(address, config.port);
    for (const auto& source : config.source_addresses) {
      run_.sources.push_back(asio::ip::make_address(source, ec));
      if (ec) return Status::error(ErrorCode::kInvalidArgument, "a source address is not an IP");
    }
    SSL_CTX_set_min_proto_version(run_.tls.native_handle(), TLS1_3_VERSION);
    if (config.ca_file.empty()) {
      run_.tls.set_verify_mode(asio::ssl::verify_none);  // loopback benchmarks only (--help)
    } else {
      run_.tls.load_verify_file(config.ca_file, ec);
      if (ec) return Status::error(ErrorCode::kNotFound, "cannot read --ca-file");
      run_.tls.set_verify_mode(asio::ssl::verify_peer);
    }
    for (unsigned i = 0; i < config.threads; ++i) loops_.push_back(std::make_unique<Loop>());
    for (auto& loop : loops_) {
      threads_.emplace_back([l = loop.get()] {
        auto guard = asio::make_work_guard(l->io);
        l->io.run();
      });
    }
    return Status();
  }

  std::vector<Conn*> add_conns(std::size_t count) {
    std::vector<Conn*> added;
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t index = conns_.size();
      Loop& loop = *loops_[index % loops_.size()];
      conns_.push_back(std::make_unique<Conn>(loop, index));
      loop.conns.push_back(conns_.back().get());
      added.push_back(conns_.back().get());
    }
    return added;
  }

  Run& run() { return run_; }
  std::vector<std::unique_ptr<Loop>>& loops() { return loops_; }

  void sample(ProcessSample& server, ProcessSample& client, std::uint64_t& slab,
              ScenarioReport& report) {
    if (run_.config.server_pid > 0) {
      auto s = sample_process(run_.config.server_pid);
      if (s.ok()) {
        server = *s;
        report.has_server = true;
      }
    }
    auto self = sample_process(::getpid());
    if (self.ok()) client = *self;
    slab = kernel_slab_bytes();
  }

  // Stops the loops and folds their counts into `report`.
  void finish(ScenarioReport& report) {
    for (auto& loop : loops_) loop->io.stop();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
    Tally total;
    std::uint64_t skipped = 0;
    for (auto& loop : loops_) {
      total.merge(loop->tally);
      skipped += loop->sends_skipped;
      if (!loop->first_error.empty() && report.notes.size() < 5) {
        report.notes.push_back(loop->first_error);
      }
    }
    report.sent = total.sent_in_window;
    report.delivered = total.delivered_in_window;
    report.duplicates = total.duplicates;
    report.errors = total.errors;
    report.latency = total.latency;
    report.extra["delivered_total"] = static_cast<double>(total.delivered_total);
    report.extra["accepted_total"] = static_cast<double>(run_.accepted.load());
    if (skipped > 0) report.extra["paced_sends_skipped"] = static_cast<double>(skipped);
  }

 private:
  Run run_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::vector<std::thread> threads_;
  std::vector<std::unique_ptr<Conn>> conns_;
};

// relay and group: set up, warm up, measure, drain.
Result<ScenarioReport> run_traffic(Runner& runner, ScenarioReport report) {
  Run& run = runner.run();
  const LoadConfig& config = run.config;
  const bool group = config.scenario == Scenario::kGroup;
  std::vector<Conn*> conns =
      runner.add_conns(group ? std::size_t{config.group_size} + 1 : 2 * std::size_t{config.pairs});
  if (group) {
    conns[0]->group_sender = true;
    run.fan_out = config.group_size;
  } else {
    for (std::size_t i = 0; i + 1 < conns.size(); i += 2) {
      conns[i]->partner = conns[i + 1];
      conns[i + 1]->partner = conns[i];
    }
  }
  PARLEY_ASSIGN_OR_RETURN(report.setup_seconds, set_up(run, runner.loops(), conns));
  report.connections = run.ready.load();
  if (run.failed.load() > 0) {
    runner.finish(report);
    return Status::error(ErrorCode::kUnavailable,
                         std::to_string(run.failed.load()) + " connections failed to set up" +
                             (report.notes.empty() ? "" : ": " + report.notes.front()));
  }
  if (group) {
    for (std::size_t i = 1; i < conns.size(); ++i) {
      run.group_recipients.push_back(conns[i]->device.account_id());
    }
  }
  run.window = MeasuredWindow::after_warmup(config, steady_now_ns());
  run.flat_out = config.rate <= 0;
  run.sending = true;
  std::vector<Conn*> senders;
  for (Conn* c : conns) {
    if (c->partner != nullptr || c->group_sender) senders.push_back(c);
  }
  on_each_loop(runner.loops(), [&run, &senders](Loop& loop) {
    for (std::size_t i = 0; i < senders.size(); ++i) {
      Conn& c = *senders[i];
      if (c.loop != &loop) continue;
      const Pacing pacing = Pacing::for_sender(run.config, static_cast<unsigned>(senders.size()),
                                               static_cast<unsigned>(i));
      if (pacing.flat_out()) {
        fill_window(run, c);
      } else {
        asio::co_spawn(loop.io, paced_sender(run, c, pacing), asio::detached);
      }
    }
  });
  sleep_until_ns(run.window.start_ns);
  runner.sample(report.server_before, report.client_before, report.slab_before, report);
  sleep_until_ns(run.window.end_ns);
  runner.sample(report.server_after, report.client_after, report.slab_after, report);
  report.seconds = run.window.seconds();
  if (!wait_drained(run)) {
    report.notes.push_back("not every accepted message arrived within the drain timeout (" +
                           std::to_string(run.delivered.load()) + " of " +
                           std::to_string(run.expected.load()) + ")");
  }
  runner.finish(report);
  if (group) report.extra["group_messages_per_second"] = report.sent / report.seconds;
  return report;
}

// idle: sign every device up (each connection closed once signed in, so the server never held
// many at once), then measure what N signed-in idle connections cost the server: RSS after minus
// before, so the store's growth from sign-ups is not counted as connection memory, and memory
// the allocator kept from the sign-up phase cannot hide the cost.
Result<ScenarioReport> run_idle(Runner& runner, ScenarioReport report) {
  Run& run = runner.run();
  const LoadConfig& config = run.config;
  std::vector<Conn*> conns = runner.add_conns(config.connections);
  run.close_when_ready = true;
  PARLEY_ASSIGN_OR_RETURN(const double signup_seconds, set_up(run, runner.loops(), conns));
  report.extra["signup_seconds"] = signup_seconds;
  run.close_when_ready = false;  // every connection is done: no loop reads it until the next post
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the server lets the connections go
  const std::uint64_t failed_signups = run.failed.load();
  runner.sample(report.server_before, report.client_before, report.slab_before, report);

  std::vector<Conn*> signed_up;
  for (Conn* c : conns) {
    if (!c->device.account_id().empty()) signed_up.push_back(c);
  }
  const std::uint64_t ready_before = run.ready.load();
  PARLEY_ASSIGN_OR_RETURN(report.setup_seconds, set_up(run, runner.loops(), signed_up));
  on_each_loop(runner.loops(), [&run](Loop& loop) {
    for (Conn* c : loop.conns) {
      if (c->ready) asio::co_spawn(loop.io, keepalive(run, *c), asio::detached);
    }
  });
  const std::uint64_t start = steady_now_ns();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // settle
  const std::uint64_t ready = run.ready.load() - ready_before;
  report.connections = ready;
  sleep_until_ns(
      start + static_cast<std::uint64_t>(
                  std::chrono::duration_cast<std::chrono::nanoseconds>(config.duration).count()));
  runner.sample(report.server_after, report.client_after, report.slab_after, report);
  report.seconds = static_cast<double>(steady_now_ns() - start) / 1e9;
  if (ready > 0) {
    const double n = static_cast<double>(ready);
    report.extra["server_rss_per_connection_bytes"] =
        (static_cast<double>(report.server_after.rss_bytes) -
         static_cast<double>(report.server_before.rss_bytes)) /
        n;
    report.extra["kernel_slab_per_connection_bytes"] =
        (static_cast<double>(report.slab_after) - static_cast<double>(report.slab_before)) / n;
    report.extra["client_rss_per_connection_bytes"] =
        static_cast<double>(report.client_after.rss_bytes) / n;
  }
  if (failed_signups > 0) report.extra["failed_signups"] = static_cast<double>(failed_signups);
  runner.finish(report);
  return report;
}

// offline: receivers sign up and leave; senders fill their mailboxes; receivers come back and
// drain. The drain rate is what users feel after a night offline.
Result<ScenarioReport> run_offline(Runner& runner, ScenarioReport report) {
  Run& run = runner.run();
  const LoadConfig& config = run.config;
  std::vector<Conn*> receivers = runner.add_conns(config.pairs);
  std::vector<Conn*> senders = runner.add_conns(config.pairs);
  for (std::size_t i = 0; i < senders.size(); ++i) {
    senders[i]->partner = receivers[i];
    senders[i]->send_budget = config.messages_per_device;
  }
  std::vector<Conn*> all = receivers;
  all.insert(all.end(), senders.begin(), senders.end());
  PARLEY_ASSIGN_OR_RETURN(report.setup_seconds, set_up(run, runner.loops(), all));
  if (run.failed.load() > 0) {
    runner.finish(report);
    return Status::error(ErrorCode::kUnavailable,
                         "connections failed to set up" +
                             (report.notes.empty() ? std::string() : ": " + report.notes.front()));
  }
  close_all(runner.loops(), receivers);
  std::this_thread::sleep_for(std::chrono::seconds(1));

  const std::uint64_t owed = std::uint64_t{config.pairs} * config.messages_per_device;
  run.sending = true;
  run.window = MeasuredWindow{steady_now_ns(), UINT64_MAX};
  const std::uint64_t fill_start = steady_now_ns();
  on_each_loop(runner.loops(), [&run, &senders](Loop& loop) {
    for (Conn* c : senders) {
      if (c->loop == &loop) fill_window(run, *c);
    }
  });
  const auto deadline = std::chrono::steady_clock::now() + config.connect_timeout;
  while (run.accepted.load() < owed && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double fill_seconds = static_cast<double>(steady_now_ns() - fill_start) / 1e9;
  report.extra["fill_messages_per_second"] =
      static_cast<double>(run.accepted.load()) / fill_seconds;
  if (run.accepted.load() < owed) {
    runner.finish(report);
    return Status::error(ErrorCode::kTimeout, "the mailboxes were not filled in time");
  }
  runner.sample(report.server_before, report.client_before, report.slab_before, report);
  const std::uint64_t drain_start = steady_now_ns();
  PARLEY_ASSIGN_OR_RETURN(const double reconnect_seconds, set_up(run, runner.loops(), receivers));
  report.extra["reconnect_seconds"] = reconnect_seconds;
  while (run.delivered.load() < owed && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  report.seconds = static_cast<double>(steady_now_ns() - drain_start) / 1e9;
  runner.sample(report.server_after, report.client_after, report.slab_after, report);
  report.connections = config.pairs;
  runner.finish(report);
  // Every message counts here (the window is the whole run): sent = accepted, delivered = all.
  report.sent = run.accepted.load();
  report.extra["drain_messages_per_second"] =
      static_cast<double>(report.delivered) / report.seconds;
  if (report.delivered < owed) {
    report.notes.push_back(std::to_string(owed - report.delivered) + " messages never arrived");
  }
  return report;
}

}  // namespace

Result<ScenarioReport> run_parley(const LoadConfig& config) {
  Runner runner(config);
  PARLEY_RETURN_IF_ERROR(runner.init());
  ScenarioReport report;
  report.target = Target::kParley;
  report.scenario = config.scenario;
  switch (config.scenario) {
    case Scenario::kRelay:
    case Scenario::kGroup:
      return run_traffic(runner, std::move(report));
    case Scenario::kIdle:
      return run_idle(runner, std::move(report));
    case Scenario::kOffline:
      return run_offline(runner, std::move(report));
  }
  return Status::error(ErrorCode::kInvalidArgument, "unknown scenario");
}

}  // namespace parley::load
