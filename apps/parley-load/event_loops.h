// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The scaffolding every driver runs its connections on, whatever the protocol: one event loop per
// thread, each counting into its own Tally (no locks), a main thread that starts phases by posting
// to the loops and waits on atomic counters with deadlines, and the /proc samples and tallies that
// go into the report. The per-connection state machines stay in the drivers.

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "drivers.h"
#include "load_config.h"
#include "measure.h"
#include "parley/util/status.h"
#include "report.h"

namespace parley::load {

// One event loop, its thread and what the thread counts. Only the loop's own handlers touch it
// while it runs. A driver derives its loop from this one to add what its connections share.
struct EventLoop {
  // Connections being set up at once, per loop: a burst of thousands of handshakes would time out.
  static constexpr unsigned kSetupsAtOnce = 48;

  EventLoop() = default;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  virtual ~EventLoop() = default;

  boost::asio::io_context io{1};
  std::thread thread;
  Tally tally;
  std::string first_error;
  std::uint64_t sends_skipped = 0;  // paced sends not made: the cap of sends in flight was reached

  // Setups waiting for a slot (set_up() queues them), and how many are under way.
  std::deque<std::function<void()>> to_set_up;
  unsigned setting_up = 0;

  // Counts an error; the loop keeps the text of its first one for the report.
  void note_error(const std::string& text);
  // Starts queued setups while fewer than kSetupsAtOnce are under way.
  void start_setups();
  // A setup ended (the connection is ready, or failed): the next one may start.
  void setup_ended();
};

// Connections that became ready or failed while being set up, counted by the loops and watched by
// the main thread.
struct SetupCounts {
  std::atomic<std::uint64_t> ready{0};
  std::atomic<std::uint64_t> failed{0};

  std::uint64_t settled() const { return ready.load() + failed.load(); }
};

// The loops of one run, one thread each (see EventLoops<L> for the typed front).
class EventLoopSet {
 public:
  // Called on the loop's thread when a handler throws; without one, the exception ends the process.
  using ExceptionHandler = std::function<void(EventLoop&, const std::exception&)>;

  EventLoopSet() = default;
  EventLoopSet(const EventLoopSet&) = delete;
  EventLoopSet& operator=(const EventLoopSet&) = delete;
  ~EventLoopSet() { stop(); }

  // One thread per loop, running it until stop().
  void start(ExceptionHandler on_exception = {});
  // Stops the loops and joins their threads (again: nothing). Their counts are then safe to read.
  void stop();

  std::size_t size() const { return loops_.size(); }

  // Folds the loops' tallies into `report` (sent, delivered, duplicates, errors, latency, the
  // paced sends skipped, and up to 5 loops' first errors as notes). Call after stop().
  Tally fold_into(ScenarioReport& report) const;

 protected:
  // Runs `fn(loop)` on every loop's own thread and waits for all of them.
  void run_on_each(const std::function<void(EventLoop&)>& fn);

  std::vector<std::unique_ptr<EventLoop>> loops_;
};

// The loops of one run, of the driver's loop type L (derived from EventLoop).
template <typename L>
class EventLoops : public EventLoopSet {
 public:
  explicit EventLoops(unsigned count) {
    for (unsigned i = 0; i < std::max(1u, count); ++i) loops_.push_back(std::make_unique<L>());
  }

  L& operator[](std::size_t i) { return static_cast<L&>(*loops_[i]); }
  const L& operator[](std::size_t i) const { return static_cast<const L&>(*loops_[i]); }
  // Connection `index`'s loop: connections are spread over the loops round robin.
  L& for_index(std::size_t index) { return (*this)[index % size()]; }

  // Runs `fn(loop)` on every loop's own thread and waits for all of them.
  template <typename Fn>
  void on_each_loop(Fn fn) {
    run_on_each([&fn](EventLoop& loop) { fn(static_cast<L&>(loop)); });
  }

  // Runs `fn(conn, i)` for every connection conns[i], on its own loop's thread (conn->loop), and
  // waits for all of them.
  template <typename Conn, typename Fn>
  void on_each_conn(const std::vector<Conn*>& conns, Fn fn) {
    on_each_loop([&conns, &fn](L& loop) {
      for (std::size_t i = 0; i < conns.size(); ++i) {
        if (conns[i]->loop == &loop) fn(*conns[i], i);
      }
    });
  }
};

// A run's loops and its connections, spread over the loops round robin. Conn is built from
// (L&, index); L keeps its own connections in a `conns` list. The connections go first, so their
// sockets close while their io_contexts still exist.
template <typename L, typename Conn>
class LoopsWithConns {
 public:
  explicit LoopsWithConns(unsigned threads) : loops_(threads) {}
  LoopsWithConns(const LoopsWithConns&) = delete;
  LoopsWithConns& operator=(const LoopsWithConns&) = delete;
  ~LoopsWithConns() {
    loops_.stop();
    conns_.clear();
  }

