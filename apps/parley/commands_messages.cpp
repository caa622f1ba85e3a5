// SPDX-License-Identifier: AGPL-3.0-or-later
//
// send, receive, listen, chats, history, typing, timer.

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

#include "args.h"
#include "commands.h"
#include "duration.h"
#include "errors.h"
#include "json.h"
#include "message_view.h"
#include "output.h"
#include "parley/net/backoff.h"
#include "parley/util/encoding.h"
#include "text.h"

namespace parley::cli {

namespace {

using std::chrono::steady_clock;

volatile sig_atomic_t g_stop = 0;

extern "C" void on_stop_signal(int) {
  g_stop = 1;
}

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  // No SA_RESTART: a blocking read returns early, and the loops check g_stop often anyway.
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

Result<std::unique_ptr<Session>> open_existing(const GlobalOptions& options, Session::LockMode lock,
                                               EventDisplay display) {
  return Session::open(options, Session::HomeMode::kExisting, lock, display);
}

int run_send(const GlobalOptions& options, const std::string& user,
             const std::vector<std::string>& words) {
  // Read and check the text before anything else: a mistake costs no database open.
  auto text = message_text(words, std::cin);
  if (!text.ok()) return fail(text.status());
  auto session = open_existing(options, Session::LockMode::kOptional, EventDisplay::kImportant);
  if (!session.ok()) return fail(session.status());
  auto id = (*session)->client().queue_text(user, *text);
  if (!id.ok()) return fail(id.status());
  return (*session)->deliver("sent");
}

int run_receive(const GlobalOptions& options) {
  auto session = open_existing(options, Session::LockMode::kRequired, EventDisplay::kAll);
  if (!session.ok()) return fail(session.status());
  Status synced = (*session)->client().sync();
  if (!synced.ok()) return fail(synced);
  return kExitOk;
}

// Sleeps up to `delay`, waking early for a stop signal.
void sleep_unless_stopped(std::chrono::milliseconds delay) {
  auto until = steady_clock::now() + delay;
  while (!g_stop && steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string seconds_text(std::chrono::milliseconds delay) {
  char buffer[32];
  (void)std::snprintf(buffer, sizeof(buffer), "%.1f s",
                      static_cast<double>(delay.count()) / 1000.0);
  return buffer;
}

int run_listen(const GlobalOptions& options) {
  install_stop_handlers();
  auto session = open_existing(options, Session::LockMode::kRequired, EventDisplay::kAll);
  if (!session.ok()) return fail(session.status());
  client::Client& client = (*session)->client();
  // A connection that stayed up this long was a real one: the next outage starts again at 1 s.
  constexpr auto kStable = std::chrono::seconds(30);
  net::Backoff backoff;
  bool disconnected = false;
  print_status(options, "listening; Ctrl-C to stop");
  while (!g_stop) {
    std::optional<steady_clock::time_point> connected_at;
    Status result = client.listen([&] {
      if (!connected_at) {
        connected_at = steady_clock::now();
        if (disconnected) print_status(options, "reconnected");
        disconnected = false;
      }
      // Stop too when nobody reads our output any more (a closed pipe).
      return !g_stop && !std::ferror(stdout);
    });
    if (g_stop || std::ferror(stdout)) break;
    if (result.ok()) continue;
    if (!is_network_error(result.code())) return fail(result);
    client.disconnect();
    if (connected_at && steady_clock::now() - *connected_at >= kStable) backoff.reset();
    auto delay = backoff.next();
    print_status(options, std::string(connected_at ? "disconnected" : "not connected") + " (" +
                              result.message() + "); retrying in " + seconds_text(delay));
    disconnected = true;
    sleep_unless_stopped(delay);
  }
  client.disconnect();
  print_status(options, "stopped");
  return kExitOk;
}

int run_chats(const GlobalOptions& options) {
  auto session = open_existing(options, Session::LockMode::kOptional, EventDisplay::kImportant);
  if (!session.ok()) return fail(session.status());
  auto chats = (*session)->client().chats();
  if (!chats.ok()) return fail(chats.status());
  if (chats->empty() && !options.json) {
    print_status(options, "no conversations yet; start one with `parley send USER TEXT`");
  }
  for (const client::ChatSummary& summary : *chats) {
    ChatView view;
    view.peer = summary.contact.username.empty() ? summary.contact.account_id_hex
                                                 : summary.contact.username;
    view.account_hex = summary.contact.account_id_hex;
    view.verified = summary.contact.verified;
    view.identity_changed = summary.contact.identity_changed;
    view.unread = summary.unread;
    view.last_activity_ms = summary.last_activity_ms;
    view.disappearing_seconds = summary.disappearing_seconds;
    if (summary.last_message) {
      view.has_last = true;
      view.last = message_view(*summary.last_message, view.peer);
    }
    print_result(options, chat_text_line(view), chat_json(view));
  }
  return kExitOk;
}

int run_history(const GlobalOptions& options, const std::string& user, std::size_t limit) {
  auto session = open_existing(options, Session::LockMode::kOptional, EventDisplay::kImportant);
  if (!session.ok()) return fail(session.status());
  client::Client& client = (*session)->client();
  auto messages = client.history(user, limit);
  if (!messages.ok()) return fail(messages.status());
  for (const client::MessageRecord& record : *messages) {
    MessageView view = message_view(record, user);
    auto file = client.attachment(user, view.id_hex);
    if (file.ok() && *file) add_file(view, **file);
    print_result(options, message_text_line(view), message_json(view));
  }
  // Reading the history is reading the messages: mark them read and, when nobody else holds the
  // connection, send the read receipts now (a failure only leaves them queued).
  Status read = client.mark_read(user);
  if (!read.ok()) return fail(read);
  if ((*session)->holds_lock()) {
    Status flushed = client.flush();
    if (!flushed.ok() && !is_network_error(flushed.code())) return fail(flushed);
  }
  return kExitOk;
}

int run_typing(const GlobalOptions& options, const std::string& user, bool stop) {
  auto session = open_existing(options, Session::LockMode::kOptional, EventDisplay::kImportant);
  if (!session.ok()) return fail(session.status());
  Status queued = (*session)->client().send_typing(user, !stop);
  if (!queued.ok()) return fail(queued);
  return (*session)->deliver(stop ? "typing stopped" : "typing");
}

int run_timer(const GlobalOptions& options, const std::string& user, const std::string& value) {
  auto seconds = parse_timer(value);
  if (!seconds.ok()) return fail(seconds.status());
  auto session = open_existing(options, Session::LockMode::kOptional, EventDisplay::kImportant);
  if (!session.ok()) return fail(session.status());
  Status set = (*session)->client().set_disappearing_timer(user, seconds->count());
  if (!set.ok()) return fail(set);
  std::string shown = seconds->count() == 0 ? std::string("off") : format_duration(*seconds);
  return (*session)->deliver("disappearing messages with " + terminal_safe(user, false) + ": " +
                             shown);
}

}  // namespace

void add_message_commands(CLI::App& app, const GlobalOptions& options, Commands& commands) {
  {
    struct Settings {
      std::string user;
      std::vector<std::string> words;
    };
    auto settings = std::make_shared<Settings>();
    CLI::App* send = app.add_subcommand("send", "send a text message");
    send->group(kMessagesGroup);
    send->add_option("USER", settings->user, "the recipient's username")->required();
    send->add_option("TEXT", settings->words,
                     "the message; words are joined with spaces. Without TEXT, or with -, the "
                     "message is all of stdin");
    send->footer(
        "The message goes into the outbox first, so it is never lost: when the server is not\n"
        "reachable it stays queued (exit status 75) and is sent by the next parley command that\n"
        "connects. While `parley listen` runs for this home, it sends the message.\n\n"
        "Example:\n"
        "  parley send bob see you at 8\n"
        "  fortune | parley send bob -");
    commands.push_back({send, [&options, settings] {
                          return run_send(options, settings->user, settings->words);
                        }});
  }
  {
    CLI::App* receive =
        app.add_subcommand("receive", "fetch and show everything waiting on the server, then exit");
    receive->group(kMessagesGroup);
    receive->footer(
        "Also sends what the outbox holds, and receipts.\n\n"
        "Example:\n"
        "  parley receive\n"
        "  parley receive --json | jq -r 'select(.event == \"message\") | .text'");
    commands.push_back({receive, [&options] { return run_receive(options); }});
  }
  {
    CLI::App* listen = app.add_subcommand(
        "listen", "stay connected and show messages as they arrive, until Ctrl-C");
    listen->group(kMessagesGroup);
    listen->footer(
        "Reconnects after network errors, waiting 1 s, then longer up to 60 s. With --json,\n"
        "each event is one JSON object per line, for example\n"
        "  {\"event\":\"message\",\"from\":\"bob\",\"account\":\"...\",\"device\":1,\"id\":\"...\","
        "\"text\":\"hi\",\"sent_ms\":1767225600000,\"outgoing\":false}\n"
        "Other events: sent, delivered, read, typing, timer, identity_changed, device_linked,\n"
        "group_changed, file_received, warning. A message sent from your other device has\n"
        "\"to\" instead of \"from\"; a group message also has \"group_id\" and \"group\".\n\n"
        "Example:\n"
        "  parley listen\n"
        "  parley listen --json >> events.jsonl");
    commands.push_back({listen, [&options] { return run_listen(options); }});
  }
  {
    CLI::App* chats = app.add_subcommand("chats", "list conversations, newest first");
    chats->group(kMessagesGroup);
    chats->footer("Example:\n  parley chats");
    commands.push_back({chats, [&options] { return run_chats(options); }});
  }
  {
    struct Settings {
      std::string user;
      std::size_t limit = 50;
    };
    auto settings = std::make_shared<Settings>();
    CLI::App* history =
        app.add_subcommand("history", "show the latest messages with someone (and mark them read)");
    history->group(kMessagesGroup);
    history->add_option("USER", settings->user, "the other person's username")->required();
    history->add_option("--limit", settings->limit, "how many messages, oldest first")
        ->type_name("N")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    history->footer("Example:\n  parley history bob --limit 20");
    commands.push_back({history, [&options, settings] {
                          return run_history(options, settings->user, settings->limit);
                        }});
  }
  {
    struct Settings {
      std::string user;
      bool stop = false;
    };
    auto settings = std::make_shared<Settings>();
    CLI::App* typing = app.add_subcommand("typing", "tell someone you are typing");
    typing->group(kMessagesGroup);
    typing->add_option("USER", settings->user, "the other person's username")->required();
    typing->add_flag("--stop", settings->stop, "say you stopped typing instead");
    typing->footer("Example:\n  parley typing bob\n  parley typing bob --stop");
    commands.push_back({typing, [&options, settings] {
                          return run_typing(options, settings->user, settings->stop);
                        }});
  }
  {
    struct Settings {
      std::string user;
      std::string duration;
    };
    auto settings = std::make_shared<Settings>();
    CLI::App* timer = app.add_subcommand(
        "timer", "set disappearing messages for a conversation (both sides follow it)");
    timer->group(kMessagesGroup);
    timer->add_option("USER", settings->user, "the other person's username")->required();
    timer
        ->add_option("DURATION", settings->duration,
                     "how long new messages stay: 30s, 5m, 1h, 1d, 1w, or off")
        ->required();
    timer->footer("Example:\n  parley timer bob 1d\n  parley timer bob off");
    commands.push_back({timer, [&options, settings] {
                          return run_timer(options, settings->user, settings->duration);
                        }});
  }
}

}  // namespace parley::cli
