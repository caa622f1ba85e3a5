// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/server/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>

namespace parley::server {
namespace {

const char* type_name(Metrics::Type type) {
  switch (type) {
    case Metrics::Type::kCounter:
      return "counter";
    case Metrics::Type::kGauge:
      return "gauge";
    case Metrics::Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

std::string format_number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);  // shortest round-trip
  return ec == std::errc() ? std::string(buffer, end) : std::string("NaN");
}

// `name{labels}` or `name` when there are none; `extra` is appended inside the braces.
std::string series(std::string_view name, std::string_view labels, std::string_view extra = {}) {
  std::string out(name);
  if (labels.empty() && extra.empty()) return out;
  out += '{';
  out += labels;
  if (!labels.empty() && !extra.empty()) out += ',';
  out += extra;
  out += '}';
  return out;
}

// Seconds, from half a millisecond (a fast fsync) to a few seconds (a stuck disk).
constexpr double kDefaultBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                      0.05,   0.1,   0.25,   0.5,   1,    2.5};

}  // namespace

Metrics::Family& Metrics::family(std::string_view name, Type default_type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{}).first;
    it->second.type = default_type;
    if (default_type == Type::kHistogram) {
      it->second.buckets.assign(std::begin(kDefaultBuckets), std::end(kDefaultBuckets));
    }
  }
  return it->second;
}

void Metrics::describe(std::string_view name, Type type, std::string_view help,
                       std::vector<double> buckets) {
  std::lock_guard lock(mutex_);
  Family& f = family(name, type);
  f.type = type;
  f.help = std::string(help);
  if (type == Type::kHistogram) {
    if (buckets.empty()) {
      f.buckets.assign(std::begin(kDefaultBuckets), std::end(kDefaultBuckets));
    } else {
      f.buckets = std::move(buckets);
    }
    std::sort(f.buckets.begin(), f.buckets.end());
  }
}

void Metrics::increment(std::string_view name, std::string_view labels, std::uint64_t by) {
  std::lock_guard lock(mutex_);
  Family& f = family(name, Type::kCounter);
  auto it = f.values.find(labels);
  if (it == f.values.end()) it = f.values.emplace(std::string(labels), 0.0).first;
  it->second += static_cast<double>(by);
}

void Metrics::set_counter(std::string_view name, std::string_view labels, double value) {
  std::lock_guard lock(mutex_);
  Family& f = family(name, Type::kCounter);
  f.values.insert_or_assign(std::string(labels), value);
}

void Metrics::add_collector(std::function<void(Metrics&)> collector) {
  std::lock_guard lock(collectors_mutex_);
  collectors_.push_back(std::move(collector));
}

void Metrics::set_gauge(std::string_view name, std::string_view labels, double value) {
  std::lock_guard lock(mutex_);
  Family& f = family(name, Type::kGauge);
  f.values.insert_or_assign(std::string(labels), value);
}

void Metrics::add_gauge(std::string_view name, std::string_view labels, double delta) {
  std::lock_guard lock(mutex_);
  Family& f = family(name, Type::kGauge);
  auto it = f.values.find(labels);
  if (it == f.values.end()) it = f.values.emplace(std::string(labels), 0.0).first;
  it->second += delta;
}

void Metrics::observe(std::string_view name, std::string_view labels, double value) {
  std::lock_guard lock(mutex_);
  Family& f = family(name, Type::kHistogram);
  auto it = f.histograms.find(labels);
  if (it == f.histograms.end()) {
    it = f.histograms.emplace(std::string(labels), Histogram{}).first;
    it->second.bucket_counts.assign(f.buckets.size(), 0);
  }
  Histogram& h = it->second;
  for (std::size_t i = 0; i < f.buckets.size(); ++i) {
    if (value <= f.buckets[i]) {
      ++h.bucket_counts[i];
      break;
    }
  }
  ++h.count;
  h.sum += value;
}

double Metrics::value(std::string_view name, std::string_view labels) const {
  std::lock_guard lock(mutex_);
  auto f = families_.find(name);
  if (f == families_.end()) return 0;
  auto v = f->second.values.find(labels);
  return v == f->second.values.end() ? 0 : v->second;
}

std::string Metrics::render_prometheus() {
  {
    std::lock_guard collecting(collectors_mutex_);
    for (const auto& collector : collectors_) collector(*this);  // takes mutex_ itself
  }
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, f] : families_) {
    if (!f.help.empty()) out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + " " + type_name(f.type) + "\n";
    for (const auto& [labels, value] : f.values) {
      out += series(name, labels) + " " + format_number(value) + "\n";
    }
    for (const auto& [labels, h] : f.histograms) {
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < f.buckets.size(); ++i) {
        cumulative += h.bucket_counts[i];
        out += series(name + "_bucket", labels, "le=\"" + format_number(f.buckets[i]) + "\"") +
               " " + std::to_string(cumulative) + "\n";
      }
      out += series(name + "_bucket", labels, "le=\"+Inf\"") + " " + std::to_string(h.count) + "\n";
      out += series(name + "_sum", labels) + " " + format_number(h.sum) + "\n";
      out += series(name + "_count", labels) + " " + std::to_string(h.count) + "\n";
    }
  }
  return out;
}

}  // namespace parley::server
