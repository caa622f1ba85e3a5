// SPDX-License-Identifier: AGPL-3.0-or-later
#include "run_support.h"

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <filesystem>

#include "child_process.h"

namespace parley::load::testing {

LoadRun run_load(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  static std::atomic<int> runs{0};
  const auto dir = std::filesystem::temp_directory_path() /
                   ("parley-load-run-" + std::to_string(::getpid()) + "-" + std::to_string(runs++));
  std::filesystem::create_directories(dir);
  std::vector<std::string> argv{PARLEY_LOAD_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  LoadRun run;
  {
    parley::testing::ChildProcess child(argv, (dir / "out").string(), (dir / "err").string());
    run.exit_code = child.wait(timeout);
  }
  run.out = parley::testing::read_text(dir / "out");
  run.err = parley::testing::read_text(dir / "err");
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return run;
}

std::optional<double> json_number(const std::string& json, std::string_view path) {
  // Walk "a.b": find "a":{ then "b": inside it (the report nests one level at most).
  std::size_t from = 0;
  std::string_view rest = path;
  for (;;) {
    const std::size_t dot = rest.find('.');
    const std::string key = "\"" + std::string(rest.substr(0, dot)) + "\":";
    const std::size_t at = json.find(key, from);
    if (at == std::string::npos) return std::nullopt;
    from = at + key.size();
    if (dot == std::string_view::npos) break;
    rest = rest.substr(dot + 1);
  }
  double value = 0;
  auto [end, ec] = std::from_chars(json.data() + from, json.data() + json.size(), value);
  if (ec != std::errc()) return std::nullopt;
  return value;
}

}  // namespace parley::load::testing
