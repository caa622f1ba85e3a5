// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Staying connected: relay, proxy, endpoint, dns, network — and the same settings as flags on
// init and join-device (a censored user may need a relay before the first connection).

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "args.h"
#include "commands.h"
#include "errors.h"
#include "json.h"
#include "output.h"
#include "parley/net/proxy.h"
#include "parley/net/relay_link.h"
#include "text.h"

namespace parley::cli {

void add_network_flags(CLI::App& command, NetworkFlags& flags) {
  command
      .add_option("--tls-name", flags.tls_name,
                  "the server's name for TLS when --server or --endpoint is an IP address")
      ->type_name("NAME");
  command
      .add_option("--endpoint", flags.endpoints,
                  "another address of the same server, tried in parallel (repeatable)")
      ->type_name("HOST:PORT");
  command.add_option("--relay", flags.relays, "a parley://relay link to try as well (repeatable)")
      ->type_name("LINK");
  command
      .add_option("--proxy", flags.proxy,
                  "connect through this proxy: socks5://[user:pass@]host:port or "
                  "http://host:port (tor, ss-local, v2ray, a VPN's proxy)")
      ->type_name("URL");
  command
      .add_option("--doh", flags.doh,
                  "resolve names with DNS over HTTPS, e.g. https://1.1.1.1/dns-query")
      ->type_name("URL");
  command.add_option("--doh-pin", flags.doh_pin, "trust only this resolver certificate (SHA-256)")
      ->type_name("SHA256");
}

Result<client::NetworkSettings> network_settings_from(const NetworkFlags& flags) {
  client::NetworkSettings settings;
  settings.tls_name = flags.tls_name;
  for (const std::string& endpoint : flags.endpoints) {
    PARLEY_RETURN_IF_ERROR(validate_server(endpoint));
    settings.endpoints.push_back(endpoint);
  }
  for (const std::string& text : flags.relays) {
    PARLEY_ASSIGN_OR_RETURN(net::RelayLink link, net::parse_relay_link(text));
    settings.relays.push_back(std::move(link));
  }
  PARLEY_ASSIGN_OR_RETURN(settings.proxy, net::parse_proxy_url(flags.proxy));
  settings.doh_url = flags.doh;
  settings.doh_trust.pinned_sha256 = flags.doh_pin;
  if (!flags.doh_pin.empty()) PARLEY_RETURN_IF_ERROR(validate_pin(flags.doh_pin));
  return settings;
}

namespace {

constexpr const char* kNetworkGroup = "Staying connected";

// Opens the home, applies `change` to its network settings and saves them.
int change_settings(const GlobalOptions& options, const std::string& done,
                    const std::function<Status(client::NetworkSettings&)>& change) {
  auto session = Session::open(options, Session::HomeMode::kExisting, Session::LockMode::kOptional,
                               EventDisplay::kImportant);
  if (!session.ok()) return fail(session.status());
  client::Client& client = (*session)->client();
  auto settings = client.network_settings();
  if (!settings.ok()) return fail(settings.status());
  if (Status changed = change(*settings); !changed.ok()) return fail(changed);
  if (Status saved = client.set_network_settings(*settings); !saved.ok()) return fail(saved);
  print_result(options, done, JsonLine().str("result", "saved").line());
  return kExitOk;
}

bool relay_matches(const net::RelayLink& link, const std::string& what) {
  std::string authority = link.host + ":" + std::to_string(link.port);
  return link.name == what || link.host == what || authority == what;
}

std::string relay_line(const net::RelayLink& link) {
  std::string line = link.host + ":" + std::to_string(link.port);
  if (!link.name.empty()) line = terminal_safe(link.name, false) + " (" + line + ")";
  if (!link.sni.empty()) line += ", cover name " + terminal_safe(link.sni, false);
  return line;
}

int run_network_show(const GlobalOptions& options) {
  auto session = Session::open(options, Session::HomeMode::kExisting, Session::LockMode::kOptional,
                               EventDisplay::kImportant);
  if (!session.ok()) return fail(session.status());
  client::Client& client = (*session)->client();
  auto report = client.network_report();
  if (!report.ok()) return fail(report.status());
  auto account = client.whoami();
  if (!account.ok()) return fail(account.status());
  const client::NetworkSettings& settings = report->settings;
  if (options.json) {
    JsonLine json;
    json.str("server", account->server)
        .str("tls_name", settings.tls_name)
        .str("proxy", settings.proxy.enabled() ? net::proxy_display(settings.proxy) : "")
        .str("doh", settings.doh_url)
        .num("endpoints", static_cast<std::int64_t>(settings.endpoints.size()))
        .num("relays", static_cast<std::int64_t>(settings.relays.size()))
        .str("network", report->network_id)
        .str("last_route", report->last_route)
        .boolean("freeze_mode", report->freeze_mode);
    print_result(options, "", json.line());
    return kExitOk;
  }
  std::string text = "server:     " + account->server;
  if (!settings.tls_name.empty()) text += " (TLS name " + settings.tls_name + ")";
  for (const std::string& endpoint : settings.endpoints) text += "\nendpoint:   " + endpoint;
  for (const net::RelayLink& link : settings.relays) text += "\nrelay:      " + relay_line(link);
  text += "\nproxy:      " +
          (settings.proxy.enabled() ? net::proxy_display(settings.proxy) : std::string("none"));
  text += "\nDNS:        " + (settings.doh_url.empty() ? std::string("the system resolver")
                                                       : "DNS over HTTPS " + settings.doh_url);
  text += "\nthis network (" + report->network_id + "): " +
          (report->last_route.empty() ? std::string("nothing has connected yet")
                                      : "last worked via " + report->last_route);
  if (report->freeze_mode) {
    text += "\n            connections freeze after ~16 KB here: each one is replaced before that";
  }
  print_result(options, text, "");
  return kExitOk;
}

struct NetworkCommandSettings {
  std::string value;
  std::string pin;
};

}  // namespace

void add_network_commands(CLI::App& app, const GlobalOptions& options, Commands& commands) {
  auto settings = std::make_shared<NetworkCommandSettings>();

  CLI::App* network = app.add_subcommand(
      "network", "show how this device reaches the server (routes, proxy, what worked here)");
  network->group(kNetworkGroup);
  network->footer(
      "Parley tries the server, its other endpoints and your relays in parallel and remembers\n"
      "what worked on each network. Change the routes with `parley relay`, `parley proxy`,\n"
      "`parley endpoint` and `parley dns`.");
  commands.push_back({network, [&options] { return run_network_show(options); }});

  CLI::App* relay =
      app.add_subcommand("relay", "add, list or remove relays (parley://relay links)");
  relay->group(kNetworkGroup);
  relay->require_subcommand(1);
  relay->footer(
      "A relay forwards your encrypted connection to the server when the server itself is\n"
      "blocked. Someone who runs parley-relay shares its link (or QR code) with you.\n\n"
      "Example:\n"
      "  parley relay add 'parley://relay?host=relay.example.org&port=443&secret=…&pin=…'");
  CLI::App* relay_add = relay->add_subcommand("add", "add a relay from its share link");
  relay_add->add_option("LINK", settings->value, "the parley://relay?... link")->required();
  commands.push_back({relay_add, [&options, settings] {
                        auto link = net::parse_relay_link(settings->value);
                        if (!link.ok()) return fail(link.status());
                        return change_settings(
                            options, "relay " + link->display() + " added",
                            [&](client::NetworkSettings& network_settings) {
                              auto& relays = network_settings.relays;
                              relays.erase(std::remove_if(relays.begin(), relays.end(),
                                                          [&](const net::RelayLink& known) {
                                                            return known.host == link->host &&
                                                                   known.port == link->port;
                                                          }),
                                           relays.end());
                              relays.push_back(*link);
                              return Status();
                            });
                      }});
  CLI::App* relay_list = relay->add_subcommand("list", "list your relays");
  commands.push_back({relay_list, [&options] {
                        auto session =
                            Session::open(options, Session::HomeMode::kExisting,
                                          Session::LockMode::kOptional, EventDisplay::kImportant);
                        if (!session.ok()) return fail(session.status());
                        auto network_settings = (*session)->client().network_settings();
                        if (!network_settings.ok()) return fail(network_settings.status());
                        if (network_settings->relays.empty()) {
                          print_result(options, "no relays", "");
                        }
                        for (const net::RelayLink& link : network_settings->relays) {
                          print_result(options, relay_line(link),
                                       JsonLine()
                                           .str("host", link.host)
                                           .num("port", link.port)
                                           .str("name", link.name)
                                           .str("sni", link.sni)
                                           .line());
                        }
                        return kExitOk;
                      }});
  CLI::App* relay_remove = relay->add_subcommand("remove", "remove a relay");
  relay_remove->add_option("RELAY", settings->value, "its name, host, or host:port")->required();
  commands.push_back(
      {relay_remove, [&options, settings] {
         return change_settings(
             options, "relay removed", [&](client::NetworkSettings& network_settings) {
               auto& relays = network_settings.relays;
               auto before = relays.size();
               relays.erase(std::remove_if(relays.begin(), relays.end(),
                                           [&](const net::RelayLink& link) {
                                             return relay_matches(link, settings->value);
                                           }),
                            relays.end());
               if (relays.size() == before) {
                 return Status::error(ErrorCode::kNotFound,
                                      "no relay is called " + settings->value);
               }
               return Status();
             });
       }});

  CLI::App* proxy = app.add_subcommand("proxy", "route every connection through a proxy");
  proxy->group(kNetworkGroup);
  proxy->require_subcommand(1);
  proxy->footer(
      "Examples:\n"
      "  parley proxy set socks5://127.0.0.1:9050       # tor\n"
      "  parley proxy set socks5://127.0.0.1:1080       # ss-local, v2ray, snowflake-client\n"
      "  parley proxy set http://user:pass@proxy.example:3128\n"
      "  parley proxy off");
  CLI::App* proxy_set = proxy->add_subcommand("set", "use this proxy");
  proxy_set->add_option("URL", settings->value, "socks5://… or http://…")->required();
  commands.push_back({proxy_set, [&options, settings] {
                        auto parsed = net::parse_proxy_url(settings->value);
                        if (!parsed.ok()) return fail(parsed.status());
                        return change_settings(options,
                                               "proxy set to " + net::proxy_display(*parsed),
                                               [&](client::NetworkSettings& network_settings) {
                                                 network_settings.proxy = *parsed;
                                                 return Status();
                                               });
                      }});
  CLI::App* proxy_off = proxy->add_subcommand("off", "connect without a proxy");
  commands.push_back({proxy_off, [&options] {
                        return change_settings(options, "proxy off",
                                               [](client::NetworkSettings& network_settings) {
                                                 network_settings.proxy = {};
                                                 return Status();
                                               });
                      }});

  CLI::App* endpoint = app.add_subcommand(
      "endpoint", "other addresses of your server (IP addresses help when DNS is tampered with)");
  endpoint->group(kNetworkGroup);
  endpoint->require_subcommand(1);
  CLI::App* endpoint_add = endpoint->add_subcommand("add", "add an address");
  endpoint_add->add_option("HOST:PORT", settings->value, "e.g. 203.0.113.7:443")->required();
  commands.push_back({endpoint_add, [&options, settings] {
                        return change_settings(
                            options, "endpoint " + settings->value + " added",
                            [&](client::NetworkSettings& network_settings) {
                              PARLEY_RETURN_IF_ERROR(validate_server(settings->value));
                              auto& list = network_settings.endpoints;
                              if (std::find(list.begin(), list.end(), settings->value) ==
                                  list.end()) {
                                list.push_back(settings->value);
                              }
                              return Status();
                            });
                      }});
  CLI::App* endpoint_remove = endpoint->add_subcommand("remove", "remove an address");
  endpoint_remove->add_option("HOST:PORT", settings->value, "as added")->required();
  commands.push_back({endpoint_remove, [&options, settings] {
                        return change_settings(
                            options, "endpoint " + settings->value + " removed",
                            [&](client::NetworkSettings& network_settings) {
                              auto& list = network_settings.endpoints;
                              auto found = std::find(list.begin(), list.end(), settings->value);
                              if (found == list.end()) {
                                return Status::error(ErrorCode::kNotFound,
                                                     "no endpoint " + settings->value);
                              }
                              list.erase(found);
                              return Status();
                            });
                      }});

  CLI::App* dns = app.add_subcommand("dns", "resolve names with DNS over HTTPS, or not");
  dns->group(kNetworkGroup);
  dns->require_subcommand(1);
  CLI::App* dns_doh = dns->add_subcommand("doh", "use a DNS-over-HTTPS resolver");
  dns_doh->add_option("URL", settings->value, "e.g. https://1.1.1.1/dns-query")->required();
  dns_doh->add_option("--pin", settings->pin, "trust only this resolver certificate (SHA-256)");
  commands.push_back({dns_doh, [&options, settings] {
                        return change_settings(
                            options, "names are resolved with DNS over HTTPS",
                            [&](client::NetworkSettings& network_settings) {
                              if (!settings->pin.empty()) {
                                PARLEY_RETURN_IF_ERROR(validate_pin(settings->pin));
                              }
                              network_settings.doh_url = settings->value;
                              network_settings.doh_trust.pinned_sha256 = settings->pin;
                              return Status();
                            });
                      }});
  CLI::App* dns_off = dns->add_subcommand("off", "use the system resolver");
  commands.push_back({dns_off, [&options] {
                        return change_settings(options, "names are resolved by the system",
                                               [](client::NetworkSettings& network_settings) {
                                                 network_settings.doh_url.clear();
                                                 network_settings.doh_trust = {};
                                                 return Status();
                                               });
                      }});
}

}  // namespace parley::cli
