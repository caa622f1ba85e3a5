// SPDX-License-Identifier: AGPL-3.0-or-later
#include "context.h"

#include <unistd.h>

#include <cstdio>

#include "errors.h"
#include "output.h"
#include "parley/client/database_key.h"
#include "parley/client/home_path.h"
#include "parley/util/secret_bytes.h"
#include "passphrase.h"
#include "progress.h"

namespace parley::cli {

namespace {

void write_line(std::FILE* stream, const std::string& line) {
  (void)std::fwrite(line.data(), 1, line.size(), stream);
  (void)std::fputc('\n', stream);
  (void)std::fflush(stream);
}

}  // namespace

bool stderr_is_tty() {
  return ::isatty(STDERR_FILENO) == 1;
}

bool stdin_is_tty() {
  return ::isatty(STDIN_FILENO) == 1;
}

int fail(const Status& status) {
  write_line(stderr, error_line(status));
  return exit_code_for(status);
}

void print_result(const GlobalOptions& options, const std::string& text, const std::string& json) {
  write_line(stdout, options.json ? json : text);
}

void print_status(const GlobalOptions& options, const std::string& text) {
  if (!options.quiet) write_line(stderr, "parley: " + text);
}

Session::Session(const GlobalOptions& options, std::filesystem::path home, EventDisplay display)
    : options_(options), home_(std::move(home)), display_(display) {}

Result<std::unique_ptr<Session>> Session::open(const GlobalOptions& options, HomeMode home_mode,
                                               LockMode lock_mode, EventDisplay display) {
  PARLEY_ASSIGN_OR_RETURN(std::filesystem::path home,
                          client::resolve_home(options.home, client::process_env()));
  // Opening a home creates its key; only init and join-device may do that, so that a stray
  // `parley chats` does not fix the key choice (passphrase or key file) of a home by accident.
  if (home_mode == HomeMode::kExisting && !client::database_key_source(home)) {
    return Status::error(ErrorCode::kNotInitialized,
                         "there is no Parley account in " + home.string() +
                             "; run `parley init` or `parley join-device` first (or pass --home)");
  }
  std::unique_ptr<Session> session(new Session(options, home, display));

  // The lock comes before the database so that a second `parley init` cannot race the first.
  if (home_mode == HomeMode::kCreate) {
    std::error_code error;
    std::filesystem::create_directories(home, error);
    if (error) {
      return Status::error(ErrorCode::kStorageIo,
                           "cannot create " + home.string() + ": " + error.message());
    }
    std::filesystem::permissions(home, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, error);
  }
  auto lock = client::HomeLock::try_acquire(client::HomeLock::lock_file_in(home));
  if (lock.ok()) {
    session->lock_.emplace(std::move(lock).value());
  } else if (lock.status().code() == ErrorCode::kFailedPrecondition &&
             lock_mode == LockMode::kOptional) {
    session->holder_ = client::HomeLock::holder_pid(client::HomeLock::lock_file_in(home));
  } else {
    return lock.status();
  }

  PARLEY_ASSIGN_OR_RETURN(auto passphrase,
                          load_passphrase(options.passphrase_file, client::process_env()));
  client::ClientOptions client_options;
  client_options.home = home;
  client_options.passphrase = passphrase;
  if (passphrase) {
    // One reference: clang-analyzer 14 takes optional::operator->'s addressof for a reallocation.
    std::string& secret = *passphrase;
    secure_wipe(secret.data(), secret.size());
  }
  auto client = client::Client::open(std::move(client_options));
  if (!client.ok()) return client.status();
  session->client_ = std::move(client).value();
  session->client_->set_offline(!session->holds_lock());
  if (options.download_dir) session->client_->set_download_dir(*options.download_dir);
  if (!options.quiet) {
    // File transfers: a bar on a terminal, else a line every 10%, on stderr.
    auto meter = std::make_shared<ProgressMeter>(stderr_is_tty());
    session->client_->set_transfer_progress_handler(
        [meter](const client::TransferProgress& progress) {
          auto text = meter->update(progress, ProgressMeter::Clock::now());
          if (!text) return;
          const std::string& bar = *text;  // see secure_wipe above: no -> between data() and size()
          (void)std::fwrite(bar.data(), 1, bar.size(), stderr);
          (void)std::fflush(stderr);
        });
  }
  Session* raw = session.get();
  session->client_->set_event_handler([raw](const client::Event& event) { raw->on_event(event); });
  if (home_mode == HomeMode::kExisting && !session->client_->initialized()) {
    return Status::error(ErrorCode::kNotInitialized,
                         "the home " + home.string() +
                             " has no account yet; run `parley init` or `parley join-device`");
  }
  return session;
}

bool Session::try_lock() {
  if (lock_) return true;
  auto lock = client::HomeLock::try_acquire(client::HomeLock::lock_file_in(home_));
  if (!lock.ok()) return false;
  lock_.emplace(std::move(lock).value());
  holder_.reset();
  client_->set_offline(false);
  return true;
}

int Session::deliver(const std::string& sent_text, bool quiet_when_sent) {
  if (!lock_) {
    std::string who = holder_ ? "the running parley (pid " + std::to_string(*holder_) + ")"
                              : std::string("the running parley");
    print_result(options_, "queued; " + who + " will send it",
                 "{\"result\":\"queued\",\"sender_pid\":" +
                     (holder_ ? std::to_string(*holder_) : std::string("null")) + "}");
    return kExitOk;
  }
  Status flushed = client_->flush();
  if (flushed.ok()) {
    if (!quiet_when_sent) print_result(options_, sent_text, "{\"result\":\"sent\"}");
    return kExitOk;
  }
  if (is_network_error(flushed.code())) {
    print_result(options_, "queued: will be sent when the server is reachable",
                 "{\"result\":\"queued\",\"sender_pid\":null}");
    write_line(stderr, error_line(flushed));
    return kExitTempFail;
  }
  return fail(flushed);
}

void Session::on_event(const client::Event& event) {
  if (event.kind == client::Event::Kind::kIdentityChanged) {
    // Loud on stderr in every mode, --json and --quiet included: this one must not be missed.
    std::string warning = identity_warning(event);
    (void)std::fwrite(warning.data(), 1, warning.size(), stderr);
    (void)std::fflush(stderr);
    if (options_.json) write_line(stdout, event_json(event));
    return;
  }
  if (event.kind == client::Event::Kind::kWarning) {
    if (options_.json) {
      write_line(stdout, event_json(event));
    } else {
      write_line(stderr, "parley: " + event_text(event));
    }
    return;
  }
  if (event.kind == client::Event::Kind::kTransport) {
    // Only the outcome, and only where a person watches the connection (receive, listen): on
    // stderr so stdout stays the messages; "connecting" would flicker on every reconnect.
    if (display_ != EventDisplay::kAll ||
        event.value == static_cast<std::int64_t>(net::TransportState::kConnecting)) {
      return;
    }
    if (options_.json) {
      write_line(stdout, event_json(event));
    } else if (!options_.quiet) {
      write_line(stderr, "parley: " + event_text(event));
    }
    return;
  }
  bool shown = display_ == EventDisplay::kAll || event.kind == client::Event::Kind::kMessage ||
               event.kind == client::Event::Kind::kDeviceLinked ||
               event.kind == client::Event::Kind::kFileReceived;
  if (!shown) return;
  if (options_.json) {
    write_line(stdout, event_json(event));
  } else if (std::string line = event_text(event); !line.empty()) {
    write_line(stdout, line);
  }
}

}  // namespace parley::cli
