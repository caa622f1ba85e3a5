// SPDX-License-Identifier: AGPL-3.0-or-later
#include "ui/main_window.h"

#include <QApplication>
#include <QDateTime>
#include <QDesktopServices>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QListView>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QStatusBar>
#include <QUrl>
#include <QVBoxLayout>
#include <map>

#include "core/client_bridge.h"
#include "core/notification_policy.h"
#include "core/presentation.h"
#include "parley/util/encoding.h"
#include "ui/chat_panel.h"
#include "ui/composer.h"
#include "ui/conversation_delegate.h"
#include "ui/group_dialogs.h"
#include "ui/link_device_dialog.h"
#include "ui/safety_number_dialog.h"
#include "ui/settings_dialog.h"
#include "ui/tray_notifier.h"

namespace parley::desktop {

namespace {

constexpr std::size_t kHistoryLimit = 300;
constexpr int kTypingShownMs = 6000;  // a lost "stopped typing" must not stick
constexpr int kFailureShownMs = 10000;

std::int64_t now_ms() {
  return QDateTime::currentMSecsSinceEpoch();
}

QString short_id(const std::string& hex) {
  return QString::fromStdString(hex.substr(0, 12));
}

struct ConversationsSnapshot {
  std::vector<ConversationItem> items;
  QString username;
};

struct HistoryPage {
  std::vector<MessageItem> items;
};

// The newest messages of a conversation with their files, read on the worker. Opening a direct
// chat marks it read (which queues read receipts); group_history() marks a group read itself.
Result<HistoryPage> load_history(client::Client& client, const std::string& key, bool is_group) {
  HistoryPage page;
  std::vector<client::MessageRecord> records;
  std::map<std::string, QString> names;  // account hex → username, for group authors
  if (is_group) {
    PARLEY_ASSIGN_OR_RETURN(auto info, client.group_info(key));
    for (const auto& member : info.members) {
      names[member.account_id_hex] = QString::fromStdString(
          member.username.empty() ? member.account_id_hex.substr(0, 12) : member.username);
    }
    PARLEY_ASSIGN_OR_RETURN(records, client.group_history(key, kHistoryLimit));
  } else {
    PARLEY_ASSIGN_OR_RETURN(records, client.history(key, kHistoryLimit));
    PARLEY_RETURN_IF_ERROR(client.mark_read(key));
  }
  for (const auto& record : records) {
    QString author;
    if (is_group && record.direction == client::MessageDirection::kIncoming) {
      const std::string sender = hex_encode(record.sender);
      auto it = names.find(sender);
      author = it != names.end() ? it->second : short_id(sender);
    }
    auto file = client.attachment(key, hex_encode(record.client_message_id));
    page.items.push_back(MessageListModel::from_record(
        record, file.ok() ? *file : std::optional<client::AttachmentView>(), author));
  }
  return page;
}

}  // namespace

MainWindow::MainWindow(ClientBridge& bridge, QWidget* parent)
    : QMainWindow(parent), bridge_(bridge) {
  setWindowTitle(tr("Parley"));
  resize(980, 680);
  build_layout();
  build_menus();
  notifier_ = new TrayNotifier(this);

  typing_expiry_.setSingleShot(true);
  typing_expiry_.setInterval(kTypingShownMs);
  connect(&typing_expiry_, &QTimer::timeout, this, [this] { chat_->set_typing({}); });

  connect(&bridge_, &ClientBridge::clientEvent, this, &MainWindow::on_event);
  connect(&bridge_, &ClientBridge::transferProgress, this, &MainWindow::on_progress);
  connect(&bridge_, &ClientBridge::listenFailed, this, [this](const QString& why, int retry_ms) {
    show_status({net::TransportState::kOffline, {}, why.toStdString()});
    connection_->setToolTip(tr("Trying again in %1 s").arg((retry_ms + 999) / 1000));
  });
  connect(&bridge_, &ClientBridge::jobFailed, this, &MainWindow::show_failure);
  connect(notifier_, &TrayNotifier::conversationRequested, this, [this](const QString& key) {
    showNormal();
    raise();
    activateWindow();
    open_conversation(key);
  });
  connect(&conversations_, &QAbstractItemModel::dataChanged, this,
          [this] { notifier_->set_unread(conversations_.total_unread()); });

  // Another `parley` holding this home keeps us offline; say so until the bridge takes over.
  lock_check_.setInterval(1000);
  connect(&lock_check_, &QTimer::timeout, this, [this] {
    if (bridge_.offline_mode()) return;
    lock_check_.stop();
    show_status({net::TransportState::kConnecting, {}, {}});
  });
  if (bridge_.offline_mode()) {
    connection_text_ =
        tr("Another Parley program is using this account — this window will "
           "connect when it closes");
    connection_->setText("<span style='color:orange'>●</span> " + connection_text_.toHtmlEscaped());
    lock_check_.start();
  } else {
    // Sign-up or linking may have connected before this window existed to hear the event.
    bridge_.call<net::TransportStatus>(
        this, [](client::Client& c) { return c.transport_status(); },
        [this](const net::TransportStatus& status) { show_status(status); });
  }
  bridge_.set_listening(true);
  refresh();
}

MainWindow::~MainWindow() = default;

void MainWindow::build_layout() {
  auto* splitter = new QSplitter;
  auto* left = new QWidget;
  auto* left_column = new QVBoxLayout(left);
  left_column->setContentsMargins(4, 4, 4, 4);
  auto* buttons = new QHBoxLayout;
  auto* new_chat = new QPushButton(tr("New chat"));
  new_chat->setObjectName("newChatButton");
  auto* new_group = new QPushButton(tr("New group"));
  new_group->setObjectName("newGroupButton");
  buttons->addWidget(new_chat);
  buttons->addWidget(new_group);
  left_column->addLayout(buttons);
  list_ = new QListView;
  list_->setObjectName("conversationList");
  list_->setModel(&conversations_);
  list_->setItemDelegate(new ConversationDelegate(list_));
  list_->setSelectionMode(QAbstractItemView::SingleSelection);
  left_column->addWidget(list_, 1);
  splitter->addWidget(left);

  chat_ = new ChatPanel(messages_);
  splitter->addWidget(chat_);
  splitter->setStretchFactor(0, 0);
  splitter->setStretchFactor(1, 1);
  splitter->setSizes({300, 680});
  setCentralWidget(splitter);

  connection_ = new QLabel;
  connection_->setObjectName("connectionLabel");
  connection_->setTextFormat(Qt::RichText);
  statusBar()->addPermanentWidget(connection_, 1);

  connect(new_chat, &QPushButton::clicked, this, [this] {
    bool ok = false;
    const QString username = QInputDialog::getText(this, tr("New chat"), tr("Their username:"),
                                                   QLineEdit::Normal, {}, &ok);
    if (ok && !username.trimmed().isEmpty()) start_chat(username.trimmed());
  });
  connect(new_group, &QPushButton::clicked, this, &MainWindow::show_new_group);
  connect(list_->selectionModel(), &QItemSelectionModel::currentChanged, this,
          [this](const QModelIndex& current) {
            if (!current.isValid()) return;
            const QString key = current.data(ConversationListModel::kKeyRole).toString();
            if (key != messages_.conversation()) open_conversation(key);
          });
  connect(chat_, &ChatPanel::sendText, this, &MainWindow::send_text);
  connect(chat_, &ChatPanel::sendFiles, this, &MainWindow::send_files);
  connect(chat_, &ChatPanel::sendImage, this, &MainWindow::send_image);
  connect(chat_, &ChatPanel::safetyNumberRequested, this, &MainWindow::show_safety_number);
  connect(chat_, &ChatPanel::membersRequested, this, &MainWindow::show_group_members);
  connect(chat_, &ChatPanel::openFileRequested, this,
          [](const QString& path) { QDesktopServices::openUrl(QUrl::fromLocalFile(path)); });
  connect(chat_, &ChatPanel::saveFileRequested, this,
          [this](const QString& path, const QString& name) {
            const QString target =
                QFileDialog::getSaveFileName(this, tr("Save file"), QDir::home().filePath(name));
            if (target.isEmpty()) return;
            QFile::remove(target);  // the dialog already asked before overwriting
            if (!QFile::copy(path, target))
              show_failure(tr("Saving %1").arg(name), tr("copy failed"));
          });
  connect(chat_, &ChatPanel::typing, this, [this](bool started) {
    if (messages_.conversation().isEmpty() || messages_.is_group()) return;
    const std::string username = messages_.conversation().toStdString();
    bridge_.run([username, started](client::Client& c) { return c.send_typing(username, started); },
                tr("Typing indicator"));
  });
}

void MainWindow::build_menus() {
  QMenu* app = menuBar()->addMenu(tr("&Parley"));
  app->addAction(tr("New &chat…"), QKeySequence::New, this,
                 [this] { findChild<QPushButton*>("newChatButton")->click(); });
  app->addAction(tr("New &group…"), this, &MainWindow::show_new_group);
  app->addSeparator();
  app->addAction(tr("&Link a device…"), this, &MainWindow::show_link_device);
  app->addAction(tr("&Settings…"), this, &MainWindow::show_settings);
  app->addSeparator();
  app->addAction(tr("&Quit"), QKeySequence::Quit, qApp, &QApplication::quit);

  QMenu* chat = menuBar()->addMenu(tr("&Conversation"));
  chat->addAction(tr("&Safety number…"), this, &MainWindow::show_safety_number);
  chat->addAction(tr("Group &members…"), this, &MainWindow::show_group_members);

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&About Parley"), this, [this] {
    QMessageBox::about(this, tr("About Parley"),
                       tr("<b>Parley</b> %1<br>A private messenger: messages are end-to-end "
                          "encrypted, and the server only ever holds ciphertext.")
                           .arg(QApplication::applicationVersion()));
  });
}

