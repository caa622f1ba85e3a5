// SPDX-License-Identifier: AGPL-3.0-or-later
//
// parley-relay — a relay anyone can run so that people who cannot reach a Parley server directly
// can reach it through them. docs/relay.md is the operator's guide.
//
//   parley-relay --public-host relay.example.org --upstream parley.example.org:443
//   parley-relay link --public-host relay.example.org      (print the share link again)

#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "config.h"
#include "identity.h"
#include "parley/net/relay_link.h"
#include "parleyd/config.h"
#include "qr_terminal.h"
#include "relay_server.h"

namespace {

using namespace parley;

constexpr const char* kDescription =
    "parley-relay — forwards Parley clients to a Parley server; shows everyone else a website.\n"
    "\n"
    "Setup, on a machine people can reach:\n"
    "  parley-relay --public-host relay.example.org --upstream parley.example.org:443\n"
    "It creates a secret and a TLS key in --data-dir, listens on --listen (default 0.0.0.0:443)\n"
    "and prints a parley://relay?... share link (and its QR code). Give the link to the people\n"
    "who need it: clients that present its secret are forwarded to --upstream (their own TLS to\n"
    "the server passes through; the relay sees no message). Everyone else, probes included, gets\n"
    "the decoy site (built in, --decoy-dir, or a real site with --decoy-upstream).\n"
    "Chain relays with --upstream-link LINK-OF-THE-NEXT-RELAY. `parley-relay link` prints the\n"
    "link again. Keep the data directory: deleting it makes every shared link stale.";

std::uint16_t port_of(const std::string& listen) {
  auto parsed = parleyd::parse_host_port(listen);
  return parsed.ok() ? parsed->port : 443;
}

// Prints the link (and QR code) for this data directory; 0 on success.
int print_link(const relay::RelaySettings& s, const relay::RelayIdentity& identity) {
  if (s.public_host.empty()) {
    spdlog::error("the share link needs --public-host (the name or address clients reach)");
    return 2;
  }
  const std::string cover = s.cover_name.empty() ? s.public_host : s.cover_name;
  const std::uint16_t port = s.public_port != 0 ? s.public_port : port_of(s.listen);
  const std::string link = relay::share_link(identity, s.public_host, port, cover, s.link_name);
  std::cout << link << '\n';
  if (!s.no_qr) {
    auto qr = cli::qr_terminal(link);
    if (qr.ok()) std::cout << '\n' << *qr;
  }
  std::cout.flush();
  return 0;
}

Result<relay::RelayIdentity> identity_for(const relay::RelaySettings& s) {
  const std::string cover = !s.cover_name.empty() ? s.cover_name : s.public_host;
  return relay::load_or_create_identity(s.data_dir, cover, s.cert, s.key);
}

int wait_for_signal() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  int received = 0;
  while (sigwait(&signals, &received) != 0) {
  }
  return received;
}

}  // namespace

// Failures are reported as Status; an exception that still escapes is fatal, and std::terminate
// is the right end for it.
// NOLINTNEXTLINE(bugprone-exception-escape): see above.
int main(int argc, char** argv) {
  // Signals are taken by sigwait() below; block them before any thread exists.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  (void)signal(SIGPIPE, SIG_IGN);

  auto logger = spdlog::stderr_color_mt("parley-relay");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");

  CLI::App app(kDescription, "parley-relay");
  app.get_formatter()->column_width(36);
  relay::RelaySettings run_settings;
  relay::add_relay_options(app, run_settings);
  relay::RelaySettings link_settings;
  CLI::App* link = app.add_subcommand(
      "link", "print this relay's share link (and QR code) for its data directory, then exit");
  relay::add_relay_options(*link, link_settings);
  app.require_subcommand(0, 1);

  CLI11_PARSE(app, argc, argv);

  CLI::App& command = link->parsed() ? *link : app;
  relay::RelaySettings& s = link->parsed() ? link_settings : run_settings;
  if (!s.config_file.empty()) {
    // parleyd's reader applies a TOML file to whatever options `command` declares.
    parleyd::ServeSettings file_only;
    file_only.config_file = s.config_file;
    if (Status loaded = parleyd::apply_config_file(command, file_only); !loaded.ok()) {
      spdlog::error("config: {}", loaded.to_string());
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::from_str(s.log_level));

  auto identity = identity_for(s);
  if (!identity.ok()) {
    spdlog::error("data directory {}: {}", s.data_dir, identity.status().to_string());
    return 1;
  }
  if (link->parsed()) return print_link(s, *identity);

  auto server = relay::RelayServer::start(s, *identity);
  if (!server.ok()) {
    spdlog::error("{}", server.status().to_string());
    return 2;
  }
  if (s.public_host.empty()) {
    spdlog::info("no --public-host: run `parley-relay link --public-host NAME` for the link");
  } else {
    spdlog::info("share this link with the people who should use the relay:");
    print_link(s, *identity);
  }
  const int signal_number = wait_for_signal();
  spdlog::info("{}: shutting down", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  (*server)->stop();
  spdlog::info("stopped");
  return 0;
}
