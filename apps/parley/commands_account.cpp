// SPDX-License-Identifier: AGPL-3.0-or-later
//
// init, link, join-device, whoami, username, lookup, devices.

#include <chrono>
#include <cstdio>
#include <memory>

#include "args.h"
#include "commands.h"
#include "duration.h"
#include "errors.h"
#include "json.h"
#include "output.h"
#include "qr_terminal.h"
#include "text.h"

namespace parley::cli {

namespace {

using Clock = std::chrono::steady_clock;

struct ServerFlags {
  std::string server;
  std::string pin;
  std::string ca;
  NetworkFlags network;
};

void add_server_flags(CLI::App& command, ServerFlags& flags) {
  command.add_option("--server", flags.server, "the server, HOST:PORT")
      ->required()
      ->type_name("HOST:PORT");
  auto* pin = command
                  .add_option("--pin", flags.pin,
                              "trust only the server certificate with this SHA-256 fingerprint (as "
                              "`parleyd gen-cert` "
                              "prints it)")
                  ->type_name("SHA256");
  auto* ca = command
                 .add_option("--ca", flags.ca,
                             "trust certificates issued by this PEM file (for a self-signed "
                             "server: its own certificate)")
                 ->type_name("FILE");
  pin->excludes(ca);
  ca->excludes(pin);
  add_network_flags(command, flags.network);
}

Result<client::ServerSettings> server_settings(const ServerFlags& flags) {
  PARLEY_RETURN_IF_ERROR(validate_server(flags.server));
  client::ServerSettings settings;
  settings.server = flags.server;
  PARLEY_ASSIGN_OR_RETURN(settings.network, network_settings_from(flags.network));
  if (!flags.pin.empty()) {
    PARLEY_RETURN_IF_ERROR(validate_pin(flags.pin));
    settings.trust.pinned_sha256 = flags.pin;
  }
  if (!flags.ca.empty()) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(flags.ca, error)) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "the --ca file " + flags.ca + " does not exist");
    }
    settings.trust.ca_file = std::filesystem::absolute(flags.ca).string();
  }
  return settings;
}

Result<std::chrono::milliseconds> timeout_flag(const std::string& text) {
  PARLEY_ASSIGN_OR_RETURN(std::chrono::seconds seconds, parse_duration(text));
  return std::chrono::duration_cast<std::chrono::milliseconds>(seconds);
}

// The proof of work takes seconds: on a terminal, one line rewritten in place a few times a
// second; otherwise (logs, pipes) a line when it starts and one when it ends.
class PowProgressPrinter {
 public:
  explicit PowProgressPrinter(const GlobalOptions& options)
      : enabled_(!options.quiet), tty_(stderr_is_tty()) {}

  void update(std::uint64_t hashes, std::uint32_t bits) {
    if (!enabled_) return;
    last_hashes_ = hashes;
    if (!started_) {
      started_ = true;
      if (!tty_) {
        (void)std::fprintf(stderr, "parley: proof of work started (about 2^%u hashes expected)\n",
                           bits);
        return;
      }
    }
    if (!tty_) return;
    auto now = Clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    (void)std::fprintf(stderr, "\r%s   ", pow_progress_line(hashes, bits).c_str());
    (void)std::fflush(stderr);
  }

  void finish(bool ok) {
    if (!enabled_ || !started_) return;
    if (tty_) (void)std::fputc('\r', stderr);
    (void)std::fprintf(stderr, "parley: proof of work %s after %llu hashes%s\n",
                       ok ? "done" : "ended", static_cast<unsigned long long>(last_hashes_),
                       tty_ ? "            " : "");
    (void)std::fflush(stderr);
  }

 private:
  bool enabled_;
  bool tty_;
  bool started_ = false;
  std::uint64_t last_hashes_ = 0;
  Clock::time_point last_draw_{};
};

std::string devices_json(const std::vector<std::uint32_t>& devices) {
  std::string json = "[";
  for (std::size_t i = 0; i < devices.size(); ++i) {
    if (i > 0) json += ',';
    json += std::to_string(devices[i]);
  }
  return json + "]";
}

