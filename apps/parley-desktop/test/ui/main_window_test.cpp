// SPDX-License-Identifier: AGPL-3.0-or-later
// The main window (ui/main_window.h) turning core events into what the person sees, without a
// server: a real ClientBridge opened on an empty home (no account, so the window's own core
// calls fail harmlessly) and hand-made events emitted as the bridge would emit them.

#include "ui/main_window.h"

#include <QFrame>
#include <QLabel>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

#include "core/client_bridge.h"
#include "desktop_tests.h"
#include "ui/chat_panel.h"
#include "ui/tray_notifier.h"

namespace parley::desktop::test {

namespace {

using Kind = client::Event::Kind;
using client::MessageStatus;

constexpr std::int64_t kSentMs = 1'700'000'000'000;
const std::string kGroupId = "00112233445566778899aabbccddeeff";

client::Event event_from(Kind kind, const std::string& username) {
  client::Event event;
  event.kind = kind;
  event.peer_username = username;
  event.peer_account_hex = std::string(64, 'a');
  event.device_id = 1;
  event.sent_ms = kSentMs;
  return event;
}

client::Event message_from(const std::string& username, const std::string& text,
                           const std::string& id) {
  client::Event event = event_from(Kind::kMessage, username);
  event.body = text;
  event.client_message_id_hex = id;
  return event;
}

client::Event transport(net::TransportState state, const std::string& body) {
  client::Event event;
  event.kind = Kind::kTransport;
  event.value = static_cast<std::int64_t>(state);
  event.body = body;
  return event;
}

client::Event receipt(Kind kind, const std::string& id) {
  client::Event event = event_from(kind, "dave");
  event.client_message_id_hex = id;
  return event;
}

}  // namespace

class MainWindowTest : public QObject {
  Q_OBJECT

 private slots:
  void init();
  void cleanup();

  void showsTheConnectionState();
  void aListenFailureShowsOfflineAndWhenItRetries();
  void aMessageInAClosedChatCountsUnreadAndNotifies();
  void aMessageInTheOpenChatOfAnInactiveWindowStillNotifies();
  void aMessageInTheOpenChatOfTheActiveWindowIsReadAndSilent();
  void aChangedKeyShowsTheBannerInThatChat();
  void showsWhenTheOpenContactIsTyping();
  void receiptsMoveTheStatusForward();
  void aGroupMessageMakesAGroupRow();

 private:
  // Waits until the answers of every job queued so far have arrived: jobs run in order and
  // their answers come back in order, so the answer of one more job comes after all of them.
  void settle();
  // Adds `key` to the list (as a message would) and opens it; its history load fails or comes
  // back empty, either way the chat page is on screen.
  void open_chat(const QString& key);
  template <typename T>
  T* child(const char* name) const {
    return window_->findChild<T*>(QString::fromLatin1(name));
  }