void MainWindow::refresh() {
  bridge_.call<Result<ConversationsSnapshot>>(
      this,
      [](client::Client& c) -> Result<ConversationsSnapshot> {
        ConversationsSnapshot snapshot;
        PARLEY_ASSIGN_OR_RETURN(auto chats, c.chats());
        PARLEY_ASSIGN_OR_RETURN(auto groups, c.groups());
        snapshot.items = ConversationListModel::from_core(chats, groups);
        // A file without a caption has no text to preview: show its name instead.
        for (const auto& chat : chats) {
          if (!chat.last_message || !chat.last_message->body.empty() ||
              chat.contact.username.empty()) {
            continue;
          }
          auto file =
              c.attachment(chat.contact.username, hex_encode(chat.last_message->client_message_id));
          if (!file.ok() || !file->has_value()) continue;
          for (auto& item : snapshot.items) {
            if (!item.is_group && item.key.toStdString() == chat.contact.username) {
              item.preview = "📎 " + QString::fromStdString((*file)->file_name);
            }
          }
        }
        if (auto me = c.whoami(); me.ok()) snapshot.username = QString::fromStdString(me->username);
        return snapshot;
      },
      [this](Result<ConversationsSnapshot> snapshot) {
        if (!snapshot.ok()) {
          show_failure(tr("Loading conversations"),
                       QString::fromStdString(snapshot.status().message()));
          return;
        }
        set_title(snapshot->username);
        conversations_.set_conversations(std::move(snapshot).value().items);
        notifier_->set_unread(conversations_.total_unread());
        select_in_list(messages_.conversation());
        emit refreshed();
      });
}

