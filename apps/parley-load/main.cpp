// SPDX-License-Identifier: AGPL-3.0-or-later
// parley-load: drives parleyd, or a peer (mosquitto over MQTT, ejabberd over XMPP), with one
// scenario and prints what it measured. bench/run.sh runs it for every target in one go.
//
// Exit codes: 0 the scenario ran clean; 1 it could not run (no server, setup failed); 2 usage;
// 3 it ran, but with errors or duplicates (the report says how many).

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>

#include "drivers.h"

namespace {

using parley::load::LoadConfig;
using parley::load::Scenario;
using parley::load::Target;

// A duration option: "1500ms", "10s", "2m".
void add_duration(CLI::App& app, const std::string& name, std::chrono::milliseconds& value,
                  const std::string& help) {
  app.add_option_function<std::string>(
         name,
         [&value, name](const std::string& text) {
           auto parsed = parley::load::parse_duration(text);
           if (!parsed.ok()) throw CLI::ValidationError(name, parsed.status().message());
           value = *parsed;
         },
         help + " (e.g. 1500ms, 10s, 2m; default " + std::to_string(value.count()) + "ms)")
      ->type_name("DURATION");
}

}  // namespace

int main(int argc, char** argv) {
  LoadConfig config;
  CLI::App app{
      "parley-load: load generator for parleyd and its peers (mosquitto, ejabberd).\n"
      "Scenarios: idle (hold N authenticated connections), relay (pairs exchanging messages),\n"
      "offline (fill mailboxes, then drain), group (one sender, K receivers).\n"
      "Example: parley-load relay --port 8443 --pairs 50 --duration 10s --server-pid 1234"};
  app.set_version_flag("--version", "parley-load 0.1");

  const std::map<std::string, Scenario> scenarios{{"idle", Scenario::kIdle},
                                                  {"relay", Scenario::kRelay},
                                                  {"offline", Scenario::kOffline},
                                                  {"group", Scenario::kGroup}};
  const std::map<std::string, Target> targets{
      {"parley", Target::kParley}, {"mqtt", Target::kMqtt}, {"xmpp", Target::kXmpp}};
  std::string scenario_text;
  std::string target_text = "parley";
  app.add_option("scenario", scenario_text, "idle | relay | offline | group")
      ->required()
      ->check(CLI::IsMember({"idle", "relay", "offline", "group"}));
  app.add_option("--target", target_text, "parley | mqtt | xmpp")
      ->capture_default_str()
      ->check(CLI::IsMember({"parley", "mqtt", "xmpp"}));
  app.add_option("--host", config.host, "server address")->capture_default_str();
  app.add_option("--port", config.port, "server port")->required();
  app.add_option("--also-port", config.also_ports,
                 "parley: another node of the same cluster on --host (repeatable); devices "
                 "alternate between the nodes, so relay pairs cross nodes");
  app.add_option("--connections", config.connections, "idle: connections to hold")
      ->capture_default_str();
  app.add_option("--pairs", config.pairs, "relay/offline: pairs of devices")->capture_default_str();
  app.add_option("--group-size", config.group_size, "group: receiving devices")
      ->capture_default_str();
  app.add_option("--messages-per-device", config.messages_per_device,
                 "offline: messages waiting per device")
      ->capture_default_str();
  app.add_option("--message-bytes", config.message_bytes, "payload bytes per message (>= 16)")
      ->capture_default_str()
      ->check(CLI::Range(16, 60 * 1024));
  app.add_option("--rate", config.rate, "offered messages/s over all senders; 0 = flat out")
      ->capture_default_str();
  app.add_option("--window", config.window, "flat out: unacked sends in flight per sender")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  add_duration(app, "--duration", config.duration, "measured time (idle: time held)");
  add_duration(app, "--warmup", config.warmup, "traffic before measuring");
  add_duration(app, "--keepalive", config.keepalive, "idle: keepalive interval");
  add_duration(app, "--connect-timeout", config.connect_timeout,
               "deadline for all connections to be ready");
  app.add_option("--threads", config.threads, "event loops (threads)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--server-pid", config.server_pid, "sample this process's RSS and CPU");
  app.add_option("--source-address", config.source_addresses,
                 "bind outgoing connections to these local addresses, round robin");
  unsigned loopback_sources = 0;
  app.add_option("--loopback-sources", loopback_sources,
                 "shorthand: bind to 127.0.0.2 … 127.0.0.(N+1)")
      ->check(CLI::Range(0, 250));
  app.add_option("--ca-file", config.ca_file,
                 "parley: the server certificate (PEM) to trust; empty accepts any (loopback "
                 "benchmarks only)");
  app.add_option("--ws-path", config.ws_path, "parley: WebSocket path")->capture_default_str();
  app.add_option("--xmpp-domain", config.xmpp_domain, "xmpp: the server's domain")
      ->capture_default_str();
  app.add_option("--user-prefix", config.user_prefix, "mqtt/xmpp: account name prefix")
      ->capture_default_str();
  app.add_option("--password", config.password, "mqtt/xmpp: account password")
      ->capture_default_str();
  bool json = false;
  app.add_flag("--json", json, "print one JSON object instead of text");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;
  }
  config.scenario = scenarios.at(scenario_text);
  config.target = targets.at(target_text);
  if (!config.also_ports.empty() && config.target != Target::kParley) {
    std::cerr << "parley-load: --also-port is for --target parley (a parleyd cluster)\n";
    return 2;
  }
  for (unsigned i = 0; i < loopback_sources; ++i) {
    config.source_addresses.push_back("127.0.0." + std::to_string(i + 2));
  }

  parley::Result<parley::load::ScenarioReport> report =
      parley::Status::error(parley::ErrorCode::kInternal, "no driver");
  switch (config.target) {
    case Target::kParley:
      report = parley::load::run_parley(config);
      break;
    case Target::kMqtt:
      report = parley::load::run_mqtt(config);
      break;
    case Target::kXmpp:
      report = parley::load::run_xmpp(config);
      break;
  }
  if (!report.ok()) {
    std::cerr << "parley-load: " << parley::load::target_name(config.target) << " "
              << parley::load::scenario_name(config.scenario)
              << " could not run: " << report.status().message() << "\n";
    return 1;
  }
  std::cout << (json ? parley::load::format_json(*report) + "\n"
                     : parley::load::format_text(*report))
            << std::flush;
  return report->errors == 0 && report->duplicates == 0 ? 0 : 3;
}