  EventLoops<L>& loops() { return loops_; }

  std::vector<Conn*> add_conns(std::size_t count) {
    std::vector<Conn*> added;
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t index = conns_.size();
      L& loop = loops_.for_index(index);
      conns_.push_back(std::make_unique<Conn>(loop, index));
      loop.conns.push_back(conns_.back().get());
      added.push_back(conns_.back().get());
    }
    return added;
  }

  std::vector<Conn*> all_conns() const {
    std::vector<Conn*> all;
    for (const auto& c : conns_) all.push_back(c.get());
    return all;
  }

 private:
  EventLoops<L> loops_;
  std::vector<std::unique_ptr<Conn>> conns_;
};

// Runs config.scenario with one of a driver's scripts (relay and group share one), each given the
// driver's runner and a report already naming `target` and the scenario.
template <typename Runner>
using ScenarioScript = Result<ScenarioReport> (*)(Runner&, ScenarioReport);
template <typename Runner>
Result<ScenarioReport> run_scenario(Runner& runner, Target target, const LoadConfig& config,
                                    ScenarioScript<Runner> traffic, ScenarioScript<Runner> idle,
                                    ScenarioScript<Runner> offline) {
  ScenarioReport report;
  report.target = target;
  report.scenario = config.scenario;
  switch (config.scenario) {
    case Scenario::kRelay:
    case Scenario::kGroup:
      return traffic(runner, std::move(report));
    case Scenario::kIdle:
      return idle(runner, std::move(report));
    case Scenario::kOffline:
      return offline(runner, std::move(report));
  }
  return Status::error(ErrorCode::kInvalidArgument, "unknown scenario");
}

// Waits until the setups counted from `base` (a settled() value before they started) reach
// `count`, or `timeout` passes (kTimeout). Returns the seconds since `start_ns`.
Result<double> wait_set_up(const SetupCounts& counts, std::uint64_t base, std::size_t count,
                           std::uint64_t start_ns, std::chrono::milliseconds timeout);

// Sets up every connection in `conns`: `start(conn)` runs on the connection's loop as a setup slot
// frees (the connection then calls its loop's setup_ended() and counts itself into `counts`).
// Waits until all are ready or failed, or `timeout` passes. Returns the seconds it took.
template <typename L, typename Conn, typename Start>
Result<double> set_up(EventLoops<L>& loops, SetupCounts& counts, std::chrono::milliseconds timeout,
                      const std::vector<Conn*>& conns, Start start) {
  const std::uint64_t start_ns = steady_now_ns();
  const std::uint64_t base = counts.settled();
  loops.on_each_loop([&conns, &start](L& loop) {
    for (Conn* c : conns) {
      if (c->loop == &loop) loop.to_set_up.push_back([start, c] { start(*c); });
    }
    loop.start_setups();
  });
  return wait_set_up(counts, base, conns.size(), start_ns, timeout);
}

// Polls `done` every `poll` until it holds (true) or `deadline` passes (its last answer).
bool wait_until(const std::function<bool()>& done, std::chrono::steady_clock::time_point deadline,
                std::chrono::steady_clock::duration poll);

// Sleeps until `t_ns` on the steady clock (steady_now_ns()).
void sleep_until_ns(std::uint64_t t_ns);
// Seconds from `from_ns` to `to_ns` (0 if `to_ns` is not later).
double seconds_between(std::uint64_t from_ns, std::uint64_t to_ns);

// The local addresses of config.source_addresses (kInvalidArgument: one is not an IP address).
Result<std::vector<boost::asio::ip::address>> parse_sources(const LoadConfig& config);

// Samples the server (config.server_pid, when set), this process and the kernel's slab into the
// report's "before" or "after" fields. Returns whether the server was sampled (and then sets
// report.has_server).
enum class Edge { kBefore, kAfter };
bool sample_edge(const LoadConfig& config, ScenarioReport& report, Edge edge);

// Sleeps through `window`, sampling at its start and end; sets report.seconds. Returns whether
// the server was sampled both times.
bool measure_window(const LoadConfig& config, const MeasuredWindow& window, ScenarioReport& report);

// kUnavailable: `failed` connections failed to set up (and the first note, which says why).
Status setup_failed(std::uint64_t failed, const ScenarioReport& report);

// offline's totals, where every message counts (the window is the whole run): sent = `accepted`,
// the drain rate, and a note when fewer than `owed` arrived.
void add_offline_totals(ScenarioReport& report, std::uint64_t accepted, std::uint64_t owed);

// idle: what each of `connections` costs the server (RSS and kernel slab, after minus before) and
// this process, into report.extra. Nothing when there are none.
void add_per_connection_costs(ScenarioReport& report, std::uint64_t connections);

}  // namespace parley::load
