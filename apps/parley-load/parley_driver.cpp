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

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
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
#include <thread>

#include "drivers.h"
#include "event_loops.h"
#include "measure.h"
#include "parley_wire.h"

namespace parley::load {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Stream = websocket::stream<asio::ssl::stream<tcp::socket>>;

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

// One event loop, its thread's counts (EventLoop) and its connections.
struct Loop : EventLoop {
  std::vector<Conn*> conns;
};

// What the whole run shares. Written by the main thread before it posts a phase to the loops
// (the post orders it before the loops read it); the counters are atomics.
struct Run {
  const LoadConfig& config;
  asio::ssl::context tls{asio::ssl::context::tls_client};
  // The node each device connects to: device i to nodes[i % nodes.size()], so with two nodes
  // every relay pair (devices 2k, 2k+1) straddles them (--also-port).
  std::vector<tcp::endpoint> nodes;
  std::vector<asio::ip::address> sources;
  MeasuredWindow window{0, UINT64_MAX};
  bool sending = false;
  bool flat_out = true;           // false: paced_sender() sends, answers never trigger sends
  bool close_when_ready = false;  // idle's sign-up phase: never hold more than the setup slots
  std::vector<Bytes> group_recipients;
  std::uint64_t fan_out = 1;  // deliveries per accepted send

  SetupCounts setup;
  std::atomic<std::uint64_t> sends{0};     // sends written
  std::atomic<std::uint64_t> answered{0};  // sends the server answered (accepted or refused)
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> expected{0};  // deliveries owed for accepted sends
  std::atomic<std::uint64_t> delivered{0};

  explicit Run(const LoadConfig& c) : config(c) {}
};

void enqueue(Run& run, Conn& c, Bytes frame);

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
  run.sends.fetch_add(1);
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
  run.setup.ready.fetch_add(1, std::memory_order_relaxed);
  if (run.close_when_ready) {
    c.open = false;
    c.ready = false;
    beast::error_code ec;
    beast::get_lowest_layer(*c.ws).close(ec);
  }
  c.loop->setup_ended();
}

