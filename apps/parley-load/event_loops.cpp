// SPDX-License-Identifier: AGPL-3.0-or-later
// The drivers' shared scaffolding (event_loops.h). An Asio file: it runs the io_contexts.

#include "event_loops.h"

#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "proc_stats.h"

namespace parley::load {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

void EventLoop::note_error(const std::string& text) {
  ++tally.errors;
  if (first_error.empty()) first_error = text;
}

void EventLoop::start_setups() {
  while (setting_up < kSetupsAtOnce && !to_set_up.empty()) {
    std::function<void()> start = std::move(to_set_up.front());
    to_set_up.pop_front();
    ++setting_up;
    start();
  }
}

void EventLoop::setup_ended() {
  if (setting_up > 0) --setting_up;
  start_setups();
}

void EventLoopSet::start(ExceptionHandler on_exception) {
  for (auto& loop : loops_) {
    loop->thread = std::thread([&loop = *loop, on_exception] {
      auto guard = asio::make_work_guard(loop.io);
      for (;;) {
        try {
          loop.io.run();
          return;
        } catch (const std::exception& e) {
          if (!on_exception) throw;
          on_exception(loop, e);  // and the loop runs on
        }
      }
    });
  }
}

void EventLoopSet::stop() {
  for (auto& loop : loops_) loop->io.stop();
  for (auto& loop : loops_) {
    if (loop->thread.joinable()) loop->thread.join();
  }
}

void EventLoopSet::run_on_each(const std::function<void(EventLoop&)>& fn) {
  std::atomic<std::size_t> done{0};
  for (auto& loop : loops_) {
    asio::post(loop->io, [&fn, &done, l = loop.get()] {
      fn(*l);
      done.fetch_add(1);
    });
  }
  while (done.load() < loops_.size()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

Tally EventLoopSet::fold_into(ScenarioReport& report) const {
  Tally total;
  std::uint64_t skipped = 0;
  for (const auto& loop : loops_) {
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
  if (skipped > 0) report.extra["paced_sends_skipped"] = static_cast<double>(skipped);
  return total;
}

Result<double> wait_set_up(const SetupCounts& counts, std::uint64_t base, std::size_t count,
                           std::uint64_t start_ns, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (counts.settled() - base < count) {
    if (Clock::now() > deadline) {
      return Status::error(ErrorCode::kTimeout,
                           "connections not ready within the connect timeout (" +
                               std::to_string(counts.settled() - base) + " of " +
                               std::to_string(count) + " done)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return seconds_between(start_ns, steady_now_ns());
}

bool wait_until(const std::function<bool()>& done, Clock::time_point deadline,
                Clock::duration poll) {
  while (!done()) {
    if (Clock::now() >= deadline) return done();
    std::this_thread::sleep_for(poll);
  }
  return true;
}

void sleep_until_ns(std::uint64_t t_ns) {
  const std::uint64_t now = steady_now_ns();
  if (t_ns > now) std::this_thread::sleep_for(std::chrono::nanoseconds(t_ns - now));
}

double seconds_between(std::uint64_t from_ns, std::uint64_t to_ns) {
  return to_ns > from_ns ? static_cast<double>(to_ns - from_ns) / 1e9 : 0;
}

Result<std::vector<asio::ip::address>> parse_sources(const LoadConfig& config) {
  std::vector<asio::ip::address> sources;
  for (const auto& text : config.source_addresses) {
    boost::system::error_code ec;
    sources.push_back(asio::ip::make_address(text, ec));
    if (ec) return Status::error(ErrorCode::kInvalidArgument, "a source address is not an IP");
  }
  return sources;
}

bool sample_edge(const LoadConfig& config, ScenarioReport& report, Edge edge) {
  const bool before = edge == Edge::kBefore;
  bool server_sampled = false;
  if (config.server_pid > 0) {
    auto server = sample_process(config.server_pid);
    if (server.ok()) {
      (before ? report.server_before : report.server_after) = *server;
      report.has_server = true;
      server_sampled = true;
    }
  }
  auto self = sample_process(::getpid());
  if (self.ok()) (before ? report.client_before : report.client_after) = *self;
  (before ? report.slab_before : report.slab_after) = kernel_slab_bytes();
  return server_sampled;
}

bool measure_window(const LoadConfig& config, const MeasuredWindow& window,
                    ScenarioReport& report) {
  sleep_until_ns(window.start_ns);
  const bool sampled_before = sample_edge(config, report, Edge::kBefore);
  sleep_until_ns(window.end_ns);
  const bool sampled_after = sample_edge(config, report, Edge::kAfter);
  report.seconds = window.seconds();
  return sampled_before && sampled_after;
}

Status setup_failed(std::uint64_t failed, const ScenarioReport& report) {
  return Status::error(ErrorCode::kUnavailable,
                       std::to_string(failed) + " connections failed to set up" +
                           (report.notes.empty() ? std::string() : ": " + report.notes.front()));
}

void add_offline_totals(ScenarioReport& report, std::uint64_t accepted, std::uint64_t owed) {
  report.sent = accepted;
  report.extra["drain_messages_per_second"] =
      static_cast<double>(report.delivered) / report.seconds;
  if (report.delivered < owed) {
    report.notes.push_back(std::to_string(owed - report.delivered) + " messages never arrived");
  }
}

void add_per_connection_costs(ScenarioReport& report, std::uint64_t connections) {
  if (connections == 0) return;
  const double n = static_cast<double>(connections);
  report.extra["server_rss_per_connection_bytes"] =
      (static_cast<double>(report.server_after.rss_bytes) -
       static_cast<double>(report.server_before.rss_bytes)) /
      n;
  report.extra["kernel_slab_per_connection_bytes"] =
      (static_cast<double>(report.slab_after) - static_cast<double>(report.slab_before)) / n;
  report.extra["client_rss_per_connection_bytes"] =
      static_cast<double>(report.client_after.rss_bytes) / n;
}

}  // namespace parley::load
