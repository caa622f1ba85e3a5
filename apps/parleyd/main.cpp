// SPDX-License-Identifier: AGPL-3.0-or-later
//
// parleyd — the Parley server.
//
//   parleyd [serve] [--config FILE] [--data-dir DIR] [--listen HOST:PORT] [--admin HOST:PORT] ...
//   parleyd gen-cert --out DIR [--key-type p256|ed25519]
//   parleyd move-shards --postgres "A; B" --shard-map MAP --shards 0-511 --from 0 --to 1
//
// `parleyd --help` and `parleyd serve --help` explain every option; docs/operations.md has an
// example configuration file.

#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "config.h"
#include "move_shards.h"
#include "parley/gateway/certificate.h"
#include "serve.h"

namespace {

using namespace parley;

struct GenCertSettings {
  std::string out_dir;
  std::string key_type = "p256";
  std::vector<std::string> names = {"localhost"};
  std::vector<std::string> addresses = {"127.0.0.1", "::1"};
  int days = 825;
};

int gen_cert(const GenCertSettings& settings) {
  gateway::SelfSignedOptions options;
  options.key_type = settings.key_type == "ed25519" ? gateway::CertificateKeyType::kEd25519
                                                    : gateway::CertificateKeyType::kP256;
  options.dns_names = settings.names;
  options.common_name = settings.names.empty() ? "localhost" : settings.names.front();
  options.ip_addresses = settings.addresses;
  options.valid_days = settings.days;
  auto files = gateway::write_self_signed_certificate(settings.out_dir, options);
  if (!files.ok()) {
    spdlog::error("gen-cert: {}", files.status().to_string());
    return 1;
  }
  auto fingerprint = gateway::certificate_fingerprint(files->cert_file);
  std::printf("certificate  %s\nprivate key  %s (mode 0600)\nfingerprint  %s\n",
              files->cert_file.c_str(), files->key_file.c_str(),
              fingerprint.ok() ? fingerprint->c_str() : "?");
  return 0;
}

}  // namespace

// Failures are reported as Status; an exception that still escapes (bad_alloc, a CLI11 or spdlog
// setup bug) is fatal, and std::terminate is the right end for it.
// NOLINTNEXTLINE(bugprone-exception-escape): see above.
int main(int argc, char** argv) {
  // Signals are taken by sigwait() in serve(); block them before any thread exists so none of the
  // network or worker threads is interrupted by them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  (void)signal(SIGPIPE, SIG_IGN);  // a peer that vanishes mid-write is an error code, not a crash

  auto logger = spdlog::stderr_color_mt("parleyd");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");

  CLI::App app(
      "parleyd — the Parley server: TLS 1.3 WebSocket gateway, accounts, keys and "
      "mailboxes on embedded storage.\nWithout a subcommand it serves (as `serve`).",
      "parleyd");
  app.get_formatter()->column_width(36);

  parleyd::ServeSettings serve_settings;
  CLI::App* serve = app.add_subcommand("serve", "run the server (the default)");
  parleyd::add_serve_options(*serve, serve_settings);
  // The same options work without the word `serve`.
  parleyd::ServeSettings top_settings;
  parleyd::add_serve_options(app, top_settings);

  GenCertSettings cert_settings;
  CLI::App* gen = app.add_subcommand(
      "gen-cert", "write a fresh key and self-signed certificate (PEM) into a directory");
  gen->add_option("--out", cert_settings.out_dir,
                  "directory for server-cert.pem and server-key.pem")
      ->required();
  gen->add_option("--key-type", cert_settings.key_type, "p256 or ed25519")
      ->capture_default_str()
      ->check(CLI::IsMember({"p256", "ed25519"}));
  gen->add_option("--name", cert_settings.names, "DNS names in the certificate")
      ->capture_default_str();
  gen->add_option("--ip", cert_settings.addresses, "IP addresses in the certificate")
      ->capture_default_str();
  gen->add_option("--days", cert_settings.days, "validity in days")
      ->capture_default_str()
      ->check(CLI::Range(1, 3650));
  parleyd::MoveShardsSettings move_settings;
  CLI::App* move = parleyd::add_move_shards_command(app, move_settings);
  app.require_subcommand(0, 1);

  CLI11_PARSE(app, argc, argv);

  if (gen->parsed()) return gen_cert(cert_settings);
  if (move->parsed()) return parleyd::move_shards(move_settings);

  CLI::App& command = serve->parsed() ? *serve : app;
  parleyd::ServeSettings& settings = serve->parsed() ? serve_settings : top_settings;
  if (Status loaded = parleyd::apply_config_file(command, settings); !loaded.ok()) {
    spdlog::error("config: {}", loaded.to_string());
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(settings.log_level));
  return parleyd::serve(settings);
}