void on_failed(Run& run, Conn& c, const std::string& why) {
  const bool was_ready = c.ready;
  c.open = false;
  c.ready = false;
  if (!was_ready) {
    run.setup.failed.fetch_add(1, std::memory_order_relaxed);
    c.loop->note_error("connection " + std::to_string(c.index) + ": " + why);
    c.loop->setup_ended();
  } else if (run.sending) {
    c.loop->note_error("connection " + std::to_string(c.index) + " lost: " + why);
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
  if (!events.error.empty()) loop.note_error(events.error);
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
      loop.note_error("a delivered message is not a load payload");
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
  // After `expected` grew: wait_drained() reads answered first, then what is owed.
  if (answered > 0) run.answered.fetch_add(answered);
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
  const tcp::endpoint& node = run.nodes[c.index % run.nodes.size()];
  socket.open(node.protocol(), ec);
  if (!ec && !run.sources.empty()) {
    socket.set_option(asio::socket_base::reuse_address(true), ec);
    socket.bind(tcp::endpoint(run.sources[c.index % run.sources.size()], 0), ec);
  }
  if (!ec) co_await socket.async_connect(node, with_error(ec));
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

// Sets up every connection in `conns` (new ones sign up first) and waits until all are ready or
// failed, or the connect timeout passes. Returns the seconds it took.
Result<double> set_up(Run& run, EventLoops<Loop>& loops, const std::vector<Conn*>& conns) {
  return set_up(loops, run.setup, run.config.connect_timeout, conns,
                [&run](Conn& c) { asio::co_spawn(c.loop->io, connect(run, c), asio::detached); });
}

void close_all(EventLoops<Loop>& loops, const std::vector<Conn*>& conns) {
  loops.on_each_conn(conns, [](Conn& c, std::size_t) {
    if (!c.ws) return;
    c.open = false;
    c.ready = false;
    beast::error_code ec;
    beast::get_lowest_layer(*c.ws).close(ec);  // abrupt: the server sees the peer go
    if (c.ack_timer) c.ack_timer->cancel();
  });
}

// Waits until every send was answered and every accepted one delivered (or the drain timeout).
// Both: a push can reach its recipient before the sender has its answer, so "delivered ≥ owed"
// alone can hold while an accepted message is still on its way.
bool wait_drained(Run& run) {
  return wait_until(
      [&run] {
        return run.answered.load() >= run.sends.load() &&
               run.delivered.load() >= run.expected.load();
      },
      std::chrono::steady_clock::now() + kDrainTimeout, std::chrono::milliseconds(5));
}

class Runner {
 public:
  explicit Runner(const LoadConfig& config) : run_(config), pool_(config.threads) {}

  Status init() {
    const LoadConfig& config = run_.config;
    beast::error_code ec;
    const auto address = asio::ip::make_address(config.host, ec);
    if (ec) return Status::error(ErrorCode::kInvalidArgument, "--host must be an IP address");
    run_.nodes = {tcp::endpoint(address, config.port)};
    for (std::uint16_t port : config.also_ports) run_.nodes.emplace_back(address, port);
    PARLEY_ASSIGN_OR_RETURN(run_.sources, parse_sources(config));
    SSL_CTX_set_min_proto_version(run_.tls.native_handle(), TLS1_3_VERSION);
    if (config.ca_file.empty()) {
      run_.tls.set_verify_mode(asio::ssl::verify_none);  // loopback benchmarks only (--help)
    } else {
      run_.tls.load_verify_file(config.ca_file, ec);
      if (ec) return Status::error(ErrorCode::kNotFound, "cannot read --ca-file");
      run_.tls.set_verify_mode(asio::ssl::verify_peer);
    }
    pool_.loops().start();
    return Status();
  }

  std::vector<Conn*> add_conns(std::size_t count) { return pool_.add_conns(count); }

  Run& run() { return run_; }
  EventLoops<Loop>& loops() { return pool_.loops(); }

  void sample(Edge edge, ScenarioReport& report) { sample_edge(run_.config, report, edge); }

  // Stops the loops and folds their counts into `report`.
  void finish(ScenarioReport& report) {
    loops().stop();
    const Tally total = loops().fold_into(report);
    report.extra["delivered_total"] = static_cast<double>(total.delivered_total);
    report.extra["accepted_total"] = static_cast<double>(run_.accepted.load());
  }

  // Ends a run whose connections did not all set up.
  Status fail_setup(ScenarioReport& report) {
    finish(report);
    return setup_failed(run_.setup.failed.load(), report);
  }

 private:
  Run run_;
  LoopsWithConns<Loop, Conn> pool_;  // after run_: its loops stop before run_ goes
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
  report.connections = run.setup.ready.load();
  if (run.setup.failed.load() > 0) return runner.fail_setup(report);
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
  runner.loops().on_each_conn(senders, [&run, &senders](Conn& c, std::size_t i) {
    const Pacing pacing = Pacing::for_sender(run.config, static_cast<unsigned>(senders.size()),
                                             static_cast<unsigned>(i));
    if (pacing.flat_out()) {
      fill_window(run, c);
    } else {
      asio::co_spawn(c.loop->io, paced_sender(run, c, pacing), asio::detached);
    }
  });
  measure_window(config, run.window, report);
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
  const std::uint64_t failed_signups = run.setup.failed.load();
  runner.sample(Edge::kBefore, report);

  std::vector<Conn*> signed_up;
  for (Conn* c : conns) {
    if (!c->device.account_id().empty()) signed_up.push_back(c);
  }
  const std::uint64_t ready_before = run.setup.ready.load();
  PARLEY_ASSIGN_OR_RETURN(report.setup_seconds, set_up(run, runner.loops(), signed_up));
  runner.loops().on_each_loop([&run](Loop& loop) {
    for (Conn* c : loop.conns) {
      if (c->ready) asio::co_spawn(loop.io, keepalive(run, *c), asio::detached);
    }
  });
  const std::uint64_t start = steady_now_ns();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // settle
  const std::uint64_t ready = run.setup.ready.load() - ready_before;
  report.connections = ready;
  sleep_until_ns(
      start + static_cast<std::uint64_t>(
                  std::chrono::duration_cast<std::chrono::nanoseconds>(config.duration).count()));
  runner.sample(Edge::kAfter, report);
  report.seconds = seconds_between(start, steady_now_ns());
  add_per_connection_costs(report, ready);
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
  if (run.setup.failed.load() > 0) {
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
  runner.loops().on_each_conn(senders, [&run](Conn& c, std::size_t) { fill_window(run, c); });
  const auto deadline = std::chrono::steady_clock::now() + config.connect_timeout;
  wait_until([&run, owed] { return run.accepted.load() >= owed; }, deadline,
             std::chrono::milliseconds(5));
  const double fill_seconds = seconds_between(fill_start, steady_now_ns());
  report.extra["fill_messages_per_second"] =
      static_cast<double>(run.accepted.load()) / fill_seconds;
  if (run.accepted.load() < owed) {
    runner.finish(report);
    return Status::error(ErrorCode::kTimeout, "the mailboxes were not filled in time");
  }
  runner.sample(Edge::kBefore, report);
  const std::uint64_t drain_start = steady_now_ns();
  PARLEY_ASSIGN_OR_RETURN(const double reconnect_seconds, set_up(run, runner.loops(), receivers));
  report.extra["reconnect_seconds"] = reconnect_seconds;
  wait_until([&run, owed] { return run.delivered.load() >= owed; }, deadline,
             std::chrono::milliseconds(2));
  report.seconds = seconds_between(drain_start, steady_now_ns());
  runner.sample(Edge::kAfter, report);
  report.connections = config.pairs;
  runner.finish(report);
  add_offline_totals(report, run.accepted.load(), owed);
  return report;
}

}  // namespace

Result<ScenarioReport> run_parley(const LoadConfig& config) {
  Runner runner(config);
  PARLEY_RETURN_IF_ERROR(runner.init());
  return run_scenario(runner, Target::kParley, config, &run_traffic, &run_idle, &run_offline);
}

}  // namespace parley::load
