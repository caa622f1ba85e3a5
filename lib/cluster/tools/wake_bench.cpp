// SPDX-License-Identifier: AGPL-3.0-or-later
// Wake-ups for one group message in cluster mode: RedisClusterBus::wake() once per device (one
// blocking SPUBLISH round trip each, what notify_stored did before wake_many) against
// RedisClusterBus::wake_many() (one pipelined batch, one round trip per master), in the same run,
// against a throwaway 3-master Redis Cluster on 127.0.0.1 (started like the tests start it).
//
// A second bus ("node-b", its own client) has every device attached, as the node holding the
// devices' connections would; after each timed call the program waits (untimed) until node-b has
// received every wake-up, so a batch that loses some ends the run with an error instead of a fast
// number, and the next call starts on a quiet cluster. The two sides alternate, the order flipped
// every repetition; the table gives medians of the wall time the calling thread was blocked (a
// worker thread in parleyd) and of its CPU time.
//
//   parley_cluster_wake_bench [repetitions=21] [sizes=1,100,1000]

#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "parley/cluster/redis_cluster_bus.h"
#include "redis_cluster_process.h"

using namespace parley;

namespace {

using Clock = std::chrono::steady_clock;

int fail(const std::string& what) {
  (void)std::fprintf(stderr, "error: %s\n", what.c_str());
  return 1;
}

double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// Wake-ups node-b has received, and a wait for a given count.
class Received {
 public:
  void add() {
    std::lock_guard lock(mutex_);
    ++count_;
    changed_.notify_all();
  }
  std::uint64_t count() {
    std::lock_guard lock(mutex_);
    return count_;
  }
  bool wait_for(std::uint64_t target, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return count_ >= target; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t count_ = 0;
};

struct Sample {
  double wall_us = 0;
  double cpu_us = 0;
};

std::vector<std::size_t> parse_sizes(const char* text) {
  std::vector<std::size_t> sizes;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    std::size_t n = std::strtoul(item.c_str(), nullptr, 10);
    if (n > 0) sizes.push_back(n);
  }
  return sizes;
}

int run(int argc, char** argv) {
  const int repetitions = argc > 1 ? std::max(1, std::atoi(argv[1])) : 21;
  const std::vector<std::size_t> sizes = parse_sizes(argc > 2 ? argv[2] : "1,100,1000");
  if (sizes.empty()) return fail("no device counts given");
  const std::size_t devices_needed = *std::max_element(sizes.begin(), sizes.end());

  auto started = redis::test::RedisClusterProcess::start({.masters = 3, .replicas = false});
  if (!started.ok()) return fail(started.status().to_string());
  auto sender_client = redis::RedisCluster::connect((*started)->seeds());
  auto receiver_client = redis::RedisCluster::connect((*started)->seeds());
  if (!sender_client.ok()) return fail(sender_client.status().to_string());
  if (!receiver_client.ok()) return fail(receiver_client.status().to_string());
  cluster::RedisClusterBusOptions sender_options;
  sender_options.node_id = "node-a";
  cluster::RedisClusterBusOptions receiver_options;
  receiver_options.node_id = "node-b";
  cluster::RedisClusterBus sender(**sender_client, sender_options);
  cluster::RedisClusterBus receiver(**receiver_client, receiver_options);

  Received received;
  std::vector<store::DeviceAddress> devices(devices_needed);
  for (std::size_t i = 0; i < devices_needed; ++i) {
    devices[i].account_id[0] = 0xbe;
    devices[i].account_id[14] = static_cast<std::uint8_t>(i >> 8);
    devices[i].account_id[15] = static_cast<std::uint8_t>(i);
    devices[i].device_id = 1;
    server::ClusterBus::Callbacks callbacks;
    callbacks.on_wake = [&received] { received.add(); };
    callbacks.on_replaced = [] {};
    callbacks.on_notice = [](const server::DeviceNotice&) {};
    if (Status s = receiver.attach(devices[i], i + 1, std::move(callbacks)); !s.ok()) {
      return fail("attach: " + s.to_string());
    }
  }

  // One timed call, then the untimed wait until node-b has every wake-up of it.
  std::string error;
  auto measure = [&](const std::function<void()>& call, std::size_t n) -> Sample {
    const std::uint64_t target = received.count() + n;
    const double cpu_before = thread_cpu_us();
    const auto wall_before = Clock::now();
    call();
    Sample sample;
    sample.wall_us = std::chrono::duration<double, std::micro>(Clock::now() - wall_before).count();
    sample.cpu_us = thread_cpu_us() - cpu_before;
    if (!received.wait_for(target, std::chrono::seconds(10)) && error.empty()) {
      error = "node-b did not receive every wake-up of " + std::to_string(n);
    }
    return sample;
  };

  (void)std::printf("parley_cluster_wake_bench: %d repetitions, %u cores, load average %s\n",
                    repetitions, std::thread::hardware_concurrency(), load_average().c_str());
  (void)std::printf("%6s  %14s %14s  %14s %14s  %12s %10s\n", "N", "one-by-one", "(cpu)",
                    "wake_many", "(cpu)", "us/device", "ratio");
  for (std::size_t n : sizes) {
    const std::vector<store::DeviceAddress> batch(devices.begin(),
                                                  devices.begin() + static_cast<long>(n));
    auto one_by_one = [&] {
      for (const store::DeviceAddress& device : batch) sender.wake(device);
    };
    auto pipelined = [&] { sender.wake_many(batch); };
    // Warm-up: pooled connections to every master on both paths.
    (void)measure(one_by_one, n);
    (void)measure(pipelined, n);
    std::vector<double> loop_wall, loop_cpu, many_wall, many_cpu;
    for (int r = 0; r < repetitions; ++r) {
      const bool loop_first = r % 2 == 0;
      for (int side = 0; side < 2; ++side) {
        if ((side == 0) == loop_first) {
          Sample s = measure(one_by_one, n);
          loop_wall.push_back(s.wall_us);
          loop_cpu.push_back(s.cpu_us);
        } else {
          Sample s = measure(pipelined, n);
          many_wall.push_back(s.wall_us);
          many_cpu.push_back(s.cpu_us);
        }
      }
    }
    if (!error.empty()) return fail(error);
    const double loop_us = median(loop_wall);
    const double many_us = median(many_wall);
    (void)std::printf("%6zu  %11.0f us %11.0f us  %11.0f us %11.0f us  %5.1f / %4.1f %9.1fx\n", n,
                      loop_us, median(loop_cpu), many_us, median(many_cpu),
                      loop_us / static_cast<double>(n), many_us / static_cast<double>(n),
                      loop_us / many_us);
  }

  const cluster::RedisClusterBusStats stats = sender.stats();
  (void)std::printf("wakes published %llu, errors %llu; received on node-b %llu\n",
                    static_cast<unsigned long long>(stats.wakes_published),
                    static_cast<unsigned long long>(stats.wake_errors),
                    static_cast<unsigned long long>(received.count()));
  if (stats.wake_errors != 0) return fail("some wake-ups failed");
  for (std::size_t i = 0; i < devices_needed; ++i) receiver.detach(devices[i], i + 1);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run(argc, argv);
}
