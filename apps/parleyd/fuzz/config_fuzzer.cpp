// SPDX-License-Identifier: AGPL-3.0-or-later
// libFuzzer target: parleyd's settings parsing without a server. Input: command-line arguments,
// one per line, up to the first NUL byte; the rest is the TOML config text. The flags are parsed
// by CLI11 exactly as `parleyd serve` does (a parse error ends the run, as it would end parleyd),
// then the TOML is applied (flags win) and the addresses are split. Nothing may crash, leak or
// throw past apply_config_text().
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace parley;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = input.find('\0');
  std::string_view flags =
      split == std::string_view::npos ? std::string_view() : input.substr(0, split);
  std::string toml(split == std::string_view::npos ? input : input.substr(split + 1));

  std::vector<std::string> args = {"parleyd"};
  while (!flags.empty() && args.size() < 64) {
    std::size_t end = flags.find('\n');
    args.emplace_back(flags.substr(0, end));
    flags = end == std::string_view::npos ? std::string_view() : flags.substr(end + 1);
  }
  std::vector<const char*> argv;
  for (const auto& arg : args) argv.push_back(arg.c_str());

  CLI::App app("parleyd config fuzzer", "parleyd");
  parleyd::ServeSettings settings;
  parleyd::add_serve_options(app, settings);
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::Error&) {
    return 0;  // parleyd prints the error and exits
  }
  Status applied = parleyd::apply_config_text(app, toml, "fuzz.toml");
  if (applied.ok()) {
    (void)parleyd::parse_host_port(settings.listen);
    (void)parleyd::parse_host_port(settings.admin);
  }
  return 0;
}
