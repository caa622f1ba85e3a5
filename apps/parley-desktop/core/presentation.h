// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// How the desktop app words and formats what the core reports: connection status, delivery
// ticks, times, sizes, safety-number digits. Pure functions, unit tested (test/presentation_test).

#include <QString>
#include <cstdint>
#include <string>

#include "parley/client/local_store.h"
#include "parley/net/transport_manager.h"

namespace parley::desktop {

// The status line: "Connected", "Connected via relay <name>", "Connecting…",
// "Offline — messages will be sent when the network returns" (with the reason after it when
// known). `via` is the core's route label; a direct route ("direct …" or the server) says only
// "Connected".
QString connection_status_text(const net::TransportStatus& status);
// The colour name for the status dot: "green", "orange" (connecting), "red" (offline).
QString connection_status_colour(net::TransportState state);

// Delivery ticks of an outgoing message: pending "🕓", sent "✓", delivered "✓✓", read "✓✓"
// (shown in the read colour by the delegate), failed "!".
QString status_ticks(client::MessageStatus status);
// Words for the same, for tooltips and accessibility: "Waiting to send", "Sent", "Delivered",
// "Read", "Not sent".
QString status_words(client::MessageStatus status);

// A message time: "14:05" today, "Mon 14:05" within the last 6 days, "2026-11-20" before that
// (and for a time on a later day than `now_ms`). Local time zone, 24-hour clock, English day
// names whatever the system locale.
QString time_label(std::int64_t ms, std::int64_t now_ms);

// "512 B", "1.5 KB", "2.0 MB", "1.2 GB" (powers of 1024, one decimal above bytes).
QString size_label(std::uint64_t bytes);

// One line for the conversation list: whitespace runs collapsed to one space and trimmed; a
// longer line is cut to `max_chars` characters in all, the last being "…" (never inside a
// surrogate pair). Empty when `max_chars` <= 0.
QString preview_text(const QString& text, int max_chars = 60);

// The 60 safety-number digits as 12 groups of 5, four groups per line (3 lines), as people read
// them aloud. Other input is returned unchanged.
QString safety_number_lines(const std::string& digits);

// Whether a received or sent file is shown inline as a thumbnail, by its name's extension
// (png, jpg, jpeg, gif, webp, bmp; case-insensitive).
bool looks_like_image(const QString& file_name);

}  // namespace parley::desktop