void MainWindow::set_title(const QString& username) {
  setWindowTitle(username.isEmpty() ? tr("Parley") : tr("Parley — %1").arg(username));
}

void MainWindow::open_conversation(const QString& key) {
  const int row = conversations_.row_of(key);
  if (row < 0) return;
  const ConversationItem item = *conversations_.item(row);
  messages_.set_conversation(key, item.is_group);
  chat_->show_conversation(item.title, item.is_group, item.is_member);
  chat_->show_identity_warning(item.identity_changed, item.title);
  select_in_list(key);
  const std::string core_key = key.toStdString();
  const bool is_group = item.is_group;
  bridge_.call<Result<HistoryPage>>(
      this, [core_key, is_group](client::Client& c) { return load_history(c, core_key, is_group); },
      [this, key](Result<HistoryPage> page) {
        if (messages_.conversation() != key) return;  // another chat was opened meanwhile
        if (!page.ok()) {
          show_failure(tr("Loading messages"), QString::fromStdString(page.status().message()));
          return;
        }
        messages_.set_messages(std::move(page).value().items);
        conversations_.mark_read(key);
        emit conversationLoaded(key);
      });
}

void MainWindow::start_chat(const QString& username) {
  const std::string name = username.toStdString();
  bridge_.call<Result<client::ContactView>>(
      this, [name](client::Client& c) { return c.lookup(name); },
      [this](Result<client::ContactView> contact) {
        if (!contact.ok()) {
          show_failure(tr("New chat"), QString::fromStdString(contact.status().message()));
          return;
        }
        const QString key = QString::fromStdString(contact->username);
        if (conversations_.row_of(key) < 0) {
          conversations_.note_message(key, key, false, {}, now_ms(), false);
        }
        open_conversation(key);
      });
}