  std::unique_ptr<QTemporaryDir> home_;
  std::unique_ptr<ClientBridge> bridge_;
  std::unique_ptr<MainWindow> window_;
};

void MainWindowTest::init() {
  home_ = std::make_unique<QTemporaryDir>();
  QVERIFY(home_->isValid());
  bridge_ = std::make_unique<ClientBridge>();
  QObject context;
  std::optional<Status> opened;
  BridgeOptions options;
  options.home = home_->path().toStdString();
  bridge_->open(options, &context, [&](const Status& status) { opened = status; });
  QTRY_VERIFY_WITH_TIMEOUT(opened.has_value(), 20000);
  QVERIFY2(opened->ok(), opened->to_string().c_str());
  window_ = std::make_unique<MainWindow>(*bridge_);
  settle();  // the first transport status and conversation list are in (or failed)
}

void MainWindowTest::cleanup() {
  window_.reset();  // before the bridge it refers to
  bridge_.reset();
  home_.reset();
}

void MainWindowTest::settle() {
  QObject context;
  bool answered = false;
  bridge_->call<int>(
      &context, [](client::Client&) { return 0; }, [&](int) { answered = true; });
  QTRY_VERIFY_WITH_TIMEOUT(answered, 10000);
}

void MainWindowTest::open_chat(const QString& key) {
  window_->conversations().note_message(key, key, false, "earlier", kSentMs - 1000, false);
  window_->open_conversation(key);
  settle();
  QCOMPARE(window_->open_key(), key);
  QCOMPARE(child<QLabel>("chatTitle")->text(), key);
  QVERIFY(child<QLabel>("emptyLabel")->isHidden());
}

void MainWindowTest::showsTheConnectionState() {
  auto* label = child<QLabel>("connectionLabel");
  QVERIFY(label != nullptr);

  emit bridge_->clientEvent(transport(net::TransportState::kConnected, "direct 127.0.0.1:8443"));
  QCOMPARE(window_->connection_text(), QStringLiteral("Connected"));
  QVERIFY(label->text().contains("Connected"));

  emit bridge_->clientEvent(transport(net::TransportState::kConnected, "relay Anna"));
  QCOMPARE(window_->connection_text(), QStringLiteral("Connected via relay Anna"));
  QVERIFY(label->text().contains("Connected via relay Anna"));

  emit bridge_->clientEvent(transport(net::TransportState::kConnecting, ""));
  QCOMPARE(window_->connection_text(), QStringLiteral("Connecting…"));

  emit bridge_->clientEvent(transport(net::TransportState::kOffline, "connection refused"));
  QVERIFY2(window_->connection_text().startsWith(
               "Offline — messages will be sent when the network returns"),
           qPrintable(window_->connection_text()));
  QVERIFY(window_->connection_text().contains("connection refused"));
  QVERIFY(label->text().contains(window_->connection_text().toHtmlEscaped()));
}

void MainWindowTest::aListenFailureShowsOfflineAndWhenItRetries() {
  auto* label = child<QLabel>("connectionLabel");
  emit bridge_->listenFailed("no route to host", 4000);
  QVERIFY2(window_->connection_text().startsWith(
               "Offline — messages will be sent when the network returns"),
           qPrintable(window_->connection_text()));
  QVERIFY(window_->connection_text().contains("no route to host"));
  QVERIFY(label->text().contains("no route to host"));
  QCOMPARE(label->toolTip(), QStringLiteral("Trying again in 4 s"));

  emit bridge_->clientEvent(transport(net::TransportState::kConnected, "direct 127.0.0.1:8443"));
  QCOMPARE(window_->connection_text(), QStringLiteral("Connected"));
  QVERIFY(label->toolTip().isEmpty());
}

void MainWindowTest::aMessageInAClosedChatCountsUnreadAndNotifies() {
  QVERIFY(!window_->isActiveWindow());
  emit bridge_->clientEvent(message_from("dave", "are you coming tonight?", "01"));

  ConversationListModel& conversations = window_->conversations();
  const int row = conversations.row_of("dave");
  QVERIFY(row >= 0);
  const ConversationItem* item = conversations.item(row);
  QCOMPARE(item->title, QStringLiteral("dave"));
  QVERIFY(!item->is_group);
  QCOMPARE(item->preview, QStringLiteral("are you coming tonight?"));
  QCOMPARE(item->unread, 1u);
  QCOMPARE(window_->messages().rowCount(), 0);  // not open: nothing in the chat view

  const std::vector<Notification>& shown = window_->notifier()->shown();
  QCOMPARE(shown.size(), std::size_t{1});
  QCOMPARE(shown.back().title, QStringLiteral("dave"));
  QCOMPARE(shown.back().body, QStringLiteral("are you coming tonight?"));
  QCOMPARE(shown.back().conversation, QStringLiteral("dave"));

  emit bridge_->clientEvent(message_from("dave", "?", "02"));
  QCOMPARE(conversations.item(conversations.row_of("dave"))->unread, 2u);
  QCOMPARE(conversations.item(conversations.row_of("dave"))->preview, QStringLiteral("?"));
  QCOMPARE(window_->notifier()->shown().size(), std::size_t{2});

  // Our own message from another device: listed, but neither unread nor notified.
  client::Event ours = message_from("dave", "yes, at 8", "03");
  ours.outgoing = true;
  emit bridge_->clientEvent(ours);
  QCOMPARE(conversations.item(conversations.row_of("dave"))->unread, 2u);
  QCOMPARE(conversations.item(conversations.row_of("dave"))->preview, QStringLiteral("yes, at 8"));
  QCOMPARE(window_->notifier()->shown().size(), std::size_t{2});
}

void MainWindowTest::aMessageInTheOpenChatOfAnInactiveWindowStillNotifies() {
  open_chat("dave");
  QVERIFY(!window_->isActiveWindow());  // never shown: the person is looking elsewhere
  emit bridge_->clientEvent(message_from("dave", "still there?", "0a"));

  const int row = window_->messages().row_of("0a", false);
  QVERIFY(row >= 0);
  QCOMPARE(window_->messages().item(row)->text, QStringLiteral("still there?"));
  QCOMPARE(window_->conversations().item(window_->conversations().row_of("dave"))->unread, 1u);
  QCOMPARE(window_->notifier()->shown().size(), std::size_t{1});
  QCOMPARE(window_->notifier()->shown().back().title, QStringLiteral("dave"));
}

void MainWindowTest::aMessageInTheOpenChatOfTheActiveWindowIsReadAndSilent() {
  window_->show();
  if (!QTest::qWaitForWindowActive(window_.get())) {
    QSKIP("this platform plugin does not activate windows");
  }
  open_chat("dave");
  emit bridge_->clientEvent(message_from("dave", "I see you typing", "0b"));

  QVERIFY(window_->messages().row_of("0b", false) >= 0);
  QCOMPARE(window_->conversations().item(window_->conversations().row_of("dave"))->unread, 0u);
  QVERIFY(window_->notifier()->shown().empty());

  // Another chat still notifies while this one is on screen.
  emit bridge_->clientEvent(message_from("erin", "psst", "0c"));
  QCOMPARE(window_->notifier()->shown().size(), std::size_t{1});
  QCOMPARE(window_->notifier()->shown().back().title, QStringLiteral("erin"));
  QCOMPARE(window_->conversations().item(window_->conversations().row_of("erin"))->unread, 1u);
  QVERIFY(window_->messages().row_of("0c", false) < 0);
}

void MainWindowTest::aChangedKeyShowsTheBannerInThatChat() {
  window_->conversations().note_message("erin", "erin", false, "hi", kSentMs - 2000, false);
  open_chat("dave");
  auto* banner = child<QFrame>("identityBanner");
  QVERIFY(banner != nullptr);
  QVERIFY(banner->isHidden());

  // Another contact's key: flagged in the list, no banner over this chat.
  emit bridge_->clientEvent(event_from(Kind::kIdentityChanged, "erin"));
  ConversationListModel& conversations = window_->conversations();
  QVERIFY(conversations.item(conversations.row_of("erin"))->identity_changed);
  QVERIFY(!conversations.item(conversations.row_of("dave"))->identity_changed);
  QVERIFY(banner->isHidden());

  emit bridge_->clientEvent(event_from(Kind::kIdentityChanged, "dave"));
  QVERIFY(conversations.item(conversations.row_of("dave"))->identity_changed);
  QVERIFY(!banner->isHidden());
  QVERIFY(banner->isVisibleTo(window_.get()));

  // Opening the other flagged chat shows its banner too.
  open_chat("erin");
  QVERIFY(!banner->isHidden());
  bool names_erin = false;
  for (const QLabel* label : banner->findChildren<QLabel*>()) {
    names_erin = names_erin || label->text().contains("erin's safety number changed");
  }
  QVERIFY(names_erin);
}

void MainWindowTest::showsWhenTheOpenContactIsTyping() {
  open_chat("dave");
  auto* typing = child<QLabel>("typingLabel");
  QVERIFY(typing != nullptr);
  QVERIFY(typing->isHidden());

  client::Event started = event_from(Kind::kTyping, "dave");
  started.value = 1;
  emit bridge_->clientEvent(started);
  QVERIFY(!typing->isHidden());
  QCOMPARE(typing->text(), QStringLiteral("dave is typing…"));

  // Someone not on screen typing changes nothing here.
  client::Event elsewhere = event_from(Kind::kTyping, "erin");
  elsewhere.value = 1;
  emit bridge_->clientEvent(elsewhere);
  QCOMPARE(typing->text(), QStringLiteral("dave is typing…"));

  client::Event stopped = event_from(Kind::kTyping, "dave");
  stopped.value = 0;
  emit bridge_->clientEvent(stopped);
  QVERIFY(typing->isHidden());
}

void MainWindowTest::receiptsMoveTheStatusForward() {
  open_chat("dave");
  MessageItem sent;
  sent.id = "c0ffee01";
  sent.outgoing = true;
  sent.text = "see you";
  sent.sent_ms = kSentMs;
  sent.status = MessageStatus::kPending;
  window_->messages().upsert(sent);
  const auto status = [this] {
    const MessageListModel& messages = window_->messages();
    return messages.item(messages.row_of("c0ffee01", true))->status;
  };

  emit bridge_->clientEvent(receipt(Kind::kSent, "c0ffee01"));
  QCOMPARE(status(), MessageStatus::kSent);
  emit bridge_->clientEvent(receipt(Kind::kDelivered, "c0ffee01"));
  QCOMPARE(status(), MessageStatus::kDelivered);
  emit bridge_->clientEvent(receipt(Kind::kRead, "c0ffee01"));
  QCOMPARE(status(), MessageStatus::kRead);
  // A late "delivered" (receipts may cross) does not move it back.
  emit bridge_->clientEvent(receipt(Kind::kDelivered, "c0ffee01"));
  QCOMPARE(status(), MessageStatus::kRead);
  // A receipt for a message not on screen is ignored.
  emit bridge_->clientEvent(receipt(Kind::kRead, "0bad"));
  QCOMPARE(window_->messages().rowCount(), 1);
}

void MainWindowTest::aGroupMessageMakesAGroupRow() {
  client::Event event = message_from("erin", "rope at 6?", "0d");
  event.group_id_hex = kGroupId;
  event.group_name = "Climbing";
  emit bridge_->clientEvent(event);

  ConversationListModel& conversations = window_->conversations();
  const int row = conversations.row_of(QString::fromStdString(kGroupId));
  QVERIFY(row >= 0);
  const ConversationItem* item = conversations.item(row);
  QVERIFY(item->is_group);
  QCOMPARE(item->title, QStringLiteral("Climbing"));
  QCOMPARE(item->preview, QStringLiteral("rope at 6?"));
  QCOMPARE(item->unread, 1u);
  QCOMPARE(conversations.row_of("erin"), -1);  // not a direct chat with the author
  QCOMPARE(window_->notifier()->shown().size(), std::size_t{1});
  QCOMPARE(window_->notifier()->shown().back().title, QStringLiteral("erin in Climbing"));
  QCOMPARE(window_->notifier()->shown().back().conversation, QString::fromStdString(kGroupId));
}

PARLEY_DESKTOP_TEST(MainWindowTest);

}  // namespace parley::desktop::test

#include "main_window_test.moc"
