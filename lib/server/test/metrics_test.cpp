// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/server/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace parley::server {
namespace {

TEST(Metrics, CountersAccumulatePerLabelSet) {
  Metrics m;
  m.describe("parley_errors_total", Metrics::Type::kCounter, "Errors by code.");
  m.increment("parley_errors_total", "code=\"301\"");
  m.increment("parley_errors_total", "code=\"301\"", 2);
  m.increment("parley_errors_total", "code=\"200\"");
  EXPECT_EQ(m.value("parley_errors_total", "code=\"301\""), 3);
  EXPECT_EQ(m.value("parley_errors_total", "code=\"999\""), 0);
  std::string text = m.render_prometheus();
  EXPECT_NE(text.find("# HELP parley_errors_total Errors by code.\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE parley_errors_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("parley_errors_total{code=\"301\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("parley_errors_total{code=\"200\"} 1\n"), std::string::npos);
}

TEST(Metrics, GaugesSetAndAdd) {
  Metrics m;
  m.set_gauge("parley_connections", "", 5);
  m.add_gauge("parley_connections", "", -2);
  EXPECT_EQ(m.value("parley_connections"), 3);
  EXPECT_NE(m.render_prometheus().find("# TYPE parley_connections gauge\nparley_connections 3\n"),
            std::string::npos);
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Metrics m;
  m.describe("parley_fsync_seconds", Metrics::Type::kHistogram, "fsync latency.", {0.001, 0.01});
  m.observe("parley_fsync_seconds", "", 0.0005);
  m.observe("parley_fsync_seconds", "", 0.0075);
  m.observe("parley_fsync_seconds", "", 0.5);
  std::string text = m.render_prometheus();
  EXPECT_NE(text.find("parley_fsync_seconds_bucket{le=\"0.001\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("parley_fsync_seconds_bucket{le=\"0.01\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("parley_fsync_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("parley_fsync_seconds_count 3\n"), std::string::npos);
  EXPECT_NE(text.find("parley_fsync_seconds_sum 0.508\n"), std::string::npos);
}

TEST(Metrics, CollectorsRunAtEachRender) {
  Metrics m;
  double engine_counter = 7;  // a value kept elsewhere, e.g. by the storage engine
  m.add_collector([&](Metrics& registry) {
    registry.set_counter("parley_store_wal_syncs_total", "", engine_counter);
  });
  EXPECT_NE(m.render_prometheus().find("# TYPE parley_store_wal_syncs_total counter\n"
                                       "parley_store_wal_syncs_total 7\n"),
            std::string::npos);
  engine_counter = 9;
  EXPECT_NE(m.render_prometheus().find("parley_store_wal_syncs_total 9\n"), std::string::npos);
  EXPECT_EQ(m.value("parley_store_wal_syncs_total"), 9);
}

TEST(Metrics, ConcurrentIncrementsAreNotLost) {
  Metrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) m.increment("parley_frames_total");
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(m.value("parley_frames_total"), 40000);
}

}  // namespace
}  // namespace parley::server
