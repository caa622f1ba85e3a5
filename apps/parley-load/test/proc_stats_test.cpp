// SPDX-License-Identifier: AGPL-3.0-or-later
#include "proc_stats.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace parley::load {
namespace {

constexpr const char* kStatus =
    "Name:\tparleyd\nUmask:\t0022\nState:\tS (sleeping)\nVmPeak:\t  900000 kB\n"
    "VmRSS:\t   35888 kB\nRssAnon:\t   20000 kB\nThreads:\t19\n";
// A command name with a space and a ')' inside, as /proc prints it.
constexpr const char* kStat =
    "4242 (parley d) x) S 1 4242 4242 0 -1 4194560 1234 0 0 0 150 25 0 0 20 0 19 0 100 "
    "900000000 8972 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0";

TEST(ProcStats, ParsesRssThreadsAndCpuTicks) {
  auto sample = parse_process(kStatus, kStat);
  ASSERT_TRUE(sample.ok()) << sample.status().message();
  EXPECT_EQ(sample->rss_bytes, 35888u * 1024);
  EXPECT_EQ(sample->threads, 19u);
  EXPECT_EQ(sample->cpu_ticks, 175u);  // utime 150 + stime 25
}

TEST(ProcStats, RefusesWhatIsNotProc) {
  EXPECT_FALSE(parse_process("", kStat).ok());
  EXPECT_FALSE(parse_process(kStatus, "").ok());
  EXPECT_FALSE(parse_process(kStatus, "1 (x) S 1 2").ok());  // too short
  EXPECT_FALSE(parse_process(kStatus, "1 (x) S 1 2 3 4 5 6 7 8 9 10 ab 25").ok());
  // A key that only appears inside another line is not a match.
  EXPECT_FALSE(parse_process("XVmRSS: 5 kB\nThreads: 1\n", kStat).ok());
}

TEST(ProcStats, SamplesThisProcess) {
  auto sample = sample_process(::getpid());
  ASSERT_TRUE(sample.ok());
  EXPECT_GT(sample->rss_bytes, 1u << 20);
  EXPECT_GE(sample->threads, 1u);
  EXPECT_GE(sample->open_files, 3u);  // at least stdin, stdout, stderr
  // Burn some CPU: the tick count must not go backwards and the RSS must be seen again.
  volatile std::uint64_t sink = 0;
  for (int i = 0; i < 50'000'000; ++i) sink = sink + static_cast<std::uint64_t>(i);
  auto later = sample_process(::getpid());
  ASSERT_TRUE(later.ok());
  EXPECT_GE(later->cpu_ticks, sample->cpu_ticks);
}

TEST(ProcStats, AGoneProcessIsNotFound) {
  auto sample = sample_process(0x7ffffff0);
  ASSERT_FALSE(sample.ok());
  EXPECT_EQ(sample.status().code(), ErrorCode::kNotFound);
}

TEST(ProcStats, ParsesSlabFromMeminfo) {
  auto slab =
      parse_meminfo_slab("MemTotal: 100 kB\nSlab:             123456 kB\nSReclaimable: 1 kB\n");
  ASSERT_TRUE(slab.ok());
  EXPECT_EQ(*slab, 123456u * 1024);
  EXPECT_FALSE(parse_meminfo_slab("MemTotal: 100 kB\n").ok());
  EXPECT_GT(kernel_slab_bytes(), 0u);
}

}  // namespace
}  // namespace parley::load