void MainWindow::send_text(const QString& text) {
  const QString key = messages_.conversation();
  if (key.isEmpty()) return;
  const bool is_group = messages_.is_group();
  const std::string core_key = key.toStdString();
  const std::string body = text.toStdString();
  const std::int64_t queued_at = now_ms();
  bridge_.call<Result<std::string>>(
      this,
      [core_key, body, is_group](client::Client& c) {
        return is_group ? c.queue_group_text(core_key, body) : c.queue_text(core_key, body);
      },
      [this, key, text, is_group, queued_at](Result<std::string> id) {
        if (!id.ok()) {
          show_failure(tr("Not sent"), QString::fromStdString(id.status().message()));
          // Give the words back rather than losing them.
          if (messages_.conversation() == key && chat_->composer()->toPlainText().isEmpty()) {
            chat_->composer()->setPlainText(text);
          }
          return;
        }
        MessageItem item;
        item.id = QString::fromStdString(*id);
        item.outgoing = true;
        item.text = text;
        item.sent_ms = queued_at;
        if (messages_.conversation() == key) messages_.upsert(item);
        const int row = conversations_.row_of(key);
        conversations_.note_message(key, row >= 0 ? conversations_.item(row)->title : key, is_group,
                                    preview_text(text), queued_at, false);
        emit messageQueued(item.id);
      });
}

void MainWindow::send_files(const QStringList& paths) {
  const QString key = messages_.conversation();
  if (key.isEmpty()) return;
  const bool is_group = messages_.is_group();
  for (const QString& path : paths) {
    const QFileInfo info(path);
    if (!info.isFile()) {
      show_failure(tr("Not sent"), tr("%1 is not a file").arg(info.fileName()));
      continue;
    }
    const std::string core_key = key.toStdString();
    const std::filesystem::path file = path.toStdString();
    const std::int64_t queued_at = now_ms();
    bridge_.call<Result<std::string>>(
        this,
        [core_key, file, is_group](client::Client& c) {
          return is_group ? c.queue_group_file(core_key, file) : c.queue_file(core_key, file);
        },
        [this, key, info, is_group, queued_at](Result<std::string> id) {
          if (!id.ok()) {
            show_failure(tr("%1 not sent").arg(info.fileName()),
                         QString::fromStdString(id.status().message()));
            return;
          }
          MessageItem item;
          item.id = QString::fromStdString(*id);
          item.outgoing = true;
          item.sent_ms = queued_at;
          item.file_state = MessageItem::FileState::kTransferring;
          item.file_name = info.fileName();
          item.file_size = static_cast<std::uint64_t>(info.size());
          item.file_path = info.absoluteFilePath();
          if (messages_.conversation() == key) messages_.upsert(item);
          const int row = conversations_.row_of(key);
          conversations_.note_message(key, row >= 0 ? conversations_.item(row)->title : key,
                                      is_group, "📎 " + info.fileName(), queued_at, false);
          emit messageQueued(item.id);
        });
  }
}

