// SPDX-License-Identifier: AGPL-3.0-or-later
#include "output.h"

#include <ctime>

#include "duration.h"
#include "json.h"
#include "progress.h"
#include "text.h"

namespace parley::cli {

namespace {

// The peer as a one-line name: a username when known, else the account id.
std::string peer_name(const Event& event) {
  if (!event.peer_username.empty()) return terminal_safe(event.peer_username, false);
  if (!event.peer_account_hex.empty()) return "account " + terminal_safe(event.peer_account_hex);
  return "someone";
}

// A message body for a text line: safe, and with every line after the first indented, so that a
// body cannot fake a line that looks like another message.
std::string body_text(const std::string& body) {
  std::string safe = terminal_safe(body);
  std::string out;
  out.reserve(safe.size());
  for (char c : safe) {
    out += c;
    if (c == '\n') out += "    ";
  }
  return out;
}

std::string short_id(const std::string& id_hex) {
  return id_hex.size() > 8 ? id_hex.substr(0, 8) : id_hex;
}

// "  [file: photo.jpg, 1.2 MiB]" for a message that carries a file, else nothing.
std::string file_note(const Event& event) {
  if (event.file_name.empty()) return {};
  return "  [file: " + terminal_safe(event.file_name, false) + ", " +
         format_bytes(event.file_size) + "]";
}

// A group as a one-line name: its name, else the start of its id.
std::string group_label(const Event& event) {
  if (!event.group_name.empty()) return terminal_safe(event.group_name, false);
  return "group " + terminal_safe(short_id(event.group_id_hex), false);
}

}  // namespace

const char* event_json_name(Event::Kind kind) {
  return client::event_kind_name(kind);
}

std::string format_time(std::int64_t unix_ms) {
  if (unix_ms <= 0) return "-";
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm local{};
  if (localtime_r(&seconds, &local) == nullptr) return "-";
  char buffer[32];
  std::size_t n = std::strftime(buffer, sizeof(buffer), "%Y-%m-%d %H:%M", &local);
  return n == 0 ? std::string("-") : std::string(buffer, n);
}

std::string event_text(const Event& event) {
  std::string who = peer_name(event);
  switch (event.kind) {
    case Event::Kind::kMessage:
      if (!event.group_id_hex.empty()) {  // "[time] bob in friends: hi"
        return "[" + format_time(event.sent_ms) + "] " +
               (event.outgoing ? "you (from your device " + std::to_string(event.device_id) + ")"
                               : who) +
               " in " + group_label(event) + ": " + body_text(event.body) + file_note(event);
      }
      if (event.outgoing) {
        return "[" + format_time(event.sent_ms) + "] you -> " + who + " (from your device " +
               std::to_string(event.device_id) + "): " + body_text(event.body) + file_note(event);
      }
      return "[" + format_time(event.sent_ms) + "] " + who + ": " + body_text(event.body) +
             file_note(event);
    case Event::Kind::kSent:
      if (!event.group_id_hex.empty()) who = group_label(event);
      return "sent to " + who + " (" + short_id(event.client_message_id_hex) + ")";
    case Event::Kind::kDelivered:
      return "delivered to " + who + " (" + short_id(event.client_message_id_hex) + ")";
    case Event::Kind::kRead:
      return "read by " + who + " (" + short_id(event.client_message_id_hex) + ")";
    case Event::Kind::kTyping:
      return who + (event.value != 0 ? " is typing..." : " stopped typing");
    case Event::Kind::kTimerChanged:
      return event.value > 0 ? "disappearing messages with " + who + " set to " +
                                   format_duration(std::chrono::seconds(event.value))
                             : "disappearing messages with " + who + " turned off";
    case Event::Kind::kIdentityChanged:
      return {};
    case Event::Kind::kDeviceLinked:
      return "device " + std::to_string(event.device_id) + " was linked to your account";
    case Event::Kind::kGroupChanged:  // "[time] friends: alice added carol"
      return "[" + format_time(event.sent_ms) + "] " + group_label(event) + ": " +
             terminal_safe(event.body, false);
    case Event::Kind::kFileReceived:
      return (event.outgoing ? "file you sent to " + who : "file from " + who) +
             " saved: " + terminal_safe(event.body, false) + " (" + format_bytes(event.file_size) +
             ")";
    case Event::Kind::kTransport:
      switch (static_cast<net::TransportState>(event.value)) {
        case net::TransportState::kConnected:
          return "connected via " + terminal_safe(event.body, false);
        case net::TransportState::kConnecting:
          return "connecting...";
        case net::TransportState::kOffline:
          return "offline: " + terminal_safe(event.body, false);
      }
      return {};
    case Event::Kind::kWarning:
      return "warning: " + terminal_safe(event.body, false) + " (error " +
             std::to_string(static_cast<unsigned>(event.code)) + " " +
             std::string(error_code_name(event.code)) + ")";
  }
  return {};
}

std::string event_json(const Event& event) {
  JsonLine json;
  json.str("event", event_json_name(event.kind));
  switch (event.kind) {
    case Event::Kind::kMessage:
      json.str(event.outgoing ? "to" : "from", event.peer_username)
          .str("account", event.peer_account_hex)
          .num("device", event.device_id)
          .str("id", event.client_message_id_hex)
          .str("text", event.body)
          .num("sent_ms", event.sent_ms)
          .boolean("outgoing", event.outgoing);
      if (!event.file_name.empty()) {
        json.str("file_name", event.file_name)
            .num("file_size", static_cast<std::int64_t>(event.file_size));
      }
      break;
    case Event::Kind::kGroupChanged:
      json.str("by", event.peer_username)
          .str("account", event.peer_account_hex)
          .str("text", event.body)
          .num("sent_ms", event.sent_ms);
      break;
    case Event::Kind::kFileReceived:
      json.str(event.outgoing ? "to" : "from", event.peer_username)
          .str("account", event.peer_account_hex)
          .str("id", event.client_message_id_hex)
          .str("file_name", event.file_name)
          .num("file_size", static_cast<std::int64_t>(event.file_size))
          .str("path", event.body)
          .boolean("outgoing", event.outgoing);
      break;
    case Event::Kind::kSent:
    case Event::Kind::kDelivered:
    case Event::Kind::kRead:
      json.str("peer", event.peer_username)
          .str("account", event.peer_account_hex)
          .str("id", event.client_message_id_hex);
      if (event.sent_ms != 0) json.num("at_ms", event.sent_ms);
      break;
    case Event::Kind::kTransport:
      json.str("state", net::transport_state_name(static_cast<net::TransportState>(event.value)));
      json.str(event.value == static_cast<std::int64_t>(net::TransportState::kConnected) ? "via"
                                                                                         : "detail",
               event.body);
      break;
    case Event::Kind::kTyping:
      json.str("peer", event.peer_username)
          .str("account", event.peer_account_hex)
          .boolean("typing", event.value != 0);
      break;
    case Event::Kind::kTimerChanged:
      json.str("peer", event.peer_username)
          .str("account", event.peer_account_hex)
          .num("seconds", event.value);
      break;
    case Event::Kind::kIdentityChanged:
      json.str("peer", event.peer_username).str("account", event.peer_account_hex);
      break;
    case Event::Kind::kDeviceLinked:
      json.num("device", event.device_id);
      break;
    case Event::Kind::kWarning:
      json.str("peer", event.peer_username)
          .num("code", static_cast<unsigned>(event.code))
          .str("error", error_code_name(event.code))
          .str("text", event.body);
      break;
  }
  // Anything that belongs to a group says which one.
  if (!event.group_id_hex.empty()) {
    json.str("group_id", event.group_id_hex).str("group", event.group_name);
  }
  return json.line();
}

std::string identity_warning(const Event& event) {
  std::string who = peer_name(event);
  std::string command_name =
      event.peer_username.empty() ? std::string("USER") : terminal_safe(event.peer_username, false);
  return "\n"
         "*****************************************************************\n"
         "WARNING: THE SAFETY NUMBER WITH " +
         who +
         " HAS CHANGED.\n"
         "Their identity key is not the one you knew. They may have reinstalled\n"
         "Parley, or someone may be intercepting your messages.\n"
         "Compare the safety number in person or over a channel you trust:\n"
         "    parley verify " +
         command_name +
         "\n"
         "*****************************************************************\n\n";
}

std::string message_text_line(const MessageView& message) {
  std::string line = "[" + format_time(message.sent_ms) + "] ";
  if (message.system) {
    line += "* " + body_text(message.text);
  } else if (message.outgoing) {
    line += "you: " + body_text(message.text) + "  (" + message.status + ")";
  } else {
    line += terminal_safe(message.peer, false) + ": " + body_text(message.text);
  }
  if (message.has_file) {
    line += "  [file " + terminal_safe(message.file_name, false) + ", " +
            format_bytes(message.file_size);
    if (message.file_state == "done" && !message.file_path.empty()) {
      line += ", " + terminal_safe(message.file_path, false);
    } else {
      line += ", " + terminal_safe(message.file_state, false);
    }
    line += "]";
  }
  if (message.expires_at_ms > 0)
    line += "  [disappears " + format_time(message.expires_at_ms) + "]";
  return line;
}

std::string message_json(const MessageView& message) {
  JsonLine json;
  json.str("peer", message.peer)
      .str("direction", message.outgoing ? "out" : "in")
      .str("kind", message.system ? "system" : "text")
      .num("device", message.device)
      .str("id", message.id_hex)
      .str("text", message.text)
      .num("sent_ms", message.sent_ms)
      .num("received_ms", message.received_ms)
      .num("expires_at_ms", message.expires_at_ms)
      .str("status", message.status);
  if (!message.group_id.empty()) json.str("group_id", message.group_id);
  if (message.has_file) {
    json.raw("file", JsonLine()
                         .str("name", message.file_name)
                         .num("size", static_cast<std::int64_t>(message.file_size))
                         .str("path", message.file_path)
                         .str("state", message.file_state)
                         .line());
  }
  return json.line();
}

std::string chat_text_line(const ChatView& chat) {
  std::string line = terminal_safe(chat.peer, false);
  if (chat.verified) line += " (verified)";
  if (chat.identity_changed) line += " (SAFETY NUMBER CHANGED)";
  if (chat.unread > 0) line += "  " + std::to_string(chat.unread) + " unread";
  if (chat.disappearing_seconds > 0) {
    line += "  timer " + format_duration(std::chrono::seconds(chat.disappearing_seconds));
  }
  line += "  " + format_time(chat.last_activity_ms);
  if (chat.has_last) {
    std::string text = terminal_safe(chat.last.text, false);
    // Cut long previews on a code point boundary (never inside a UTF-8 sequence).
    constexpr std::size_t kPreview = 40;
    if (text.size() > kPreview) {
      std::size_t cut = kPreview;
      while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
      text = text.substr(0, cut) + "...";
    }
    line += "  " + std::string(chat.last.outgoing ? "you: " : "") + text;
  }
  return line;
}

std::string chat_json(const ChatView& chat) {
  JsonLine json;
  json.str("chat", chat.peer)
      .str("account", chat.account_hex)
      .boolean("verified", chat.verified)
      .boolean("identity_changed", chat.identity_changed)
      .num("unread", chat.unread)
      .num("last_activity_ms", chat.last_activity_ms)
      .num("disappearing_seconds", chat.disappearing_seconds);
  if (chat.has_last) {
    json.raw("last_message", message_json(chat.last));
  } else {
    json.null("last_message");
  }
  return json.line();
}

std::string pow_progress_line(std::uint64_t hashes_tried, std::uint32_t difficulty_bits) {
  std::string line = "proof of work: " + std::to_string(hashes_tried) + " hashes";
  if (difficulty_bits < 64) {
    std::uint64_t expected = std::uint64_t{1} << difficulty_bits;
    // Integer percent without overflow: hashes < 2^64, so divide first when large.
    std::uint64_t percent = hashes_tried > (UINT64_MAX / 100) ? hashes_tried / (expected / 100 + 1)
                                                              : hashes_tried * 100 / expected;
    line += ", " + std::to_string(percent) + "% of the " + std::to_string(expected) + " expected";
  }
  return line;
}

std::string format_safety_number(const std::string& digits) {
  std::string out;
  for (std::size_t i = 0; i < digits.size(); i += 5) {
    if (i > 0) out += (i % 20 == 0) ? '\n' : ' ';
    out += digits.substr(i, 5);
  }
  return out;
}

}  // namespace parley::cli
