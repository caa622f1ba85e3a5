// SPDX-License-Identifier: AGPL-3.0-or-later
#include "progress.h"

#include <gtest/gtest.h>

namespace parley::cli {
namespace {

using namespace std::chrono_literals;

client::TransferProgress at(std::uint64_t done, std::uint64_t total = 10UL * 1024 * 1024,
                            bool upload = true, std::string id = "aa") {
  client::TransferProgress progress;
  progress.client_message_id_hex = std::move(id);
  progress.file_name = "photo.jpg";
  progress.upload = upload;
  progress.done_bytes = done;
  progress.total_bytes = total;
  return progress;
}

TEST(ProgressTest, BytesAndEtaAreShort) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(10UL * 1024 * 1024), "10.0 MiB");
  EXPECT_EQ(format_bytes(std::uint64_t{3} << 30), "3.0 GiB");
  EXPECT_EQ(format_eta(std::nullopt), "--:--");
  EXPECT_EQ(format_eta(4.4), "0:04");
  EXPECT_EQ(format_eta(754), "12:34");
  EXPECT_EQ(format_eta(3723), "1:02:03");
  EXPECT_EQ(format_eta(1e12), "99:59:59");
}

TEST(ProgressTest, BarShowsBytesRateAndEta) {
  ProgressFigures figures{5UL * 1024 * 1024, 10UL * 1024 * 1024, 1.25 * 1024 * 1024, 4.0};
  EXPECT_EQ(progress_bar_line("photo.jpg", true, figures, 100),
            "sending photo.jpg [##########----------]  50%  5.0 MiB / 10.0 MiB  1.2 MiB/s  "
            "ETA 0:04");
  EXPECT_EQ(progress_plain_line("photo.jpg", false, figures),
            "parley: receiving photo.jpg: 50% (5.0 MiB of 10.0 MiB, 1.2 MiB/s, ETA 0:04)");
  ProgressFigures unknown{0, 100, 0, std::nullopt};
  EXPECT_NE(progress_bar_line("a", true, unknown, 100).find("--/s  ETA --:--"), std::string::npos);
}

TEST(ProgressTest, LongNamesAreShortenedToTheWidth) {
  ProgressFigures figures{1, 2, 0, std::nullopt};
  std::string line = progress_bar_line(std::string(200, 'n') + ".bin", true, figures, 80);
  EXPECT_LE(line.size(), 80u);
  EXPECT_NE(line.find("..."), std::string::npos);
}

TEST(ProgressTest, TerminalRedrawsAtMostEvery200MsAndEndsTheLine) {
  ProgressMeter meter(/*terminal=*/true);
  auto t0 = ProgressMeter::Clock::time_point{} + 1h;
  auto first = meter.update(at(0), t0);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->front(), '\r');
  EXPECT_FALSE(meter.update(at(1024), t0 + 100ms).has_value());
  auto later = meter.update(at(5UL * 1024 * 1024), t0 + 2s);
  ASSERT_TRUE(later.has_value());
  EXPECT_NE(later->find("2.5 MiB/s"), std::string::npos) << *later;
  EXPECT_NE(later->find("ETA 0:02"), std::string::npos) << *later;
  EXPECT_NE(later->back(), '\n');
  auto end = meter.update(at(10UL * 1024 * 1024), t0 + 2s + 10ms);  // the end is never skipped
  ASSERT_TRUE(end.has_value());
  EXPECT_NE(end->find("100%"), std::string::npos);
  EXPECT_EQ(end->back(), '\n');
  EXPECT_FALSE(meter.update(at(10UL * 1024 * 1024), t0 + 3s).has_value());  // shown once
}

TEST(ProgressTest, PlainLinesAtEveryTenPercentAndTheEnd) {
  ProgressMeter meter(/*terminal=*/false);
  auto t = ProgressMeter::Clock::time_point{} + 1h;
  int lines = 0;
  for (std::uint64_t done = 0; done <= 1000; done += 10) {
    auto line = meter.update(at(done, 1000), t);
    t += 10ms;
    if (line) {
      ++lines;
      EXPECT_EQ(line->rfind("parley: sending photo.jpg: ", 0), 0u) << *line;
    }
  }
  EXPECT_EQ(lines, 11);  // 0%, 10%, ..., 100%
}

TEST(ProgressTest, ANewTransferOrAResumeStartsOver) {
  ProgressMeter meter(/*terminal=*/false);
  auto t = ProgressMeter::Clock::time_point{} + 1h;
  ASSERT_TRUE(meter.update(at(500, 1000, true, "aa"), t).has_value());
  // Resumed after a disconnect: the rate counts only what moved since the resume.
  auto other = meter.update(at(0, 1000, false, "bb"), t + 1s);
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(other->find("receiving"), std::string::npos);
  auto moved = meter.update(at(600, 1000, false, "bb"), t + 2s);
  ASSERT_TRUE(moved.has_value());
  EXPECT_NE(moved->find("600 B/s"), std::string::npos) << *moved;
}

TEST(ProgressTest, PeerFileNamesAreMadeSafe) {
  ProgressMeter meter(/*terminal=*/false);
  auto progress = at(0, 10);
  progress.file_name = "evil\x1b[2J.txt";
  auto line = meter.update(progress, ProgressMeter::Clock::time_point{} + 1h);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->find('\x1b'), std::string::npos);
}

}  // namespace
}  // namespace parley::cli
