// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Reading a process's memory and CPU from /proc, and the kernel's slab memory, so a run can report
// what the server spent per connection and per message without instrumenting it.

#include <sys/types.h>

#include <cstdint>
#include <string_view>

#include "parley/util/status.h"

namespace parley::load {

struct ProcessSample {
  std::uint64_t rss_bytes = 0;   // VmRSS
  std::uint64_t cpu_ticks = 0;   // utime + stime, in clock ticks
  std::uint64_t open_files = 0;  // entries of /proc/<pid>/fd
  std::uint64_t threads = 0;
};

// kNotFound when the process is gone, kMalformedInput when /proc says something unexpected.
Result<ProcessSample> sample_process(pid_t pid);
// The same numbers parsed from the text of /proc/<pid>/status and /proc/<pid>/stat (pure).
Result<ProcessSample> parse_process(std::string_view status_text, std::string_view stat_text);

// Slab: from /proc/meminfo (the kernel's socket buffers and TCP state live there). 0 if unknown.
std::uint64_t kernel_slab_bytes();
Result<std::uint64_t> parse_meminfo_slab(std::string_view meminfo_text);

// Seconds of CPU in `ticks` (sysconf(_SC_CLK_TCK)).
double ticks_to_seconds(std::uint64_t ticks);

}  // namespace parley::load
