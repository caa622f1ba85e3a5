// SPDX-License-Identifier: AGPL-3.0-or-later
//
// The MQTT 3.1.1 driver: parley-load's scenarios against a broker (mosquitto in bench/run.sh),
// over plain TCP, QoS 1 both ways, persistent sessions (clean session = false) so that a message
// is held for a device that is away, the way Parley's mailboxes hold it.
//
// This file holds the scenarios and run_mqtt; one connection (its state machine and counters) is
// mqtt_client.h. One io_context per thread, connections spread over them round robin. The main
// thread runs the phases: it posts commands to the clients' loops, watches shared atomic counters,
// samples /proc at the measured window's edges, and gives every phase a deadline.
//
//   relay:   2 × pairs clients; client i subscribes to parley-load/<prefix><i> and publishes to
//            its partner's topic (pairs (2k, 2k+1)); flat out (`window` PUBLISHes awaiting PUBACK)
//            or paced; warm-up, measured window, drain, disconnect.
//   idle:    `connections` clients connected and subscribed, PINGREQ every keepalive.
//   offline: receivers subscribe and leave; senders fill their sessions; the receivers come back
//            and drain (drain_messages_per_second).
//   group:   one sender, `group_size` subscribers of one topic.

#include <utility>  // before Asio: Boost 1.74 + GCC 12 need std::exchange declared
//
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "drivers.h"
#include "event_loops.h"
#include "measure.h"
#include "mqtt_client.h"

namespace parley::load {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

using mqtt_client::Client;
using mqtt_client::ClientSpec;
using mqtt_client::kNever;
using mqtt_client::Loop;
using mqtt_client::Shared;

constexpr auto kDrainLimit = std::chrono::seconds(5);  // relay/group: after sending stops
constexpr auto kCloseLimit = std::chrono::seconds(3);
constexpr auto kPoll = std::chrono::milliseconds(1);
constexpr std::size_t kSetupsInFlight = 100;

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
