// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The subcommands, by topic. Each add_* function registers its subcommands on `app` (with help
// and an example) and appends what to run when one of them was given.

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "context.h"

namespace parley::cli {

inline constexpr const char* kAccountGroup = "Account and devices";
inline constexpr const char* kMessagesGroup = "Messages";
inline constexpr const char* kSafetyGroup = "Safety";
inline constexpr const char* kGroupsGroup = "Groups";

// Route settings as flags (init, join-device): --tls-name, --endpoint, --relay, --proxy, --doh.
struct NetworkFlags {
  std::string tls_name;
  std::vector<std::string> endpoints;
  std::vector<std::string> relays;
  std::string proxy;
  std::string doh;
  std::string doh_pin;
};
void add_network_flags(CLI::App& command, NetworkFlags& flags);
Result<client::NetworkSettings> network_settings_from(const NetworkFlags& flags);

void add_account_commands(CLI::App& app, const GlobalOptions& options, Commands& commands);
void add_message_commands(CLI::App& app, const GlobalOptions& options, Commands& commands);
void add_verify_command(CLI::App& app, const GlobalOptions& options, Commands& commands);
// group create|add|remove|leave|admin|rename|info|list|send|history.
void add_group_commands(CLI::App& app, const GlobalOptions& options, Commands& commands);
// send-file, and --out on receive/listen (call after add_message_commands).
void add_file_commands(CLI::App& app, GlobalOptions& options, Commands& commands);
// network, relay add|list|remove, proxy set|off, endpoint add|remove, dns doh|off.
void add_network_commands(CLI::App& app, const GlobalOptions& options, Commands& commands);

}  // namespace parley::cli
