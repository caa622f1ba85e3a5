// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The main window: conversations on the left, the open chat on the right, the connection state
// always visible in the status bar. It turns what the person does into core calls through the
// ClientBridge, and the core's events into model updates, notifications and the status line.
//
// Object names: "conversationList", "newChatButton", "newGroupButton", "connectionLabel"
// (and ChatPanel's).

#include <QMainWindow>
#include <QTimer>

#include "core/conversation_list_model.h"
#include "core/message_list_model.h"
#include "parley/client/events.h"
#include "parley/net/transport_manager.h"

class QLabel;
class QListView;

namespace parley::desktop {

class ChatPanel;
class ClientBridge;
class TrayNotifier;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(ClientBridge& bridge, QWidget* parent = nullptr);
  ~MainWindow() override;

  // Reloads the conversation list (and our name for the title) from the core.
  void refresh();
  // Shows a conversation from the list (a username or a group id) and loads its history.
  void open_conversation(const QString& key);
  // Looks a username up on the server, then opens the chat with them (the "New chat" action).
  void start_chat(const QString& username);
  // What the composer and the attach button do, for the open conversation.
  void send_text(const QString& text);
  void send_files(const QStringList& paths);
  void send_image(const QImage& image);

  // The dialogs behind the menu actions (the e2e test opens them directly).
  void show_safety_number();
  void show_group_members();
  void show_new_group();
  void show_settings();
  void show_link_device();

  ConversationListModel& conversations() { return conversations_; }
  MessageListModel& messages() { return messages_; }
  ChatPanel* chat_panel() const { return chat_; }
  TrayNotifier* notifier() const { return notifier_; }
  QString connection_text() const { return connection_text_; }
  QString open_key() const { return messages_.conversation(); }

 signals:
  void refreshed();                                      // the conversation list was reloaded
  void conversationLoaded(const QString& key);           // its history is on screen
  void messageQueued(const QString& id);                 // a text or file went into the outbox
  void failed(const QString& what, const QString& why);  // shown in the status bar too

 protected:
  void changeEvent(QEvent* event) override;  // becoming active marks the open chat read

 private:
  void build_menus();
  void build_layout();
  void on_event(const client::Event& event);
  void on_message_event(const client::Event& event);
  void on_progress(const client::TransferProgress& progress);
  void show_status(const net::TransportStatus& status);
  void show_failure(const QString& what, const QString& why);
  void reload_file(const QString& id);
  void mark_open_read();
  void select_in_list(const QString& key);
  void set_title(const QString& username);

  ClientBridge& bridge_;
  ConversationListModel conversations_;
  MessageListModel messages_;
  QListView* list_ = nullptr;
  ChatPanel* chat_ = nullptr;
  QLabel* connection_ = nullptr;
  TrayNotifier* notifier_ = nullptr;
  QTimer typing_expiry_;
  QTimer lock_check_;  // while another process holds the home
  QString connection_text_;
  bool show_previews_ = true;
};

}  // namespace parley::desktop