int print_account(const GlobalOptions& options, const client::AccountInfo& info) {
  std::string devices;
  for (std::uint32_t id : info.devices) {
    devices += (devices.empty() ? "" : ", ") + std::to_string(id);
  }
  std::string text = "account   " + info.account_id_hex + "\ndevice    " +
                     std::to_string(info.device_id) +
                     (info.device_id == 1 ? " (primary)" : " (linked)") + "\nusername  " +
                     (info.username.empty() ? std::string("(none)") : info.username) +
                     "\nserver    " + info.server + "\nidentity  " + info.identity_fingerprint +
                     "\ndevices   " + (devices.empty() ? std::string("-") : devices);
  std::string json = JsonLine()
                         .str("account", info.account_id_hex)
                         .num("device", info.device_id)
                         .str("username", info.username)
                         .str("server", info.server)
                         .str("identity", info.identity_fingerprint)
                         .raw("devices", devices_json(info.devices))
                         .line();
  print_result(options, text, json);
  return kExitOk;
}

int run_init(const GlobalOptions& options, const ServerFlags& flags, const std::string& username) {
  auto settings = server_settings(flags);
  if (!settings.ok()) return fail(settings.status());
  auto session = Session::open(options, Session::HomeMode::kCreate, Session::LockMode::kRequired,
                               EventDisplay::kImportant);
  if (!session.ok()) return fail(session.status());
  client::Client& client = (*session)->client();
  PowProgressPrinter progress(options);
  Status created = client.create_account(
      *settings, username,
      [&](std::uint64_t hashes, std::uint32_t bits) { progress.update(hashes, bits); });
  progress.finish(created.ok());
  if (!created.ok()) return fail(created);
  auto info = client.whoami();
  if (!info.ok()) return fail(info.status());
  return print_account(options, *info);
}

int run_link(const GlobalOptions& options, const std::string& timeout_text, bool invert) {
  auto timeout = timeout_flag(timeout_text);
  if (!timeout.ok()) return fail(timeout.status());
  auto session = Session::open(options, Session::HomeMode::kExisting, Session::LockMode::kRequired,
                               EventDisplay::kImportant);
  if (!session.ok()) return fail(session.status());
  client::Client& client = (*session)->client();
  auto code = client.create_link_code();
  if (!code.ok()) return fail(code.status());
  if (options.json) {
    print_result(
        options, "",
        JsonLine().str("link_code", code->text).num("expires_ms", code->expires_ms).line());
  } else {
    auto qr = qr_terminal(code->text, {.quiet_zone = 4, .invert = invert});
    std::string text = "On the new device run:\n\n  parley join-device " + code->text +
                       " --server SERVER\n\nor scan this code (valid until " +
                       format_time(code->expires_ms) + "):\n";
    print_result(options, text + (qr.ok() ? *qr : std::string("(no QR code)\n")), "");
    print_status(options, "waiting for the new device (up to " + timeout_text + ")...");
  }
  auto device = client.wait_for_link(*code, *timeout);
  if (!device.ok()) return fail(device.status());
  print_result(options, "linked device " + std::to_string(*device),
               JsonLine().str("result", "linked").num("device", *device).line());
  return kExitOk;
}

int run_join(const GlobalOptions& options, const std::string& code, const ServerFlags& flags,
             const std::string& timeout_text) {
  auto settings = server_settings(flags);
  if (!settings.ok()) return fail(settings.status());
  auto timeout = timeout_flag(timeout_text);
  if (!timeout.ok()) return fail(timeout.status());
  auto session = Session::open(options, Session::HomeMode::kCreate, Session::LockMode::kRequired,
                               EventDisplay::kImportant);
  if (!session.ok()) return fail(session.status());
  client::Client& client = (*session)->client();
  print_status(options, "joining (`parley link` must be running on the primary device)...");
  Status joined = client.join_device(*settings, code, *timeout);
  if (!joined.ok()) return fail(joined);
  auto info = client.whoami();
  if (!info.ok()) return fail(info.status());
  return print_account(options, *info);
}

