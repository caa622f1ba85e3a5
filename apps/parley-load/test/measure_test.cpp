// SPDX-License-Identifier: AGPL-3.0-or-later
#include "measure.h"

#include <gtest/gtest.h>

#include "drivers.h"
#include "load_config.h"

namespace parley::load {
namespace {

using namespace std::chrono_literals;

TEST(MeasuredWindow, StartsAfterTheWarmupAndLastsTheDuration) {
  LoadConfig config;
  config.warmup = 2s;
  config.duration = 10s;
  const auto window = MeasuredWindow::after_warmup(config, 1'000);
  EXPECT_EQ(window.start_ns, 1'000 + 2'000'000'000ull);
  EXPECT_EQ(window.end_ns, window.start_ns + 10'000'000'000ull);
  EXPECT_DOUBLE_EQ(window.seconds(), 10.0);
  EXPECT_FALSE(window.contains(window.start_ns - 1));
  EXPECT_TRUE(window.contains(window.start_ns));
  EXPECT_FALSE(window.contains(window.end_ns));
}

TEST(Pacing, FlatOutWithoutARate) {
  LoadConfig config;
  EXPECT_TRUE(Pacing::for_sender(config, 10, 3).flat_out());
}

TEST(Pacing, SendersShareTheRateAndStartSpreadOverOneInterval) {
  LoadConfig config;
  config.rate = 1000;  // messages/s over 10 senders: 100/s each, one every 10 ms
  const Pacing first = Pacing::for_sender(config, 10, 0);
  const Pacing fifth = Pacing::for_sender(config, 10, 5);
  EXPECT_EQ(first.interval, 10ms);
  EXPECT_EQ(first.first_offset, 0ms);
  EXPECT_EQ(fifth.first_offset, 5ms);
  EXPECT_FALSE(first.flat_out());
}

TEST(StreamTracker, CountsInWindowLatencyAndDuplicates) {
  MeasuredWindow window{1'000, 2'000};
  Tally tally;
  StreamTracker stream;
  EXPECT_TRUE(stream.on_receive(500, 1, 900, window, tally));       // warm-up: not in the window
  EXPECT_TRUE(stream.on_receive(1'100, 2, 1'400, window, tally));   // 300 ns
  EXPECT_TRUE(stream.on_receive(1'200, 3, 1'300, window, tally));   // 100 ns
  EXPECT_FALSE(stream.on_receive(1'200, 3, 1'350, window, tally));  // the same again
  EXPECT_FALSE(stream.on_receive(1'100, 2, 1'500, window, tally));  // an older one again
  EXPECT_TRUE(stream.on_receive(2'100, 4, 2'200, window, tally));   // after the window
  EXPECT_EQ(tally.delivered_total, 4u);
  EXPECT_EQ(tally.delivered_in_window, 2u);
  EXPECT_EQ(tally.duplicates, 2u);
  EXPECT_EQ(tally.latency.count(), 2u);
  EXPECT_EQ(tally.latency.min(), 100u);
  EXPECT_EQ(tally.latency.max(), 300u);
}

TEST(Tally, MergeAddsEverything) {
  Tally a, b;
  a.sent_in_window = 1;
  a.errors = 2;
  a.latency.record(10);
  b.sent_in_window = 3;
  b.duplicates = 4;
  b.delivered_total = 5;
  b.delivered_in_window = 6;
  b.latency.record(20);
  a.merge(b);
  EXPECT_EQ(a.sent_in_window, 4u);
  EXPECT_EQ(a.errors, 2u);
  EXPECT_EQ(a.duplicates, 4u);
  EXPECT_EQ(a.delivered_total, 5u);
  EXPECT_EQ(a.delivered_in_window, 6u);
  EXPECT_EQ(a.latency.count(), 2u);
}

TEST(Payload, CarriesTimeAndNumberAtAnySize) {
  for (std::size_t size : {16u, 17u, 300u, 4096u}) {
    const std::string payload = make_payload(size, 0x0102030405060708ull, 42);
    EXPECT_EQ(payload.size(), size);
    auto stamp = read_payload(payload);
    ASSERT_TRUE(stamp.ok());
    EXPECT_EQ(stamp->send_time_ns, 0x0102030405060708ull);
    EXPECT_EQ(stamp->number, 42u);
  }
  EXPECT_EQ(make_payload(3, 1, 1).size(), 16u);  // never shorter than its stamp
  EXPECT_FALSE(read_payload("short").ok());
}

TEST(ParseDuration, AcceptsUnitsAndRefusesTheRest) {
  EXPECT_EQ(*parse_duration("1500ms"), 1500ms);
  EXPECT_EQ(*parse_duration("10s"), 10s);
  EXPECT_EQ(*parse_duration("2m"), 120s);
  EXPECT_EQ(*parse_duration("250"), 250ms);
  for (const char* bad : {"", "s", "10h", "-1s", "1.5s", "99999999999999999999s", "10 s"}) {
    EXPECT_FALSE(parse_duration(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace parley::load
