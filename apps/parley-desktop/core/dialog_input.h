// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// What people type into the desktop dialogs, turned into the core's settings: the server's
// certificate trust, the server address, lists of usernames or endpoints, the proxy field. Pure
// (apart from checking that a CA file exists), so the dialogs stay thin and these are unit tested
// (test/dialog_input_test.cpp). The core still validates everything it is given; these only give
// feedback before anything is opened or sent.

#include <QString>
#include <string>
#include <vector>

#include "parley/net/proxy.h"
#include "parley/net/relay_link.h"
#include "parley/net/websocket_channel.h"
#include "parley/util/status.h"

namespace parley::desktop {

// The certificate field of the first-run dialog:
//   ""                                  → the system's trust store
//   64 hex digits, ':' allowed between  → pinned_sha256 (as `parleyd gen-cert` prints it,
//                                          with or without its "SHA256:" in front)
//   anything else                       → a PEM file (made absolute: the core saves the path)
// kInvalidArgument when it looks like a pin of the wrong length or names no existing file.
Result<net::TlsTrust> parse_trust_input(const QString& text);

// A light check of "host:port" (IPv6 in brackets, port 1-65535) so a typo is caught before the
// store is created; the core connects and reports everything else.
Status check_server_address(const QString& text);

// "alice, bob\ncarol  dave" → {"alice", "bob", "carol", "dave"}: commas, spaces and new lines
// separate; empty parts are skipped. Case and validity are the core's business.
std::vector<std::string> split_usernames(const QString& text);

// One entry per non-empty line, trimmed ("host:port" endpoints).
std::vector<std::string> split_lines(const QString& text);

// The proxy field shows the proxy without its password: "" for none, else
// net::proxy_display() ("socks5://user:***@host:port"). Reading the field back keeps the saved
// password when the password part is still the "***" mask for the same user name, so changing
// only the port does not lose it; any other text is parsed as typed.
QString proxy_field_text(const net::ProxyConfig& proxy);
Result<net::ProxyConfig> proxy_from_field(const QString& text, const net::ProxyConfig& saved);

// A core error for people: the Status's sentence with a capital first letter and a full stop
// (its code's description when it has no sentence).
QString error_sentence(const Status& status);

// A relay in the list: "Anna's relay (relay.example.org:443)" or "relay.example.org:443".
QString relay_item_text(const net::RelayLink& link);

}  // namespace parley::desktop
