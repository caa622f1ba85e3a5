// SPDX-License-Identifier: AGPL-3.0-or-later
#include "proc_stats.h"

#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace parley::load {
namespace {

std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The number after `key` on its line of a "Key:   123 kB" text; multiplied by 1024 when the line
// says kB.
std::optional<std::uint64_t> field_of(std::string_view text, std::string_view key) {
  std::size_t at = 0;
  while ((at = text.find(key, at)) != std::string_view::npos) {
    if (at == 0 || text[at - 1] == '\n') break;
    at += key.size();
  }
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t pos = at + key.size();
  const std::size_t line_end = text.find('\n', pos);
  std::string_view line =
      text.substr(pos, line_end == std::string_view::npos ? line_end : line_end - pos);
  const std::size_t digits = line.find_first_of("0123456789");
  if (digits == std::string_view::npos) return std::nullopt;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(line.data() + digits, line.data() + line.size(), value);
  if (ec != std::errc()) return std::nullopt;
  if (std::string_view(end, line.data() + line.size()).find("kB") != std::string_view::npos) {
    value *= 1024;
  }
  return value;
}

}  // namespace

Result<ProcessSample> parse_process(std::string_view status_text, std::string_view stat_text) {
  ProcessSample sample;
  auto rss = field_of(status_text, "VmRSS:");
  auto threads = field_of(status_text, "Threads:");
  if (!rss || !threads) {
    return Status::error(ErrorCode::kMalformedInput, "/proc status has no VmRSS or Threads");
  }
  sample.rss_bytes = *rss;
  sample.threads = *threads;
  // stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so fields are
  // counted from the last ')'. utime and stime are fields 14 and 15 (1-based) of the whole line.
  const std::size_t close = stat_text.rfind(')');
  if (close == std::string_view::npos) {
    return Status::error(ErrorCode::kMalformedInput, "/proc stat has no command field");
  }
  std::istringstream rest{std::string(stat_text.substr(close + 1))};
  std::string field;
  std::uint64_t utime = 0, stime = 0;
  for (int index = 3; index <= 15 && rest >> field; ++index) {
    if (index == 14 || index == 15) {
      std::uint64_t value = 0;
      auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
      if (ec != std::errc() || end != field.data() + field.size()) {
        return Status::error(ErrorCode::kMalformedInput, "/proc stat CPU times are not numbers");
      }
      (index == 14 ? utime : stime) = value;
      if (index == 15) {
        sample.cpu_ticks = utime + stime;
        return sample;
      }
    }
  }
  return Status::error(ErrorCode::kMalformedInput, "/proc stat is too short");
}

Result<ProcessSample> sample_process(pid_t pid) {
  const std::filesystem::path dir = "/proc/" + std::to_string(pid);
  auto status = read_file(dir / "status");
  auto stat = read_file(dir / "stat");
  if (!status || !stat) return Status::error(ErrorCode::kNotFound, "the process is gone");
  PARLEY_ASSIGN_OR_RETURN(ProcessSample sample, parse_process(*status, *stat));
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir / "fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++sample.open_files;
  }
  return sample;
}

Result<std::uint64_t> parse_meminfo_slab(std::string_view meminfo_text) {
  auto slab = field_of(meminfo_text, "Slab:");
  if (!slab) return Status::error(ErrorCode::kMalformedInput, "/proc/meminfo has no Slab line");
  return *slab;
}

std::uint64_t kernel_slab_bytes() {
  auto text = read_file("/proc/meminfo");
  if (!text) return 0;
  auto slab = parse_meminfo_slab(*text);
  return slab.ok() ? *slab : 0;
}

double ticks_to_seconds(std::uint64_t ticks) {
  static const long per_second = ::sysconf(_SC_CLK_TCK);
  return per_second > 0 ? static_cast<double>(ticks) / static_cast<double>(per_second) : 0.0;
}

}  // namespace parley::load
