// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// What the CLI prints: events, messages and chats as text for people or as JSON lines (--json).
// Pure functions from values to strings; the commands decide where the strings go. Anything that
// came from another person passes through terminal_safe() (text) or json_quote() (JSON).

#include <cstdint>
#include <string>
#include <vector>

#include "parley/client/events.h"

namespace parley::cli {

using client::Event;

// A stored message, reduced to what is shown (the commands fill it from MessageRecord).
struct MessageView {
  std::string peer;  // the conversation's username (or account id when unknown)
  bool outgoing = false;
  bool system = false;  // a system note (timer changed, ...) rather than a text
  std::uint32_t device = 0;
  std::string id_hex;
  std::string text;
  std::int64_t sent_ms = 0;
  std::int64_t received_ms = 0;
  std::int64_t expires_at_ms = 0;
  std::string status;    // "pending", "sent", "delivered", "read", "failed"
  std::string group_id;  // hex, in a group conversation
  // A file sent with the message.
  bool has_file = false;
  std::string file_name;
  std::uint64_t file_size = 0;
  std::string file_path;   // where it is on this machine (empty until downloaded)
  std::string file_state;  // "uploading", "downloading", "done", "failed: why"
};

// One conversation in the chat list (from ChatSummary).
struct ChatView {
  std::string peer;
  std::string account_hex;
  bool verified = false;
  bool identity_changed = false;
  std::uint32_t unread = 0;
  std::int64_t last_activity_ms = 0;
  std::int64_t disappearing_seconds = 0;
  bool has_last = false;
  MessageView last;
};

// The stable "event" value of a JSON event line.
const char* event_json_name(Event::Kind kind);

// One line (no trailing newline) for a person, e.g. "[2026-01-01 10:00] bob: hello", or empty for
// events that are not shown as text (kIdentityChanged is shown by identity_warning()).
std::string event_text(const Event& event);
// One JSON object (no trailing newline).
std::string event_json(const Event& event);
// The loud multi-line warning for kIdentityChanged, for stderr, ending in '\n'.
std::string identity_warning(const Event& event);

std::string message_text_line(const MessageView& message);
std::string message_json(const MessageView& message);
std::string chat_text_line(const ChatView& chat);
std::string chat_json(const ChatView& chat);

// Local time "YYYY-MM-DD HH:MM"; "-" for 0.
std::string format_time(std::int64_t unix_ms);

// The sign-up proof of work. A progress line for a terminal, e.g.
// "proof of work: 524288 hashes, 50% of the 1048576 expected"; percentages past 100 are possible
// (finding a solution is luck), so the line never claims to know when it ends.
std::string pow_progress_line(std::uint64_t hashes_tried, std::uint32_t difficulty_bits);

// A safety number's 60 digits in 12 groups of 5, as three lines of four groups.
std::string format_safety_number(const std::string& digits);

}  // namespace parley::cli
