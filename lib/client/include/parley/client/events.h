// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// What the client core tells an app while it runs: one Event per thing a person may want to see.
// Apps render these (the CLI prints lines or JSON); none of them needs an answer.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "parley/util/error_code.h"

namespace parley::client {

struct Event {
  enum class Kind {
    kMessage,          // a text arrived (or, from our other device, was sent by us)
    kSent,             // the server stored a message we sent
    kDelivered,        // the other side's device got it
    kRead,             // the other side read it
    kTyping,           // started (flag true) / stopped typing
    kTimerChanged,     // the disappearing-message timer of a conversation changed (seconds)
    kIdentityChanged,  // a contact's identity key changed: verify again
    kDeviceLinked,     // a device joined our account
    kWarning,          // something failed for one message; the rest goes on (code + text)
    kGroupChanged,     // a group was created, renamed, or its members changed (body: what)
    kFileReceived,     // a received file was downloaded and verified (body: its local path)
    kTransport,        // the connection state changed (value: net::TransportState; body: the
                       // route when connected, why when offline)
  };
  Kind kind = Kind::kMessage;
  std::string peer_username;  // may be empty when unknown
  std::string peer_account_hex;
  bool outgoing = false;        // kMessage: sent by us from another device
  std::uint32_t device_id = 0;  // the sending device (kMessage), or the linked one
  std::string client_message_id_hex;
  std::string body;  // kMessage text, or kWarning's sentence
  std::int64_t sent_ms = 0;
  std::int64_t value = 0;           // kTimerChanged seconds; kTyping 1/0
  ErrorCode code = ErrorCode::kOk;  // kWarning
  // Set when the event belongs to a group conversation.
  std::string group_id_hex;
  std::string group_name;
  // kMessage with a file: its name and plaintext size (downloaded later: kFileReceived).
  std::string file_name;
  std::uint64_t file_size = 0;
};

using EventHandler = std::function<void(const Event&)>;

const char* event_kind_name(Event::Kind kind);

}  // namespace parley::client