int run_whoami(const GlobalOptions& options) {
  auto session = Session::open(options, Session::HomeMode::kExisting, Session::LockMode::kOptional,
                               EventDisplay::kImportant);
  if (!session.ok()) return fail(session.status());
  auto info = (*session)->client().whoami();
  if (!info.ok()) return fail(info.status());
  return print_account(options, *info);
}

int run_set_username(const GlobalOptions& options, const std::string& username) {
  auto session = Session::open(options, Session::HomeMode::kExisting, Session::LockMode::kRequired,
                               EventDisplay::kImportant);
  if (!session.ok()) return fail(session.status());
  Status set = (*session)->client().set_username(username);
  if (!set.ok()) return fail(set);
  auto info = (*session)->client().whoami();
  std::string now = info.ok() ? info->username : username;
  print_result(options, username.empty() ? "username removed" : "username set to " + now,
               JsonLine().str("result", "ok").str("username", username.empty() ? "" : now).line());
  return kExitOk;
}

int run_lookup(const GlobalOptions& options, const std::string& username) {
  auto session = Session::open(options, Session::HomeMode::kExisting, Session::LockMode::kRequired,
                               EventDisplay::kImportant);
  if (!session.ok()) return fail(session.status());
  auto contact = (*session)->client().lookup(username);
  if (!contact.ok()) return fail(contact.status());
  std::string name = terminal_safe(contact->username, false);
  std::string state = contact->identity_changed
                          ? "SAFETY NUMBER CHANGED: run `parley verify " + name + "`"
                      : contact->verified ? "verified"
                                          : "not verified (`parley verify " + name + "`)";
  print_result(options, name + "  account " + contact->account_id_hex + "  " + state,
               JsonLine()
                   .str("username", contact->username)
                   .str("account", contact->account_id_hex)
                   .boolean("verified", contact->verified)
                   .boolean("identity_changed", contact->identity_changed)
                   .line());
  return kExitOk;
}

int run_remove_device(const GlobalOptions& options, const std::string& id_text) {
  auto id = parse_device_id(id_text);
  if (!id.ok()) return fail(id.status());
  auto session = Session::open(options, Session::HomeMode::kExisting, Session::LockMode::kRequired,
                               EventDisplay::kImportant);
  if (!session.ok()) return fail(session.status());
  Status removed = (*session)->client().remove_device(*id);
  if (!removed.ok()) return fail(removed);
  print_result(options, "device " + std::to_string(*id) + " removed",
               JsonLine().str("result", "removed").num("device", *id).line());
  return kExitOk;
}

}  // namespace

