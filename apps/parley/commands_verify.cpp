// SPDX-License-Identifier: AGPL-3.0-or-later
//
// verify: compare safety numbers and mark a contact verified.

#include <iostream>
#include <memory>

#include "commands.h"
#include "errors.h"
#include "json.h"
#include "output.h"
#include "parley/util/encoding.h"
#include "qr_terminal.h"
#include "text.h"

namespace parley::cli {

namespace {

struct VerifySettings {
  std::string user;
  bool mark = false;
  bool invert = false;
};

bool ask_yes(const std::string& question) {
  std::cerr << question << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "yes";
}

int run_verify(const GlobalOptions& options, const VerifySettings& settings) {
  auto session = Session::open(options, Session::HomeMode::kExisting, Session::LockMode::kOptional,
                               EventDisplay::kImportant);
  if (!session.ok()) return fail(session.status());
  client::Client& client = (*session)->client();
  auto number = client.safety_number(settings.user);
  if (!number.ok()) return fail(number.status());
  // The QR code carries the scannable form as base64 text: scanners hand text over reliably,
  // raw binary not always.
  std::string scannable = base64_encode(number->scannable);
  std::string name = terminal_safe(settings.user, false);
  if (options.json) {
    print_result(options, "",
                 JsonLine()
                     .str("peer", settings.user)
                     .str("safety_number", number->digits)
                     .str("scannable_base64", scannable)
                     .boolean("verified", number->verified)
                     .line());
  } else {
    auto qr = qr_terminal(scannable, {.quiet_zone = 4, .invert = settings.invert});
    print_result(options,
                 "Safety number with " + name +
                     " (the same on both sides when nobody is in between):\n\n" +
                     format_safety_number(number->digits) +
                     "\n\nOr scan (the code holds the scannable form in base64):\n" +
                     (qr.ok() ? *qr : std::string("(no QR code)\n")) +
                     (number->verified ? "status: verified" : "status: not verified"),
                 "");
  }
  bool mark = settings.mark;
  if (!mark && !number->verified && !options.json && stdin_is_tty()) {
    mark = ask_yes("Do the numbers match what " + name + " sees? Type yes to mark them verified: ");
  }
  if (!mark) return kExitOk;
  Status marked = client.mark_verified(settings.user);
  if (!marked.ok()) return fail(marked);
  print_result(options, name + " is now verified",
               JsonLine().str("result", "verified").str("peer", settings.user).line());
  return kExitOk;
}

}  // namespace

void add_verify_command(CLI::App& app, const GlobalOptions& options, Commands& commands) {
  auto settings = std::make_shared<VerifySettings>();
  CLI::App* verify = app.add_subcommand(
      "verify", "show the safety number with someone, to compare in person, and mark it checked");
  verify->group(kSafetyGroup);
  verify->add_option("USER", settings->user, "the other person's username")->required();
  verify->add_flag("--mark", settings->mark,
                   "mark the contact verified without asking (you compared the numbers)");
  verify->add_flag("--qr-invert", settings->invert,
                   "draw the QR code for a terminal with dark text on a light background");
  verify->footer(
      "Prints 60 digits in 12 groups of 5 and a QR code. Compare them with the other person\n"
      "(in person or over a call). On a terminal it then asks whether they match.\n\n"
      "Example:\n"
      "  parley verify bob\n"
      "  parley verify bob --mark");
  commands.push_back({verify, [&options, settings] { return run_verify(options, *settings); }});
}

}  // namespace parley::cli