void MainWindow::send_image(const QImage& image) {
  // A pasted screenshot has no file: keep it in the home, as the core keeps what it sends.
  QDir dir(QString::fromStdString((bridge_.home() / "pasted").string()));
  if (!dir.mkpath(".")) {
    show_failure(tr("Pasted picture not sent"), tr("cannot create %1").arg(dir.path()));
    return;
  }
  const QString path =
      dir.filePath(QDateTime::currentDateTime().toString("'picture-'yyyyMMdd-HHmmss-zzz'.png'"));
  if (!image.save(path, "PNG")) {
    show_failure(tr("Pasted picture not sent"), tr("cannot write %1").arg(path));
    return;
  }
  send_files({path});
}

void MainWindow::on_event(const client::Event& event) {
  using Kind = client::Event::Kind;
  switch (event.kind) {
    case Kind::kMessage:
      on_message_event(event);
      break;
    case Kind::kSent:
      messages_.advance_status(QString::fromStdString(event.client_message_id_hex),
                               client::MessageStatus::kSent);
      break;
    case Kind::kDelivered:
      messages_.advance_status(QString::fromStdString(event.client_message_id_hex),
                               client::MessageStatus::kDelivered);
      break;
    case Kind::kRead:
      messages_.advance_status(QString::fromStdString(event.client_message_id_hex),
                               client::MessageStatus::kRead);
      break;
    case Kind::kTyping:
      if (conversation_key(event) == messages_.conversation() && event.group_id_hex.empty()) {
        chat_->set_typing(event.value != 0
                              ? tr("%1 is typing…").arg(QString::fromStdString(event.peer_username))
                              : QString());
        if (event.value != 0) typing_expiry_.start();
      }
      break;
    case Kind::kIdentityChanged: {
      const QString key = conversation_key(event);
      conversations_.set_identity_changed(key, true);
      if (key == messages_.conversation()) chat_->show_identity_warning(true, key);
      break;
    }
    case Kind::kGroupChanged:
      refresh();
      if (!event.group_id_hex.empty() &&
          QString::fromStdString(event.group_id_hex) == messages_.conversation()) {
        open_conversation(messages_.conversation());
      }
      break;
    case Kind::kFileReceived:
      reload_file(QString::fromStdString(event.client_message_id_hex));
      break;
    case Kind::kTransport:
      show_status({static_cast<net::TransportState>(event.value), event.body, event.body});
      break;
    case Kind::kTimerChanged:
    case Kind::kDeviceLinked:
      refresh();
      break;
    case Kind::kWarning:
      statusBar()->showMessage(QString::fromStdString(event.body), kFailureShownMs);
      break;
  }
}

void MainWindow::on_message_event(const client::Event& event) {
  const QString key = conversation_key(event);
  const bool is_group = !event.group_id_hex.empty();
  const bool on_screen = key == messages_.conversation() && isActiveWindow() && !isMinimized();
  MessageItem item;
  item.id = QString::fromStdString(event.client_message_id_hex);
  item.outgoing = event.outgoing;
  item.text = QString::fromStdString(event.body);
  item.sent_ms = event.sent_ms;
  item.received_ms = now_ms();
  item.status = client::MessageStatus::kSent;
  if (is_group && !event.outgoing) item.author = QString::fromStdString(event.peer_username);
  if (!event.file_name.empty()) {
    item.file_state = MessageItem::FileState::kTransferring;
    item.file_name = QString::fromStdString(event.file_name);
    item.file_size = event.file_size;
  }
  if (key == messages_.conversation()) messages_.upsert(item);

  const QString title = is_group ? QString::fromStdString(event.group_name) : key;
  const QString preview =
      item.file_name.isEmpty() ? preview_text(item.text) : "📎 " + item.file_name;
  conversations_.note_message(key, title, is_group, preview, event.sent_ms,
                              !event.outgoing && !on_screen);
  if (on_screen && !event.outgoing) mark_open_read();
  notifier_->notify(notification_for(
      event, NotificationContext{isActiveWindow(), messages_.conversation(), show_previews_}));
}

void MainWindow::on_progress(const client::TransferProgress& progress) {
  const QString id = QString::fromStdString(progress.client_message_id_hex);
  messages_.set_progress(id, progress.upload, progress.done_bytes, progress.total_bytes);
  if (progress.upload && progress.total_bytes > 0 && progress.done_bytes >= progress.total_bytes) {
    reload_file(id);
  }
}

