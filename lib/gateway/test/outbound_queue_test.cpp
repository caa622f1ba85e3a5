// SPDX-License-Identifier: AGPL-3.0-or-later
#include "outbound_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace parley::gateway {
namespace {

std::shared_ptr<const Bytes> frame(std::size_t size, std::uint8_t fill = 0) {
  return std::make_shared<const Bytes>(size, fill);
}

TEST(OutboundQueue, DeliversInOrderAndWakesOnlyWhenEmpty) {
  int wakes = 0;
  OutboundQueue queue({.max_frames = 10, .max_bytes = 1000}, [&] { ++wakes; });
  EXPECT_TRUE(queue.send(frame(1, 1)));
  EXPECT_TRUE(queue.send(frame(2, 2)));
  EXPECT_TRUE(queue.send(frame(3, 3)));
  EXPECT_EQ(wakes, 1);  // the writer was idle only before the first frame
  EXPECT_EQ(queue.queued_frames(), 3u);
  EXPECT_EQ(queue.queued_bytes(), 6u);
  EXPECT_EQ(queue.pop()->size(), 1u);
  EXPECT_EQ(queue.pop()->size(), 2u);
  EXPECT_EQ(queue.pop()->size(), 3u);
  EXPECT_EQ(queue.pop(), nullptr);
  EXPECT_TRUE(queue.send(frame(4)));
  EXPECT_EQ(wakes, 2);
}

TEST(OutboundQueue, FullByCountOverflowsAndRefusesEverythingAfter) {
  int wakes = 0;
  OutboundQueue queue({.max_frames = 2, .max_bytes = 1000}, [&] { ++wakes; });
  EXPECT_TRUE(queue.send(frame(1)));
  EXPECT_TRUE(queue.send(frame(1)));
  EXPECT_FALSE(queue.overflowed());
  EXPECT_FALSE(queue.send(frame(1)));
  EXPECT_TRUE(queue.overflowed());
  EXPECT_EQ(wakes, 2);  // the overflow wakes the writer so it drops the connection
  EXPECT_EQ(queue.queued_frames(), 0u);
  EXPECT_FALSE(queue.send(frame(1)));
}

TEST(OutboundQueue, FullByBytesOverflows) {
  OutboundQueue queue({.max_frames = 100, .max_bytes = 10}, [] {});
  EXPECT_TRUE(queue.send(frame(6)));
  EXPECT_FALSE(queue.send(frame(5)));
  EXPECT_TRUE(queue.overflowed());
}

TEST(OutboundQueue, CloseKeepsQueuedFramesButRefusesNewOnes) {
  int wakes = 0;
  OutboundQueue queue({}, [&] { ++wakes; });
  EXPECT_TRUE(queue.send(frame(1)));
  queue.close(ErrorCode::kProtocolViolation);
  EXPECT_FALSE(queue.send(frame(1)));
  ErrorCode reason = ErrorCode::kOk;
  EXPECT_TRUE(queue.close_requested(&reason));
  EXPECT_EQ(reason, ErrorCode::kProtocolViolation);
  EXPECT_NE(queue.pop(), nullptr);  // flushed before the close
  EXPECT_EQ(wakes, 2);
}

TEST(OutboundQueue, ShutdownDropsFramesAndNeverWakesAgain) {
  int wakes = 0;
  OutboundQueue queue({}, [&] { ++wakes; });
  EXPECT_TRUE(queue.send(frame(1)));
  queue.shutdown();
  EXPECT_TRUE(queue.is_shut_down());
  EXPECT_EQ(queue.pop(), nullptr);
  EXPECT_FALSE(queue.send(frame(1)));
  queue.close(ErrorCode::kOk);
  EXPECT_EQ(wakes, 1);
}

TEST(OutboundQueue, ConcurrentSendersNeverExceedTheLimit) {
  std::atomic<int> wakes{0};
  OutboundQueue queue({.max_frames = 1000, .max_bytes = 1 << 20}, [&] { ++wakes; });
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 400; ++i) accepted += queue.send(frame(1)) ? 1 : 0;
    });
  }
  for (auto& thread : threads) thread.join();
  // 1600 offered, room for 1000: the 1001st overflows the queue and empties it.
  EXPECT_TRUE(queue.overflowed());
  EXPECT_EQ(accepted.load(), 1000);
  EXPECT_EQ(queue.queued_frames(), 0u);
}

}  // namespace
}  // namespace parley::gateway
