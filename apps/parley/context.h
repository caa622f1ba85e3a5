// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// What every command shares: the global options, opening the home (client + lock), printing
// results and events in text or JSON, and turning failures into one line and an exit status.

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parley/client/client.h"
#include "parley/client/home_lock.h"
#include "parley/util/status.h"

namespace CLI {
class App;
}

namespace parley::cli {

struct GlobalOptions {
  std::optional<std::string> home;
  std::optional<std::string> passphrase_file;
  bool json = false;
  bool quiet = false;
  std::optional<std::string> download_dir;  // --out on receive/listen: where files are saved
};

// A command to run after parsing, when its (sub)command was given.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};
using Commands = std::vector<Command>;

// How events are shown while a command runs.
enum class EventDisplay {
  kAll,        // receive / listen: every event
  kImportant,  // other commands: incoming messages and warnings only
};

class Session {
 public:
  // Which commands may create a home, and which need to be the home's only connected process.
  enum class HomeMode { kCreate, kExisting };
  enum class LockMode {
    kRequired,  // fail with "another parley (pid N) is using this home" when held
    kOptional,  // when held, work offline (Client::set_offline) and let the holder send
  };

  static Result<std::unique_ptr<Session>> open(const GlobalOptions& options, HomeMode home_mode,
                                               LockMode lock_mode, EventDisplay display);

  client::Client& client() { return *client_; }
  const std::filesystem::path& home() const { return home_; }
  bool holds_lock() const { return lock_.has_value(); }
  std::optional<pid_t> holder() const { return holder_; }
  const GlobalOptions& options() const { return options_; }

  // Tries to take the lock later (e.g. `history` flushes receipts when it is free).
  bool try_lock();

  // Sends what the outbox holds if this process holds the lock. Returns an exit status and prints
  // the outcome: `sent_text` on success; on a network error a note that it stays queued (75); when
  // another parley holds the lock, that it will send it (0).
  int deliver(const std::string& sent_text, bool quiet_when_sent = false);

 private:
  Session(const GlobalOptions& options, std::filesystem::path home, EventDisplay display);
  void on_event(const client::Event& event);

  GlobalOptions options_;
  std::filesystem::path home_;
  EventDisplay display_;
  // The lock outlives the client (members are destroyed in reverse order): the connection is
  // closed before another process may take over.
  std::optional<client::HomeLock> lock_;
  std::optional<pid_t> holder_;
  std::unique_ptr<client::Client> client_;
};

// Prints the error line and returns the exit status for it.
int fail(const Status& status);
// A result for stdout: the text line, or the JSON line with --json. Flushed at once (pipes).
void print_result(const GlobalOptions& options, const std::string& text, const std::string& json);
// Progress and status for people, on stderr; nothing with --quiet.
void print_status(const GlobalOptions& options, const std::string& text);

bool stderr_is_tty();
bool stdin_is_tty();

}  // namespace parley::cli
