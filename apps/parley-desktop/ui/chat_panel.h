// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The right side of the main window: the open conversation's title and buttons, a banner when a
// contact's key changed, the messages (MessageListModel through MessageDelegate), the typing
// line, and the composer with its attach and send buttons. It only shows and asks: MainWindow
// does the work.
//
// Object names: "chatTitle", "safetyButton", "membersButton", "identityBanner",
// "verifyBannerButton", "messageList", "typingLabel", "composer", "attachButton", "sendButton",
// "emptyLabel" (shown while no conversation is open).

#include <QWidget>

class QLabel;
class QListView;
class QPushButton;
class QFrame;
class QStackedLayout;

namespace parley::desktop {

class Composer;
class MessageListModel;

class ChatPanel : public QWidget {
  Q_OBJECT

 public:
  ChatPanel(MessageListModel& messages, QWidget* parent = nullptr);

  // Shows a conversation (or, with an empty key, the "pick a conversation" page).
  void show_conversation(const QString& title, bool is_group, bool is_member);
  void show_identity_warning(bool changed, const QString& name);
  void set_typing(const QString& text);  // "" hides the line
  void scroll_to_bottom();

  Composer* composer() const { return composer_; }
  QListView* message_list() const { return list_; }

 signals:
  void sendText(const QString& text);
  void sendFiles(const QStringList& paths);
  void sendImage(const QImage& image);
  void typing(bool started);
  void safetyNumberRequested();
  void membersRequested();
  void openFileRequested(const QString& path);
  void saveFileRequested(const QString& path, const QString& name);

 private:
  void attach();
  void on_message_menu(const QPoint& position);

  MessageListModel& messages_;
  QStackedLayout* pages_;
  QLabel* title_;
  QPushButton* safety_;
  QPushButton* members_;
  QFrame* banner_;
  QLabel* banner_text_;
  QListView* list_;
  QLabel* typing_;
  Composer* composer_;
  QPushButton* attach_;
  QPushButton* send_;
};

}  // namespace parley::desktop
