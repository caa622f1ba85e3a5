// SPDX-License-Identifier: AGPL-3.0-or-later
// The XMPP driver: plain TCP client streams to ejabberd (bench/peers/ejabberd.sh), one Asio event
// loop per thread, the scenarios run exactly as parley_driver.cpp runs them.
//
// A device is an account `<user_prefix><index>@<xmpp_domain>`, created in-band (XEP-0077) on its
// first connection ("conflict" — it exists from an earlier run — is fine), signed in with SASL
// PLAIN, bound to one resource, with stream management (XEP-0198) enabled and initial presence
// sent (ejabberd delivers to, and releases offline messages to, available resources only).
//
// Server acceptance of a send is XEP-0198's <a h=…/>: every message is followed by <r/>, so each
// message gets its own answer, as a Parley send or an MQTT QoS 1 PUBLISH does. Receivers answer
// the server's <r/> with their own count. Messages carry the load payload base64-encoded in
// <body/>, to the partner's bare JID, type "chat".
//
// group: XMPP's way is a MUC room; to keep the comparison simple (no room setup, no reflection
// to the sender) the sender sends one message per receiver instead. One "group send" is that
// round of group_size messages, accepted when the server has acked its last copy, so `sent` and
// the window count rounds, as they count group sends for Parley.
//
// Every connection lives on one loop's thread; the main thread only starts phases (by posting to
// the loops) and watches atomic progress counters, so no per-connection state needs a lock.

// clang-format off
#include <utility>  // first: boost/asio/awaitable.hpp (Boost 1.74) uses std::exchange unincluded
// clang-format on

#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <memory>
#include <thread>

#include "drivers.h"
#include "event_loops.h"
#include "measure.h"
#include "xmpp_codec.h"

namespace parley::load {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr std::uint64_t kMaxSendsInFlight = 48;  // the Parley driver's cap, for the same load
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr int kReadsPerWakeup = 4;
constexpr auto kDrainTimeout = std::chrono::seconds(10);
constexpr std::string_view kResource = "load";

auto with_error(error_code& ec) {
  return asio::redirect_error(asio::use_awaitable, ec);
}

struct Loop;

enum class Phase {
  kOffline,      // no connection
  kStreamStart,  // stream header sent, waiting for features
  kRegister,     // in-band registration sent
  kAuth,         // SASL PLAIN sent
  kRestart,      // stream restarted after SASL, waiting for features
  kBind,         // resource binding sent
  kSession,      // legacy session IQ sent
  kEnable,       // stream management <enable/> sent
  kPresence,     // initial presence sent, waiting for its echo
  kReady,
};

// A stanza sent after <enable/>, until the server's <a/> covers it.
struct Unacked {
  std::uint32_t number = 0;  // our outbound stanza count when it was sent
  std::uint64_t sent_at = 0;
  bool counts = false;  // a send to count when acked (a message; in group, a round's last copy)
};

// One device and its connection.
struct Conn {
  Conn(Loop& loop_in, std::size_t index_in) : loop(&loop_in), index(index_in) {}

  Loop* loop;
  std::size_t index;
  std::string user;  // <prefix><index>
  std::string jid;   // bare
  bool registered = false;

  std::unique_ptr<tcp::socket> socket;
  std::uint64_t generation = 0;  // bumped per connection: stale coroutines see the change
  Phase phase = Phase::kOffline;
  bool open = false;
  bool ready = false;
  bool closing = false;  // we sent </stream:stream>: the server closing is expected
  bool session_required = false;
  bool writing = false;
  std::string pending;  // written by the next write, in one go
  xmpp::StreamReader reader;

  // XEP-0198 counters (mod 2^32, as the XEP says).
  bool sm_on = false;
  std::uint32_t handled_in = 0;
  std::uint32_t sent_out = 0;
  std::uint32_t last_acked = 0;
  std::deque<Unacked> unacked;
  std::uint64_t sends_in_flight = 0;  // unacked entries that count

  StreamTracker tracker;