void add_account_commands(CLI::App& app, const GlobalOptions& options, Commands& commands) {
  {
    struct Settings {
      ServerFlags server;
      std::string username;
    };
    auto settings = std::make_shared<Settings>();
    CLI::App* init = app.add_subcommand(
        "init", "create a new account on a server (this device becomes its primary)");
    init->group(kAccountGroup);
    add_server_flags(*init, settings->server);
    init->add_option("--username", settings->username,
                     "a username others can find you by (3-32 of a-z 0-9 _ .); optional, "
                     "see `parley username set`")
        ->type_name("NAME");
    init->footer(
        "Signing up solves a proof of work (a few seconds). Prints the account id, device 1\n"
        "and the username.\n\n"
        "Example:\n"
        "  parley init --server chat.example.org:8443 --username alice\n"
        "  parley init --server 127.0.0.1:8443 --pin 3F:9A:...:C2   # a self-signed server\n"
        "  parley init --server chat.example.org:443 --relay 'parley://relay?...'  # when blocked");
    commands.push_back({init, [&options, settings] {
                          return run_init(options, settings->server, settings->username);
                        }});
  }
  {
    struct Settings {
      std::string timeout = "10m";
      bool invert = false;
    };
    auto settings = std::make_shared<Settings>();
    CLI::App* link = app.add_subcommand(
        "link", "add another device to your account: shows a link code and its QR code");
    link->group(kAccountGroup);
    link->add_option("--timeout", settings->timeout, "how long to wait for the new device")
        ->type_name("DURATION")
        ->capture_default_str();
    link->add_flag("--qr-invert", settings->invert,
                   "draw the QR code for a terminal with dark text on a light background");
    link->footer(
        "Run on the primary device; then run `parley join-device CODE` on the new one. Waits\n"
        "until the new device has joined and prints its device id.\n\n"
        "Example:\n"
        "  parley link --timeout 5m");
    commands.push_back({link, [&options, settings] {
                          return run_link(options, settings->timeout, settings->invert);
                        }});
  }
  {
    struct Settings {
      std::string code;
      ServerFlags server;
      std::string timeout = "2m";
    };
    auto settings = std::make_shared<Settings>();
    CLI::App* join = app.add_subcommand(
        "join-device", "make this device part of your account, with a code from `parley link`");
    join->group(kAccountGroup);
    join->add_option("CODE", settings->code, "the link code shown by `parley link`")->required();
    add_server_flags(*join, settings->server);
    join->add_option("--timeout", settings->timeout,
                     "how long to wait for the primary device to confirm")
        ->type_name("DURATION")
        ->capture_default_str();
    join->footer(
        "Uses a new home: pass --home DIR (or PARLEY_HOME) for this device's data.\n\n"
        "Example:\n"
        "  parley --home ~/.parley-laptop join-device K7Q2-MX9P-4T8W-... --server "
        "chat.example.org:8443");
    commands.push_back({join, [&options, settings] {
                          return run_join(options, settings->code, settings->server,
                                          settings->timeout);
                        }});
  }
  {
    CLI::App* whoami = app.add_subcommand(
        "whoami", "show this device's account, device id, username, server and devices");
    whoami->group(kAccountGroup);
    whoami->footer("Example:\n  parley whoami\n  parley whoami --json");
    commands.push_back({whoami, [&options] { return run_whoami(options); }});
  }
  {
    auto name = std::make_shared<std::string>();
    CLI::App* username = app.add_subcommand("username", "set or remove your username");
    username->group(kAccountGroup);
    username->require_subcommand(1);
    username->footer("Example:\n  parley username set alice\n  parley username remove");
    CLI::App* set = username->add_subcommand("set", "claim a username (primary device only)");
    set->add_option("NAME", *name, "3-32 characters of a-z, 0-9, '_' and '.'")->required();
    set->footer("Example:\n  parley username set alice");
    CLI::App* remove = username->add_subcommand(
        "remove", "give your username up; people who know you keep the conversation");
    remove->footer("Example:\n  parley username remove");
    commands.push_back({set, [&options, name] { return run_set_username(options, *name); }});
    commands.push_back({remove, [&options] { return run_set_username(options, ""); }});
  }
  {
    auto name = std::make_shared<std::string>();
    CLI::App* lookup = app.add_subcommand(
        "lookup", "find a user by username and remember their identity key (trust on first use)");
    lookup->group(kAccountGroup);
    lookup->add_option("NAME", *name, "the username")->required();
    lookup->footer("Example:\n  parley lookup bob");
    commands.push_back({lookup, [&options, name] { return run_lookup(options, *name); }});
  }
  {
    auto id = std::make_shared<std::string>();
    CLI::App* devices = app.add_subcommand("devices", "manage the devices of your account");
    devices->group(kAccountGroup);
    devices->require_subcommand(1);
    devices->footer("`parley whoami` lists the devices.\n\nExample:\n  parley devices remove 2");
    CLI::App* remove = devices->add_subcommand(
        "remove", "remove a linked device (primary only); it can no longer read new messages");
    remove->add_option("ID", *id, "the device id, from `parley whoami`")->required();
    remove->footer("Example:\n  parley devices remove 2");
    commands.push_back({remove, [&options, id] { return run_remove_device(options, *id); }});
  }
}

}  // namespace parley::cli
