// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// A small thread-safe metrics registry rendered in Prometheus text format for the admin
// endpoint (/metrics). Labels are passed preformatted (`code="301"`) and must never contain user
// data: no account ids, usernames or addresses.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace parley::server {

class Metrics {
 public:
  enum class Type { kCounter, kGauge, kHistogram };

  // Declares a metric's type and help text (shown as # HELP / # TYPE). Optional for counters;
  // required before observe() to choose the histogram's bucket bounds.
  void describe(std::string_view name, Type type, std::string_view help,
                std::vector<double> buckets = {});

  void increment(std::string_view name, std::string_view labels = {}, std::uint64_t by = 1);
  // Sets a counter to a cumulative value kept elsewhere (e.g. a storage engine's ticker).
  void set_counter(std::string_view name, std::string_view labels, double value);
  void set_gauge(std::string_view name, std::string_view labels, double value);
  void add_gauge(std::string_view name, std::string_view labels, double delta);
  void observe(std::string_view name, std::string_view labels, double value);

  // Current value of a counter or gauge (0 when absent): for tests and health checks.
  double value(std::string_view name, std::string_view labels = {}) const;

  // Registers a function that render_prometheus() runs first, to copy values that live elsewhere
  // (storage-engine counters, queue depths) into the registry at scrape time instead of on every
  // change. Collectors must outlive the registry's last render.
  void add_collector(std::function<void(Metrics&)> collector);

  // Runs the collectors, then renders every family.
  std::string render_prometheus();

 private:
  struct Histogram {
    std::vector<std::uint64_t> bucket_counts;  // one per bound, cumulative on render
    std::uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    Type type = Type::kCounter;
    std::string help;
    std::vector<double> buckets;
    std::map<std::string, double, std::less<>> values;  // by label set
    std::map<std::string, Histogram, std::less<>> histograms;
  };

  Family& family(std::string_view name, Type default_type);

  std::mutex collectors_mutex_;  // held while collectors run, so two scrapes never interleave
  std::vector<std::function<void(Metrics&)>> collectors_;
  mutable std::mutex mutex_;
  std::map<std::string, Family, std::less<>> families_;
};

}  // namespace parley::server