  // Sending: to one partner (relay, offline) or to every receiver (group).
  const Conn* partner = nullptr;
  const std::vector<Conn*>* group = nullptr;
  std::uint64_t next_number = 1;
  std::uint64_t send_budget = UINT64_MAX;  // offline: messages still to send
};

// One event loop, its thread's counts (EventLoop) and its connections.
struct Loop : EventLoop {
  std::vector<Conn*> conns;
  std::uint64_t stale = 0;  // messages sent by an earlier run (see on_message)
  std::vector<std::unique_ptr<tcp::socket>> closed_sockets;  // kept until the loop ends
  std::array<char, kReadChunk> read_buffer;  // shared: a read is consumed before the next one
};

// What the whole run shares. Written by the main thread before it posts a phase to the loops
// (the post orders it before the loops read it); the counters are atomics.
struct Run {
  const LoadConfig& config;
  const std::uint64_t started_ns = steady_now_ns();
  tcp::endpoint server;
  std::vector<asio::ip::address> sources;
  MeasuredWindow window{0, UINT64_MAX};
  bool sending = false;
  bool paced = false;  // an offered rate: paced_sender sends, acks do not refill a window
  std::vector<Conn*> group_receivers;
  std::uint64_t fan_out = 1;  // deliveries per accepted send

  SetupCounts setup;
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> in_flight{0};  // counted sends not yet acked by the server
  std::atomic<std::uint64_t> expected{0};   // deliveries owed for accepted sends
  std::atomic<std::uint64_t> delivered{0};

