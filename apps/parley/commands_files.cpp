// SPDX-License-Identifier: AGPL-3.0-or-later
//
// send-file, and --out on receive and listen (where received files are saved).

#include <filesystem>
#include <memory>

#include "commands.h"
#include "errors.h"
#include "text.h"

namespace parley::cli {

namespace {

int run_send_file(const GlobalOptions& options, const std::string& to, const std::string& path,
                  const std::string& caption, bool group) {
  auto session = Session::open(options, Session::HomeMode::kExisting, Session::LockMode::kOptional,
                               EventDisplay::kImportant);
  if (!session.ok()) return fail(session.status());
  client::Client& client = (*session)->client();
  auto id =
      group ? client.queue_group_file(to, path, caption) : client.queue_file(to, path, caption);
  if (!id.ok()) return fail(id.status());
  std::string name = std::filesystem::path(path).filename().string();
  return (*session)->deliver("sent " + terminal_safe(name, false));
}

}  // namespace

void add_file_commands(CLI::App& app, GlobalOptions& options, Commands& commands) {
  {
    struct Settings {
      std::string to;
      std::string path;
      std::string caption;
      bool group = false;
    };
    auto settings = std::make_shared<Settings>();
    CLI::App* send_file = app.add_subcommand("send-file", "send a file, end-to-end encrypted");
    send_file->group(kMessagesGroup);
    send_file->add_option("USER", settings->to, "the recipient's username (or a group: --group)")
        ->required();
    send_file->add_option("PATH", settings->path, "the file to send (at most 100 MiB)")->required();
    send_file->add_option("--caption", settings->caption, "a text sent with the file")
        ->type_name("TEXT");
    send_file->add_flag("--group", settings->group,
                        "USER is a group: its id, a unique prefix of it, or its name");
    send_file->footer(
        "The file is encrypted with a fresh key into the home first (so it may change or go\n"
        "away afterwards), then uploaded in small chunks with a progress bar; the key travels\n"
        "inside the end-to-end message that follows. An upload that is cut off resumes where it\n"
        "stopped with the next parley command that connects (exit status 75 until then).\n"
        "The recipient's `parley receive` or `parley listen` downloads it (see --out there).\n\n"
        "Example:\n"
        "  parley send-file bob holiday.jpg --caption \"the view from the top\"\n"
        "  parley send-file --group climbers topo.pdf");
    commands.push_back({send_file, [&options, settings] {
                          return run_send_file(options, settings->to, settings->path,
                                               settings->caption, settings->group);
                        }});
  }
  // Received files are downloaded by the commands that receive.
  for (const char* name : {"receive", "listen"}) {
    CLI::App* receiving = app.get_subcommand(name);
    receiving
        ->add_option("--out", options.download_dir,
                     "save received files in DIR (default: <home>/downloads); each is saved once "
                     "downloaded and verified, under its sender's name made safe, never "
                     "replacing a file")
        ->type_name("DIR");
  }
}

}  // namespace parley::cli