void MainWindow::reload_file(const QString& id) {
  const QString key = messages_.conversation();
  if (key.isEmpty()) return;
  const std::string core_key = key.toStdString();
  const std::string core_id = id.toStdString();
  bridge_.call<Result<std::optional<client::AttachmentView>>>(
      this, [core_key, core_id](client::Client& c) { return c.attachment(core_key, core_id); },
      [this, key, id](Result<std::optional<client::AttachmentView>> file) {
        if (!file.ok() || !file->has_value() || messages_.conversation() != key) return;
        const bool outgoing = messages_.row_of(id, true) >= 0;
        messages_.set_file(id, outgoing, **file);
      });
}

void MainWindow::mark_open_read() {
  const QString key = messages_.conversation();
  if (key.isEmpty()) return;
  conversations_.mark_read(key);
  const std::string core_key = key.toStdString();
  if (messages_.is_group()) {
    // Groups send no read receipts; reading the newest message marks the group read.
    bridge_.run([core_key](client::Client& c) { return c.group_history(core_key, 1).status(); },
                tr("Marking read"));
  } else {
    bridge_.run([core_key](client::Client& c) { return c.mark_read(core_key); },
                tr("Marking read"));
  }
}

void MainWindow::changeEvent(QEvent* event) {
  QMainWindow::changeEvent(event);
  if (event->type() != QEvent::ActivationChange || !isActiveWindow()) return;
  const int row = conversations_.row_of(messages_.conversation());
  if (row >= 0 && conversations_.item(row)->unread > 0) mark_open_read();
}

void MainWindow::select_in_list(const QString& key) {
  const int row = conversations_.row_of(key);
  if (row < 0) return;
  const QModelIndex index = conversations_.index(row);
  if (list_->currentIndex() != index) {
    list_->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect);
  }
}

void MainWindow::show_status(const net::TransportStatus& status) {
  if (bridge_.offline_mode()) return;  // the "another program" line stays until we take over
  connection_text_ = connection_status_text(status);
  connection_->setText(
      QString("<span style='color:%1'>●</span> %2")
          .arg(connection_status_colour(status.state), connection_text_.toHtmlEscaped()));
  if (status.state != net::TransportState::kOffline) connection_->setToolTip({});
}

void MainWindow::show_failure(const QString& what, const QString& why) {
  statusBar()->showMessage(what + ": " + why, kFailureShownMs);
  emit failed(what, why);
}

void MainWindow::show_safety_number() {
  const int row = conversations_.row_of(messages_.conversation());
  if (row < 0 || conversations_.item(row)->is_group) return;
  const ConversationItem item = *conversations_.item(row);
  auto* dialog = new SafetyNumberDialog(bridge_, item.key, item.identity_changed, this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &SafetyNumberDialog::verified, this, [this, key = item.key] {
    conversations_.set_identity_changed(key, false);
    if (key == messages_.conversation()) chat_->show_identity_warning(false, key);
    refresh();
  });
  dialog->open();
}

void MainWindow::show_group_members() {
  if (!messages_.is_group()) return;
  auto* dialog = new GroupMembersDialog(bridge_, messages_.conversation(), this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &GroupMembersDialog::changed, this, &MainWindow::refresh);
  dialog->open();
}

void MainWindow::show_new_group() {
  auto* dialog = new NewGroupDialog(bridge_, this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &NewGroupDialog::created, this, [this](const QString& id, const QString& name) {
    conversations_.note_message(id, name, true, {}, now_ms(), false);
    open_conversation(id);
    refresh();
  });
  dialog->open();
}

void MainWindow::show_settings() {
  auto* dialog = new SettingsDialog(bridge_, show_previews_, this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &QDialog::accepted, this,
          [this, dialog] { show_previews_ = dialog->show_previews(); });
  dialog->open();
}

void MainWindow::show_link_device() {
  auto* dialog = new LinkDeviceDialog(bridge_, this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->open();
}

}  // namespace parley::desktop