  explicit Run(const LoadConfig& c) : config(c) {}
};

asio::awaitable<void> write_loop(Conn& c, std::uint64_t generation) {
  error_code ec;
  while (!c.pending.empty() && c.generation == generation && c.open) {
    std::string data = std::move(c.pending);
    c.pending.clear();
    co_await asio::async_write(*c.socket, asio::buffer(data), with_error(ec));
    if (ec) break;  // the reader sees the same failure and reports it
  }
  if (c.generation == generation) {
    c.writing = false;
    if (c.closing && c.open && c.pending.empty() && !ec) {
      c.socket->shutdown(tcp::socket::shutdown_send, ec);
    }
  }
}

void write(Conn& c, std::string_view data) {
  if (!c.open) return;
  c.pending.append(data);
  if (!c.writing) {
    c.writing = true;
    asio::co_spawn(c.loop->io, write_loop(c, c.generation), asio::detached);
  }
}

// A stanza (message, presence, iq) after <enable/>: counted for the server's <a/>.
// `sent_at`: the send time in the payload, so `sent` and `delivered` agree on the window.
void write_stanza(Run& run, Conn& c, std::string_view stanza, bool counts,
                  std::uint64_t sent_at = steady_now_ns()) {
  write(c, stanza);
  if (!c.sm_on) return;
  ++c.sent_out;
  c.unacked.push_back(Unacked{c.sent_out, sent_at, counts});
  if (counts) {
    ++c.sends_in_flight;
    run.in_flight.fetch_add(1, std::memory_order_relaxed);
  }
}

void send_one(Run& run, Conn& c) {
  const std::uint64_t now = steady_now_ns();
  const std::uint64_t number = c.next_number++;
  const std::string payload = make_payload(run.config.message_bytes, now, number);
  if (c.send_budget != UINT64_MAX) --c.send_budget;
  const std::string id = "m" + std::to_string(number);
  if (c.group != nullptr) {
    // One copy per receiver; the round counts once, when its last copy is acked.
    for (std::size_t i = 0; i < c.group->size(); ++i) {
      write_stanza(run, c, xmpp::message((*c.group)[i]->jid, id, payload), i + 1 == c.group->size(),
                   now);
    }
  } else {
    write_stanza(run, c, xmpp::message(c.partner->jid, id, payload), true, now);
  }
  write(c, xmpp::sm_request());
}

// Flat out: keep the window full while the run sends.
void fill_window(Run& run, Conn& c) {
  if (!run.sending || run.paced || !c.ready || (c.partner == nullptr && c.group == nullptr)) {
    return;
  }
  const std::uint64_t window = std::min<std::uint64_t>(run.config.window, kMaxSendsInFlight);
  while (c.sends_in_flight < window && c.send_budget > 0 && steady_now_ns() < run.window.end_ns) {
    send_one(run, c);
  }
}

void on_ready(Run& run, Conn& c) {
  c.ready = true;
  run.setup.ready.fetch_add(1, std::memory_order_relaxed);
  c.loop->setup_ended();
}

void close_socket(Conn& c) {
  c.open = false;
  c.ready = false;
  c.phase = Phase::kOffline;
  if (c.socket) {
    error_code ec;
    c.socket->close(ec);
  }
}

// Forgets the sends the server never acked on this connection (it is gone).
void drop_unacked(Run& run, Conn& c) {
  run.in_flight.fetch_sub(c.sends_in_flight, std::memory_order_relaxed);
  c.sends_in_flight = 0;
  c.unacked.clear();
}

void on_failed(Run& run, Conn& c, const std::string& why) {
  if (!c.open && c.phase == Phase::kOffline) return;  // already handled
  const bool was_ready = c.ready;
  close_socket(c);
  drop_unacked(run, c);
  Loop& loop = *c.loop;
  if (!was_ready) {
    run.setup.failed.fetch_add(1, std::memory_order_relaxed);
    loop.note_error("connection " + std::to_string(c.index) + ": " + why);
    loop.setup_ended();
  } else if (run.sending) {
    loop.note_error("connection " + std::to_string(c.index) + " lost: " + why);
  }
}

void on_acked(Run& run, Conn& c, std::uint32_t h) {
  // Only forward movement counts (mod 2^32); an old or repeated <a/> acks nothing new.
  if (static_cast<std::int32_t>(h - c.last_acked) <= 0) return;
  c.last_acked = h;
  while (!c.unacked.empty() && static_cast<std::int32_t>(h - c.unacked.front().number) >= 0) {
    const Unacked entry = c.unacked.front();
    c.unacked.pop_front();
    if (!entry.counts) continue;
    --c.sends_in_flight;
    run.in_flight.fetch_sub(1, std::memory_order_relaxed);
    if (run.window.contains(entry.sent_at)) ++c.loop->tally.sent_in_window;
    run.accepted.fetch_add(1, std::memory_order_relaxed);
    run.expected.fetch_add(run.fan_out, std::memory_order_relaxed);
  }
  fill_window(run, c);
}

void on_message(Run& run, Conn& c, const xmpp::Element& message) {
  Loop& loop = *c.loop;
  if (message.attribute("type") == "error") {
    loop.note_error("a message bounced: " + xmpp::error_condition(message));
    return;
  }
  auto payload = xmpp::message_payload(message);
  if (!payload.ok()) {
    if (payload.status().code() == ErrorCode::kNotFound) return;  // e.g. a chat state
    loop.note_error("a delivered message has a bad body");
    return;
  }
  auto stamp = read_payload(*payload);
  if (!stamp.ok()) {
    loop.note_error("a delivered message is not a load payload");
    return;
  }
  if (stamp->send_time_ns < run.started_ns) {
    // Left in an offline store by an earlier run against the same server (its numbers would
    // look like duplicates of ours): not this run's traffic.
    ++loop.stale;
    return;
  }
  c.tracker.on_receive(stamp->send_time_ns, stamp->number, steady_now_ns(), run.window, loop.tally);
  run.delivered.fetch_add(1, std::memory_order_relaxed);
}

// The session's state machine: one server element at a time.
void on_element(Run& run, Conn& c, const xmpp::Element& e) {
  const LoadConfig& config = run.config;
  const std::string_view name = e.name;
  if (name == "stream:error") {
    on_failed(run, c, "stream error: " + xmpp::error_condition(e));
    return;
  }
  if (xmpp::is_sm_request(e)) {
    write(c, xmpp::sm_answer(c.handled_in));
    return;
  }
  if (xmpp::is_sm_answer(e)) {
    auto h = xmpp::sm_handled(e);
    if (!h.ok()) {
      on_failed(run, c, h.status().message());
      return;
    }
    on_acked(run, c, *h);
    return;
  }
  const bool stanza = name == "message" || name == "presence" || name == "iq";
  if (stanza && c.sm_on) ++c.handled_in;
  if (name == "message") {
    on_message(run, c, e);
    return;
  }

  switch (c.phase) {
    case Phase::kStreamStart:
      if (name != "stream:features") break;
      if (!c.registered) {
        write(c, xmpp::register_iq("reg", c.user, config.password));
        c.phase = Phase::kRegister;
      } else {
        write(c, xmpp::auth_plain(c.user, config.password));
        c.phase = Phase::kAuth;
      }
      return;
    case Phase::kRegister:
      if (name != "iq" || e.attribute("id") != "reg") break;
      if (e.attribute("type") != "result" && xmpp::error_condition(e) != "conflict") {
        on_failed(run, c, "registration refused: " + xmpp::error_condition(e));
        return;
      }
      c.registered = true;
      write(c, xmpp::auth_plain(c.user, config.password));
      c.phase = Phase::kAuth;
      return;
    case Phase::kAuth:
      if (name == "success") {
        write(c, xmpp::stream_header(config.xmpp_domain));
        c.phase = Phase::kRestart;
      } else if (name == "failure") {
        on_failed(run, c, "sign-in refused: " + xmpp::error_condition(e));
      } else {
        break;
      }
      return;
    case Phase::kRestart: {
      if (name != "stream:features") break;
      const xmpp::Element* session = e.child("session");
      c.session_required = session != nullptr && session->child("optional") == nullptr;
      if (e.child("sm") == nullptr) {
        on_failed(run, c, "the server does not offer stream management (mod_stream_mgmt)");
        return;
      }
      write(c, xmpp::bind_iq("bind", kResource));
      c.phase = Phase::kBind;
      return;
    }
    case Phase::kBind:
    case Phase::kSession:
      if (name != "iq") break;
      if (e.attribute("type") != "result") {
        on_failed(run, c, "resource binding refused: " + xmpp::error_condition(e));
        return;
      }
      if (c.phase == Phase::kBind && c.session_required) {
        write(c, xmpp::session_iq("sess"));
        c.phase = Phase::kSession;
      } else {
        write(c, xmpp::sm_enable());
        c.phase = Phase::kEnable;
      }
      return;
    case Phase::kEnable:
      if (name == "enabled") {
        c.sm_on = true;
        write_stanza(run, c, xmpp::presence(), false);
        write(c, xmpp::sm_request());
        c.phase = Phase::kPresence;
      } else if (name == "failed") {
        on_failed(run, c, "stream management refused: " + xmpp::error_condition(e));
      } else {
        break;
      }
      return;
    case Phase::kPresence:
      // The server echoes initial presence to the session itself: it is available now.
      if (name != "presence") break;
      if (e.attribute("type") == "error") {
        on_failed(run, c, "presence refused: " + xmpp::error_condition(e));
        return;
      }
      c.phase = Phase::kReady;
      on_ready(run, c);
      fill_window(run, c);
      return;
    case Phase::kReady:
      if (name == "iq" && (e.attribute("type") == "get" || e.attribute("type") == "set")) {
        // Any request (e.g. a server ping) gets an answer, or ejabberd may drop the session.
        write_stanza(run, c,
                     "<iq type='result' id='" + xmpp::escape(e.attribute("id")) + "' to='" +
                         xmpp::escape(e.attribute("from")) + "'/>",
                     false);
      }
      return;  // presence and other stanzas need nothing
    case Phase::kOffline:
      return;
  }
  if (name == "iq" && e.attribute("type") == "error") {
    on_failed(run, c, "request refused: " + xmpp::error_condition(e));
  }
  // Anything else during setup (e.g. presence) is ignored.
}

// Waits for the socket to be readable, then reads into the loop's one buffer: an idle connection
// holds no read buffer of its own (idle runs hold tens of thousands).
asio::awaitable<void> read_loop(Run& run, Conn& c, std::uint64_t generation) {
  std::vector<xmpp::Event> events;
  error_code ec;
  c.socket->non_blocking(true, ec);
  for (int reads = 0;; ++reads) {
    if (reads % kReadsPerWakeup == 0) {
      // (Also every few reads of a busy socket, so one connection does not starve the others.)
      co_await c.socket->async_wait(tcp::socket::wait_read, with_error(ec));
      if (c.generation != generation || !c.open) co_return;
    }
    std::size_t n = 0;
    if (!ec) n = c.socket->read_some(asio::buffer(c.loop->read_buffer), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      reads = -1;  // wait again
      ec.clear();
      continue;
    }
    if (ec) {
      if (c.closing) {
        close_socket(c);
      } else {
        on_failed(run, c, "read: " + ec.message());
      }
      co_return;
    }
    events.clear();
    const Status status = c.reader.feed(std::string_view(c.loop->read_buffer.data(), n), events);
    for (const xmpp::Event& event : events) {
      if (c.generation != generation || !c.open) co_return;
      if (event.kind == xmpp::Event::Kind::kStanza) {
        on_element(run, c, event.element);
      } else if (event.kind == xmpp::Event::Kind::kStreamClose && !c.closing) {
        on_failed(run, c, "the server closed the stream");
        co_return;
      }
    }
    if (!status.ok() && c.generation == generation) {
      on_failed(run, c, "bad XML from the server: " + status.message());
      co_return;
    }
  }
}

asio::awaitable<void> connect(Run& run, Conn& c) {
  Loop& loop = *c.loop;
  if (c.socket) loop.closed_sockets.push_back(std::move(c.socket));
  c.socket = std::make_unique<tcp::socket>(loop.io);
  const std::uint64_t generation = ++c.generation;
  c.phase = Phase::kStreamStart;  // (so a failure below is counted once)
  error_code ec;
  c.socket->open(run.server.protocol(), ec);
  if (!ec && !run.sources.empty()) {
    c.socket->set_option(asio::socket_base::reuse_address(true), ec);
    c.socket->bind(tcp::endpoint(run.sources[c.index % run.sources.size()], 0), ec);
  }
  if (!ec) co_await c.socket->async_connect(run.server, with_error(ec));
  if (c.generation != generation) co_return;
  if (ec) {
    on_failed(run, c, "connect: " + ec.message());
    co_return;
  }
  c.socket->set_option(tcp::no_delay(true), ec);
  c.open = true;
  c.ready = false;
  c.closing = false;
  c.writing = false;
  c.pending.clear();
  c.reader = xmpp::StreamReader();
  c.sm_on = false;
  c.handled_in = c.sent_out = c.last_acked = 0;
  drop_unacked(run, c);
  write(c, xmpp::stream_header(run.config.xmpp_domain));
  asio::co_spawn(loop.io, read_loop(run, c, generation), asio::detached);
}

// Paced: one send per interval, skipped (and counted) when 48 are already unanswered.
asio::awaitable<void> paced_sender(Run& run, Conn& c, Pacing pacing) {
  asio::steady_timer timer(c.loop->io);
  auto next = std::chrono::steady_clock::now() + pacing.first_offset;
  const auto end =
      std::chrono::steady_clock::time_point(std::chrono::nanoseconds(run.window.end_ns));
  error_code ec;
  while (next < end && c.ready) {
    timer.expires_at(next);
    co_await timer.async_wait(with_error(ec));
    if (!c.ready) break;
    if (c.sends_in_flight < kMaxSendsInFlight) {
      send_one(run, c);
    } else {
      ++c.loop->sends_skipped;
    }
    next += pacing.interval;
  }
}

asio::awaitable<void> keepalive(Run& run, Conn& c) {
  asio::steady_timer timer(c.loop->io);
  const std::uint64_t generation = c.generation;
  error_code ec;
  while (c.open && c.generation == generation) {
    timer.expires_after(run.config.keepalive);
    co_await timer.async_wait(with_error(ec));
    if (!c.open || c.generation != generation || ec) break;
    write(c, xmpp::kWhitespaceKeepalive);
  }
}

// Sets up every connection in `conns` (new accounts register first) and waits until all are
// ready or failed, or the connect timeout passes. Returns the seconds it took.
Result<double> set_up(Run& run, EventLoops<Loop>& loops, const std::vector<Conn*>& conns) {
  return set_up(loops, run.setup, run.config.connect_timeout, conns,
                [&run](Conn& c) { asio::co_spawn(c.loop->io, connect(run, c), asio::detached); });
}

// Ends the sessions: a last <a/> for everything received, `</stream:stream>` and a half-close, so
// ejabberd ends each session at once (no stream resumption is enabled) with nothing unacked to
// move to the offline store for a later run to find.
void close_all(EventLoops<Loop>& loops, const std::vector<Conn*>& conns) {
  loops.on_each_conn(conns, [](Conn& c, std::size_t) {
    if (!c.open) return;
    c.ready = false;
    c.closing = true;
    if (c.sm_on) write(c, xmpp::sm_answer(c.handled_in));
    write(c, xmpp::kStreamEnd);
  });
  // Wait (briefly) for the server to close its side: then its sessions are gone.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    std::atomic<std::size_t> still_open{0};
    loops.on_each_conn(conns, [&still_open](Conn& c, std::size_t) {
      if (c.open) still_open.fetch_add(1);
    });
    if (still_open.load() == 0 || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  loops.on_each_conn(conns, [](Conn& c, std::size_t) { close_socket(c); });
}

// Waits until the server acked every send and every accepted send was delivered (or the drain
// timeout): ending sessions earlier would leave messages for the offline store.
bool wait_drained(Run& run) {
  return wait_until(
      [&run] { return run.in_flight.load() == 0 && run.delivered.load() >= run.expected.load(); },
      std::chrono::steady_clock::now() + kDrainTimeout, std::chrono::milliseconds(5));
}

class Runner {
 public:
  explicit Runner(const LoadConfig& config) : run_(config), pool_(config.threads) {}

  Status init() {
    const LoadConfig& config = run_.config;
    error_code ec;
    const auto address = asio::ip::make_address(config.host, ec);
    if (ec) return Status::error(ErrorCode::kInvalidArgument, "--host must be an IP address");
    run_.server = tcp::endpoint(address, config.port);
    PARLEY_ASSIGN_OR_RETURN(run_.sources, parse_sources(config));
    pool_.loops().start();
    return Status::ok_status();
  }

  // Ends every open session cleanly (see close_all).
  void close_everything() { close_all(pool_.loops(), pool_.all_conns()); }

  std::vector<Conn*> add_conns(std::size_t count) {
    std::vector<Conn*> added = pool_.add_conns(count);
    for (Conn* c : added) {
      c->user = run_.config.user_prefix + std::to_string(c->index);
      c->jid = c->user + "@" + run_.config.xmpp_domain;
    }
    return added;
  }

  Run& run() { return run_; }
  EventLoops<Loop>& loops() { return pool_.loops(); }

  void sample(Edge edge, ScenarioReport& report) { sample_edge(run_.config, report, edge); }

  // Stops the loops and folds their counts into `report`.
  void finish(ScenarioReport& report) {
    loops().stop();
    const Tally total = loops().fold_into(report);
    std::uint64_t stale = 0;
    for (std::size_t i = 0; i < loops().size(); ++i) stale += loops()[i].stale;
    report.extra["delivered_total"] = static_cast<double>(total.delivered_total);
    report.extra["accepted_total"] = static_cast<double>(run_.accepted.load());
    if (stale > 0) {
      report.extra["stale_messages_from_earlier_runs"] = static_cast<double>(stale);
      report.notes.push_back("messages from an earlier run were still queued on the server");
    }
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
    run.group_receivers.assign(conns.begin() + 1, conns.end());
    conns[0]->group = &run.group_receivers;
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

  std::vector<Conn*> senders;
  for (Conn* c : conns) {
    if (c->partner != nullptr || c->group != nullptr) senders.push_back(c);
  }
  run.paced = !Pacing::for_sender(config, static_cast<unsigned>(senders.size()), 0).flat_out();
  run.window = MeasuredWindow::after_warmup(config, steady_now_ns());
  run.sending = true;
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
    report.notes.push_back("the drain timed out: " + std::to_string(run.delivered.load()) + " of " +
                           std::to_string(run.expected.load()) + " accepted messages arrived, " +
                           std::to_string(run.in_flight.load()) + " sends were never acked");
  }
  runner.close_everything();
  runner.finish(report);
  if (group) {
    report.extra["group_messages_per_second"] = report.sent / report.seconds;
    report.notes.push_back("xmpp group: one message per receiver (no MUC room)");
  }
  return report;
}

// idle: register every account, end the sessions, then measure what N signed-in idle sessions
// cost the server (RSS after minus before, so the store's growth from registrations is not
// counted as connection memory).
Result<ScenarioReport> run_idle(Runner& runner, ScenarioReport report) {
  Run& run = runner.run();
  const LoadConfig& config = run.config;
  std::vector<Conn*> conns = runner.add_conns(config.connections);
  PARLEY_ASSIGN_OR_RETURN(const double signup_seconds, set_up(run, runner.loops(), conns));
  report.extra["signup_seconds"] = signup_seconds;
  close_all(runner.loops(), conns);
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the server lets the sessions go
  const std::uint64_t failed_signups = run.setup.failed.load();
  runner.sample(Edge::kBefore, report);

  std::vector<Conn*> registered;
  for (Conn* c : conns) {
    if (c->registered) registered.push_back(c);
  }
  PARLEY_ASSIGN_OR_RETURN(report.setup_seconds, set_up(run, runner.loops(), registered));
  runner.loops().on_each_loop([&run](Loop& loop) {
    for (Conn* c : loop.conns) {
      if (c->ready) asio::co_spawn(loop.io, keepalive(run, *c), asio::detached);
    }
  });
  const std::uint64_t start = steady_now_ns();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // settle
  std::atomic<std::uint64_t> ready{0};
  runner.loops().on_each_loop([&ready](Loop& loop) {
    for (Conn* c : loop.conns) ready.fetch_add(c->ready ? 1 : 0);
  });
  report.connections = ready.load();
  sleep_until_ns(
      start + static_cast<std::uint64_t>(
                  std::chrono::duration_cast<std::chrono::nanoseconds>(config.duration).count()));
  runner.sample(Edge::kAfter, report);
  report.seconds = seconds_between(start, steady_now_ns());
  add_per_connection_costs(report, report.connections);
  if (failed_signups > 0) report.extra["failed_signups"] = static_cast<double>(failed_signups);
  runner.close_everything();
  runner.finish(report);
  return report;
}

// offline: receivers register and leave; senders fill their offline stores (mod_offline);
// receivers come back, send presence and drain.
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
  if (run.setup.failed.load() > 0) return runner.fail_setup(report);
  close_all(runner.loops(), receivers);
  std::this_thread::sleep_for(std::chrono::seconds(1));

  const std::uint64_t owed = std::uint64_t{config.pairs} * config.messages_per_device;
  run.window = MeasuredWindow{steady_now_ns(), UINT64_MAX};
  run.sending = true;
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
    return Status::error(ErrorCode::kTimeout, "the offline stores were not filled in time");
  }
  runner.sample(Edge::kBefore, report);
  const std::uint64_t drain_start = steady_now_ns();
  PARLEY_ASSIGN_OR_RETURN(const double reconnect_seconds, set_up(run, runner.loops(), receivers));
  report.extra["reconnect_seconds"] = reconnect_seconds;
  const auto drain_deadline = std::chrono::steady_clock::now() + config.connect_timeout;
  wait_until([&run, owed] { return run.delivered.load() >= owed; }, drain_deadline,
             std::chrono::milliseconds(2));
  report.seconds = seconds_between(drain_start, steady_now_ns());
  runner.sample(Edge::kAfter, report);
  report.connections = config.pairs;
  runner.close_everything();
  runner.finish(report);
  add_offline_totals(report, run.accepted.load(), owed);
  return report;
}

}  // namespace

Result<ScenarioReport> run_xmpp(const LoadConfig& config) {
  Runner runner(config);
  PARLEY_RETURN_IF_ERROR(runner.init());
  return run_scenario(runner, Target::kXmpp, config, &run_traffic, &run_idle, &run_offline);
}

}  // namespace parley::load
