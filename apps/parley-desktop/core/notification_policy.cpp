// SPDX-License-Identifier: AGPL-3.0-or-later
#include "core/notification_policy.h"

#include "core/presentation.h"

namespace parley::desktop {

namespace {

constexpr int kShortIdDigits = 12;      // an account or group id shown for want of a name
constexpr int kBodyPreviewChars = 120;  // notification bubbles have room for about two lines

QString sender_name(const client::Event& event) {
  if (!event.peer_username.empty()) return QString::fromStdString(event.peer_username);
  return QString::fromStdString(event.peer_account_hex).left(kShortIdDigits);
}

QString body_text(const client::Event& event) {
  const QString text = preview_text(QString::fromStdString(event.body), kBodyPreviewChars);
  if (event.file_name.empty()) {
    return text.isEmpty() ? QStringLiteral("New message") : text;
  }
  QString body = QStringLiteral("📎 ") + QString::fromStdString(event.file_name);
  if (!text.isEmpty()) body += QStringLiteral(" — ") + text;  // the caption
  return body;
}

}  // namespace

QString conversation_key(const client::Event& event) {
  if (!event.group_id_hex.empty()) return QString::fromStdString(event.group_id_hex);
  if (!event.peer_username.empty()) return QString::fromStdString(event.peer_username);
  return QString::fromStdString(event.peer_account_hex);
}

Notification notification_for(const client::Event& event, const NotificationContext& context) {
  Notification notification;
  if (event.kind != client::Event::Kind::kMessage || event.outgoing) return notification;
  notification.conversation = conversation_key(event);
  // Already on screen: the person is looking at it.
  if (context.window_active && context.open_conversation == notification.conversation) {
    return notification;
  }
  notification.show = true;
  if (!context.show_previews) {
    notification.title = QStringLiteral("Parley");
    notification.body = QStringLiteral("New message");
    return notification;
  }
  notification.title = sender_name(event);
  if (!event.group_id_hex.empty()) {
    const QString group = event.group_name.empty()
                              ? QString::fromStdString(event.group_id_hex).left(kShortIdDigits)
                              : QString::fromStdString(event.group_name);
    notification.title += QStringLiteral(" in ") + group;
  }
  notification.body = body_text(event);
  return notification;
}

}  // namespace parley::desktop
