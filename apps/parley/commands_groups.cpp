// SPDX-License-Identifier: AGPL-3.0-or-later
//
// group create | add | remove | leave | admin | rename | info | list | send | history.

#include <iostream>
#include <memory>

#include "args.h"
#include "commands.h"
#include "errors.h"
#include "json.h"
#include "message_view.h"
#include "output.h"
#include "parley/util/encoding.h"
#include "text.h"

namespace parley::cli {

namespace {

constexpr const char* kGroupArgHelp = "the group: its name, its id, or a unique start of the id";

Result<std::unique_ptr<Session>> open_home(const GlobalOptions& options) {
  return Session::open(options, Session::HomeMode::kExisting, Session::LockMode::kOptional,
                       EventDisplay::kImportant);
}

std::string members_json(const client::GroupView& group) {
  std::string out = "[";
  for (const auto& member : group.members) {
    if (out.size() > 1) out += ",";
    out += JsonLine()
               .str("account", member.account_id_hex)
               .str("username", member.username)
               .boolean("admin", member.admin)
               .line();
  }
  return out + "]";
}

std::string group_json(const client::GroupView& group) {
  return JsonLine()
      .str("group_id", group.group_id_hex)
      .str("name", group.name)
      .num("version", static_cast<std::int64_t>(group.version))
      .boolean("member", group.is_member)
      .boolean("admin", group.is_admin)
      .num("unread", group.unread)
      .num("last_activity_ms", group.last_activity_ms)
      .raw("members", members_json(group))
      .line();
}

// "friends  (3 members, 2 unread)  1a2b3c4d"
std::string group_line(const client::GroupView& group) {
  std::string line =
      terminal_safe(group.name, false) + "  (" + std::to_string(group.members.size()) + " members";
  if (group.unread > 0) line += ", " + std::to_string(group.unread) + " unread";
  if (!group.is_member) line += ", you left";
  if (group.is_admin) line += ", admin";
  return line + ")  " + group.group_id_hex.substr(0, 8);
}

std::string member_line(const client::GroupMemberView& member) {
  std::string name = member.username.empty() ? member.account_id_hex.substr(0, 12)
                                             : terminal_safe(member.username, false);
  return "  " + name + (member.admin ? "  (admin)" : "");
}

// Who wrote a group message, by name when the group's member list knows them.
std::string author_name(const client::GroupView& group, const client::MessageRecord& record) {
  std::string hex = hex_encode(record.sender);
  for (const auto& member : group.members) {
    if (member.account_id_hex == hex && !member.username.empty()) return member.username;
  }
  return hex.empty() ? std::string("someone") : hex.substr(0, 12);
}

int run_create(const GlobalOptions& options, const std::string& name,
               const std::vector<std::string>& users) {
  auto session = open_home(options);
  if (!session.ok()) return fail(session.status());
  auto group = (*session)->client().create_group(name, users);
  if (!group.ok()) return fail(group.status());
  print_result(options,
               "created group " + terminal_safe(group->name, false) + " (" +
                   std::to_string(group->members.size()) + " members), id " + group->group_id_hex,
               group_json(*group));
  return (*session)->deliver("", /*quiet_when_sent=*/true);
}

int run_change(const GlobalOptions& options, const std::function<Status(client::Client&)>& change,
               const std::string& done) {
  auto session = open_home(options);
  if (!session.ok()) return fail(session.status());
  Status changed = change((*session)->client());
  if (!changed.ok()) return fail(changed);
  return (*session)->deliver(done);
}

int run_info(const GlobalOptions& options, const std::string& group) {
  auto session = open_home(options);
  if (!session.ok()) return fail(session.status());
  auto info = (*session)->client().group_info(group);
  if (!info.ok()) return fail(info.status());
  if (options.json) {
    print_result(options, "", group_json(*info));
    return kExitOk;
  }
  std::string text = terminal_safe(info->name, false) + "\n  id " + info->group_id_hex +
                     ", version " + std::to_string(info->version) +
                     (info->is_member ? (info->is_admin ? ", you are an admin" : "")
                                      : ", you are no longer a member");
  for (const auto& member : info->members) text += "\n" + member_line(member);
  print_result(options, text, "");
  return kExitOk;
}

int run_list(const GlobalOptions& options) {
  auto session = open_home(options);
  if (!session.ok()) return fail(session.status());
  auto groups = (*session)->client().groups();
  if (!groups.ok()) return fail(groups.status());
  if (groups->empty() && !options.json) {
    print_status(options, "no groups yet; start one with `parley group create NAME USER...`");
  }
  for (const auto& group : *groups) print_result(options, group_line(group), group_json(group));
  return kExitOk;
}

int run_send(const GlobalOptions& options, const std::string& group,
             const std::vector<std::string>& words) {
  auto text = message_text(words, std::cin);
  if (!text.ok()) return fail(text.status());
  auto session = open_home(options);
  if (!session.ok()) return fail(session.status());
  auto id = (*session)->client().queue_group_text(group, *text);
  if (!id.ok()) return fail(id.status());
  return (*session)->deliver("sent");
}

int run_history(const GlobalOptions& options, const std::string& group, std::size_t limit) {
  auto session = open_home(options);
  if (!session.ok()) return fail(session.status());
  client::Client& client = (*session)->client();
  auto info = client.group_info(group);
  if (!info.ok()) return fail(info.status());
  auto messages = client.group_history(info->group_id_hex, limit);
  if (!messages.ok()) return fail(messages.status());
  for (const client::MessageRecord& record : *messages) {
    bool outgoing = record.direction == client::MessageDirection::kOutgoing;
    MessageView view =
        message_view(record, outgoing ? std::string("you") : author_name(*info, record));
    view.group_id = info->group_id_hex;
    auto file = client.attachment(info->group_id_hex, view.id_hex);
    if (file.ok() && *file) add_file(view, **file);
    print_result(options, message_text_line(view), message_json(view));
  }
  return kExitOk;
}

}  // namespace

void add_group_commands(CLI::App& app, const GlobalOptions& options, Commands& commands) {
  CLI::App* group = app.add_subcommand("group", "groups: create, change, write to and read them");
  group->group(kGroupsGroup);
  group->require_subcommand(1);
  group->footer(
      "A group's name, members and admins live only with its members, in states signed by an\n"
      "admin; the server sees who receives each group message, never the group itself.\n"
      "Changes need your primary device. Each message is encrypted once for all members.\n\n"
      "Example:\n"
      "  parley group create climbers bob carol\n"
      "  parley group send climbers see you at the wall\n"
      "  parley group remove climbers carol");
  {
    struct Settings {
      std::string name;
      std::vector<std::string> users;
    };
    auto settings = std::make_shared<Settings>();
    CLI::App* create = group->add_subcommand("create", "create a group (you are its admin)");
    create->add_option("NAME", settings->name, "the group's name (1 to 128 bytes)")->required();
    create->add_option("USER", settings->users, "the other members' usernames");
    create->footer("Example:\n  parley group create climbers bob carol");
    commands.push_back({create, [&options, settings] {
                          return run_create(options, settings->name, settings->users);
                        }});
  }
  {
    struct Settings {
      std::string group;
      std::vector<std::string> users;
    };
    auto settings = std::make_shared<Settings>();
    CLI::App* add = group->add_subcommand("add", "add members (admins only)");
    add->add_option("GROUP", settings->group, kGroupArgHelp)->required();
    add->add_option("USER", settings->users, "usernames to add")->required();
    add->footer(
        "New members read what is written from now on, not what came before.\n\n"
        "Example:\n  parley group add climbers dave erin");
    commands.push_back({add, [&options, settings] {
                          return run_change(
                              options,
                              [settings](client::Client& c) {
                                return c.add_group_members(settings->group, settings->users);
                              },
                              "added");
                        }});
  }
  {
    struct Settings {
      std::string group;
      std::string user;
    };
    auto settings = std::make_shared<Settings>();
    CLI::App* remove = group->add_subcommand("remove", "remove a member (admins only)");
    remove->add_option("GROUP", settings->group, kGroupArgHelp)->required();
    remove->add_option("USER", settings->user, "the member's username")->required();
    remove->footer(
        "Every member's devices switch to new keys: the removed member cannot read what\n"
        "follows.\n\n"
        "Example:\n  parley group remove climbers carol");
    commands.push_back({remove, [&options, settings] {
                          return run_change(
                              options,
                              [settings](client::Client& c) {
                                return c.remove_group_member(settings->group, settings->user);
                              },
                              "removed");
                        }});
  }
  {
    auto target = std::make_shared<std::string>();
    CLI::App* leave = group->add_subcommand("leave", "leave a group");
    leave->add_option("GROUP", *target, kGroupArgHelp)->required();
    leave->footer(
        "If you are its only admin, the remaining member with the lowest account id becomes\n"
        "admin.\n\nExample:\n  parley group leave climbers");
    commands.push_back(
        {leave, [&options, target] {
           return run_change(
               options, [target](client::Client& c) { return c.leave_group(*target); }, "left");
         }});
  }
  {
    struct Settings {
      std::string group;
      std::string user;
      bool revoke = false;
    };
    auto settings = std::make_shared<Settings>();
    CLI::App* admin = group->add_subcommand("admin", "make a member an admin (admins only)");
    admin->add_option("GROUP", settings->group, kGroupArgHelp)->required();
    admin->add_option("USER", settings->user, "the member's username")->required();
    admin->add_flag("--revoke", settings->revoke, "take admin away instead");
    admin->footer(
        "Example:\n  parley group admin climbers bob\n  parley group admin climbers bob --revoke");
    commands.push_back({admin, [&options, settings] {
                          return run_change(
                              options,
                              [settings](client::Client& c) {
                                return c.set_group_admin(settings->group, settings->user,
                                                         !settings->revoke);
                              },
                              settings->revoke ? "no longer an admin" : "now an admin");
                        }});
  }
  {
    struct Settings {
      std::string group;
      std::string name;
    };
    auto settings = std::make_shared<Settings>();
    CLI::App* rename = group->add_subcommand("rename", "rename a group (admins only)");
    rename->add_option("GROUP", settings->group, kGroupArgHelp)->required();
    rename->add_option("NAME", settings->name, "the new name")->required();
    rename->footer("Example:\n  parley group rename climbers \"climbers 2027\"");
    commands.push_back({rename, [&options, settings] {
                          return run_change(
                              options,
                              [settings](client::Client& c) {
                                return c.rename_group(settings->group, settings->name);
                              },
                              "renamed");
                        }});
  }
  {
    auto target = std::make_shared<std::string>();
    CLI::App* info = group->add_subcommand("info", "show a group's members and admins");
    info->add_option("GROUP", *target, kGroupArgHelp)->required();
    info->footer("Example:\n  parley group info climbers\n  parley group info 1a2b --json");
    commands.push_back({info, [&options, target] { return run_info(options, *target); }});
  }
  {
    CLI::App* list = group->add_subcommand("list", "list your groups");
    list->footer("Example:\n  parley group list");
    commands.push_back({list, [&options] { return run_list(options); }});
  }
  {
    struct Settings {
      std::string group;
      std::vector<std::string> words;
    };
    auto settings = std::make_shared<Settings>();
    CLI::App* send = group->add_subcommand("send", "send a text to a group");
    send->add_option("GROUP", settings->group, kGroupArgHelp)->required();
    send->add_option("TEXT", settings->words,
                     "the message; words are joined with spaces. Without TEXT, or with -, the "
                     "message is all of stdin");
    send->footer(
        "Like `parley send`: queued first, sent now if the server is reachable (else exit 75 and\n"
        "sent by the next parley command that connects).\n\n"
        "Example:\n  parley group send climbers see you at 8");
    commands.push_back({send, [&options, settings] {
                          return run_send(options, settings->group, settings->words);
                        }});
  }
  {
    struct Settings {
      std::string group;
      std::size_t limit = 50;
    };
    auto settings = std::make_shared<Settings>();
    CLI::App* history =
        group->add_subcommand("history", "show a group's latest messages (and mark them read)");
    history->add_option("GROUP", settings->group, kGroupArgHelp)->required();
    history->add_option("--limit", settings->limit, "how many messages, oldest first")
        ->type_name("N")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    history->footer("Example:\n  parley group history climbers --limit 20");
    commands.push_back({history, [&options, settings] {
                          return run_history(options, settings->group, settings->limit);
                        }});
  }
}

}  // namespace parley::cli
