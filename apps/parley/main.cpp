// SPDX-License-Identifier: AGPL-3.0-or-later
//
// parley — the Parley command-line client.
//
//   parley [--home DIR] [--passphrase-file FILE] [--json] [-q] <command> ...
//
// `parley --help` lists the commands; `parley <command> --help` explains one, with an example.

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands.h"
#include "errors.h"
#include "text.h"

namespace {

using namespace parley;
using namespace parley::cli;

constexpr const char* kPassphraseHelp =
    "read the database passphrase from FILE (without its final newline), or set PARLEY_PASSPHRASE. "
    "With a "
    "passphrase the database key is Argon2id(passphrase); without one, a random key file "
    "<home>/db.key with mode 0600 is used. The choice is fixed when the home is created.";

constexpr const char* kQuickStart =
    "Quick start:\n"
    "  parley init --server chat.example.org:8443 --username alice\n"
    "  parley send bob \"hello from the terminal\"\n"
    "  parley listen";

// Descriptions sit in a column after the names; wrap them to stay within 100 columns.
constexpr std::size_t kHelpWidth = 100 - 30;

void wrap_help(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    option->description(wrap_words(option->get_description(), kHelpWidth));
    if (!option->nonpositional()) option->type_name("");  // "USER", not "USER TEXT"
  }
  for (CLI::App* sub : app.get_subcommands({})) {
    sub->description(wrap_words(sub->get_description(), kHelpWidth));
    wrap_help(*sub);
  }
}

}  // namespace

// Commands report failures as Status; an exception that still escapes (bad_alloc, a CLI11 setup
// bug) is fatal, and std::terminate is the right end for it.
// NOLINTNEXTLINE(bugprone-exception-escape): see above.
int main(int argc, char** argv) {
  // A server or a reader that goes away mid-write is an error to report, not a reason to die.
  (void)signal(SIGPIPE, SIG_IGN);

  CLI::App app(
      "parley — the Parley messenger on the command line: end-to-end encrypted messages, stored "
      "in an encrypted local database.",
      "parley");
  app.get_formatter()->column_width(30);
  app.fallthrough();  // global options work after the command too: `parley chats --json`
  app.require_subcommand(1);

  GlobalOptions options;
  app.add_option("--home", options.home,
                 "this device's data directory (default $XDG_DATA_HOME/parley, or "
                 "~/.local/share/parley)")
      ->envname("PARLEY_HOME")
      ->type_name("DIR")
      ->group("Global options");
  app.add_option("--passphrase-file", options.passphrase_file, kPassphraseHelp)
      ->type_name("FILE")
      ->group("Global options");
  app.add_flag("--json", options.json, "machine output: one JSON object per line on stdout")
      ->group("Global options");
  app.add_flag("-q,--quiet", options.quiet, "no progress or status lines on stderr")
      ->group("Global options");
  app.footer(kQuickStart);

  Commands commands;
  add_account_commands(app, options, commands);
  add_message_commands(app, options, commands);
  add_file_commands(app, options, commands);
  add_group_commands(app, options, commands);
  add_verify_command(app, options, commands);
  add_network_commands(app, options, commands);
  app.description(wrap_words(app.get_description(), 100));
  wrap_help(app);

  if (argc <= 1) {
    (void)std::fputs(app.help().c_str(), stdout);
    return kExitParse;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::ParseError& error) {
    std::string message = error.what();
    (void)std::fputs(
        error_line(Status::error(ErrorCode::kInvalidArgument, message + "; see `parley --help`"))
            .c_str(),
        stderr);
    (void)std::fputc('\n', stderr);
    return kExitParse;
  }

  for (const Command& command : commands) {
    if (command.app->parsed()) return command.run();
  }
  (void)std::fputs(app.help().c_str(), stdout);
  return kExitParse;
}
