// SPDX-License-Identifier: AGPL-3.0-or-later
#include "ui/tray_notifier.h"

#include <QApplication>
#include <QSystemTrayIcon>
#include <QWidget>

namespace parley::desktop {

namespace {
constexpr std::size_t kKeepShown = 20;
constexpr int kBalloonMs = 6000;
}  // namespace

TrayNotifier::TrayNotifier(QWidget* window) : QObject(window), window_(window) {
  if (!QSystemTrayIcon::isSystemTrayAvailable()) return;
  tray_ = new QSystemTrayIcon(QApplication::windowIcon(), this);
  tray_->setToolTip(tr("Parley"));
  connect(tray_, &QSystemTrayIcon::messageClicked, this, [this] {
    if (!last_conversation_.isEmpty()) emit conversationRequested(last_conversation_);
  });
  connect(tray_, &QSystemTrayIcon::activated, this, [this] {
    window_->showNormal();
    window_->raise();
    window_->activateWindow();
  });
  tray_->show();
}

void TrayNotifier::notify(const Notification& notification) {
  if (!notification.show) return;
  shown_.push_back(notification);
  if (shown_.size() > kKeepShown) shown_.erase(shown_.begin());
  last_conversation_ = notification.conversation;
  if (tray_ != nullptr) {
    tray_->showMessage(notification.title, notification.body, QSystemTrayIcon::Information,
                       kBalloonMs);
  } else {
    QApplication::alert(window_);
  }
}

void TrayNotifier::set_unread(std::uint32_t unread) {
  if (tray_ == nullptr) return;
  tray_->setToolTip(unread == 0 ? tr("Parley")
                                : tr("Parley — %n unread", nullptr, static_cast<int>(unread)));
}

}  // namespace parley::desktop
