// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// When the desktop app shows a desktop notification, and what it says. Pure, unit tested.

#include <QString>

#include "parley/client/events.h"

namespace parley::desktop {

struct NotificationContext {
  bool window_active = false;  // the main window has focus
  QString open_conversation;   // key of the conversation on screen ("" none)
  bool show_previews = true;   // false: "New message" without sender text (privacy setting)
};

struct Notification {
  bool show = false;
  QString conversation;  // the key to open when it is clicked
  QString title;         // the sender, or "<sender> in <group>"
  QString body;  // the text (preview_text, 120 chars), "📎 <file name>" (+ " — <caption>"), or
                 // "New message" (previews off, or an empty text)
};

// Only for incoming texts and files (Event::Kind::kMessage, not outgoing); not while the window
// is active and showing that conversation. Receipts, typing, our own messages from another device
// and everything else never notify. The sender is the username, else 12 hex digits of the account
// id; with previews off the title is "Parley" and the body "New message". `conversation` is set
// whenever the event is a notifiable kind, shown or not.
Notification notification_for(const client::Event& event, const NotificationContext& context);

// The conversation key an event belongs to: the group id, else the peer's username, else the
// peer's account id.
QString conversation_key(const client::Event& event);

}  // namespace parley::desktop
