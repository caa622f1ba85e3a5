// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Shows desktop notifications for new messages (core/notification_policy.h decides when). With
// a system tray: the tray icon's message balloon, and clicking it opens the conversation. Without
// one (a bare X server, some desktops): the window asks for attention instead (taskbar flash).

#include <QObject>
#include <QString>
#include <vector>

#include "core/notification_policy.h"

class QSystemTrayIcon;
class QWidget;

namespace parley::desktop {

class TrayNotifier : public QObject {
  Q_OBJECT

 public:
  explicit TrayNotifier(QWidget* window);

  void notify(const Notification& notification);
  // The unread count in the tray icon's tooltip.
  void set_unread(std::uint32_t unread);

  bool has_tray() const { return tray_ != nullptr; }
  // What was shown, newest last (the e2e test checks it; bounded to the last 20).
  const std::vector<Notification>& shown() const { return shown_; }

 signals:
  void conversationRequested(const QString& key);  // the person clicked a notification

 private:
  QWidget* window_;
  QSystemTrayIcon* tray_ = nullptr;
  QString last_conversation_;
  std::vector<Notification> shown_;
};

}  // namespace parley::desktop
