// SPDX-License-Identifier: AGPL-3.0-or-later
//
// The desktop app end to end, under Xvfb: the real parleyd, a `parley` CLI user (carol) and two
// desktop instances (alice and bob, each a DesktopApp with its own home, driven through their
// widgets by object name). Steps run in order and build on each other:
//   first run (create accounts) → CLI → desktop → CLI → desktop ↔ desktop → a picture file →
//   safety numbers verified → a group, then a member removed → typing → the server killed and
//   back (offline, then delivered) → quit and unlock again with the passphrase → a second device
//   linked by code.
// Screenshots of each screen go to $PARLEY_TEST_ARTIFACTS (default:
// <build>/test-artifacts/desktop).

#include <QApplication>
#include <QCheckBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QListWidget>
#include <QPainter>
#include <QPlainTextEdit>
#include <QProcess>
#include <QProgressBar>
#include <QPushButton>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <memory>

#include "core/conversation_list_model.h"
#include "core/message_list_model.h"
#include "parleyd_process.h"
#include "ui/chat_panel.h"
#include "ui/composer.h"
#include "ui/desktop_app.h"
#include "ui/first_run_dialog.h"
#include "ui/group_dialogs.h"
#include "ui/link_device_dialog.h"
#include "ui/main_window.h"
#include "ui/safety_number_dialog.h"
#include "ui/tray_notifier.h"
#include "ui/unlock_dialog.h"

using parley::desktop::ConversationListModel;
using parley::desktop::DesktopApp;
using parley::desktop::DesktopOptions;
using parley::desktop::MainWindow;
using parley::desktop::MessageItem;
using parley::desktop::MessageListModel;

namespace {

constexpr int kNetworkMs = 30000;  // generous: ASan builds on a busy 2-core machine
const char* const kAlicePassphrase = "correct horse battery staple";

template <typename T>
T* child(QWidget* parent, const char* name) {
  T* found = parent->findChild<T*>(name);
  if (found == nullptr) qWarning("no child %s", name);
  return found;
}

// Index of the message with `text` in the open chat, -1 when absent.
int message_row(const MessageListModel& model, const QString& text) {
  for (int row = 0; row < model.rowCount(); ++row) {
    if (model.item(row)->text == text) return row;
  }
  return -1;
}

int file_row(const MessageListModel& model, const QString& name) {
  for (int row = 0; row < model.rowCount(); ++row) {
    if (model.item(row)->file_name == name) return row;
  }
  return -1;
}

}  // namespace

class DesktopE2eTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase();
  void firstRunCreatesAccounts();
  void cliUserTalksToDesktop();
  void desktopTalksToDesktop();
  void pictureFileArrivesAsThumbnail();
  void safetyNumbersMatchAndVerify();
  void groupChat();
  void groupMembersChange();
  void typingShowsOnTheOtherSide();
  void offlineThenDeliveredWhenTheServerReturns();
  void quitAndUnlockWithPassphrase();
  void linkASecondDeviceByCode();
  void firstRunShowsProofOfWorkProgress();
  void cleanupTestCase();

 private:
  // `parley --home <carol> <args…>`; fails the test on a non-zero exit.
  QString cli(const QStringList& args);
  void create_account(DesktopApp& app, const QString& username, const QString& passphrase);
  void screenshot(QWidget* widget, const QString& name);
  MainWindow* window(std::unique_ptr<DesktopApp>& app) { return app->main_window(); }
  DesktopOptions options(const QString& user) {
    DesktopOptions options;
    options.home = root_.filePath(user).toStdString();
    return options;
  }
  void type_and_send(MainWindow* window, const QString& text);

  QTemporaryDir root_;
  std::unique_ptr<parley::testing::ParleydProcess> server_;
  QString address_;
  QString cert_;
  QString carol_home_;
  QDir artifacts_;
  std::unique_ptr<DesktopApp> alice_;
  std::unique_ptr<DesktopApp> bob_;
  std::unique_ptr<DesktopApp> alice_laptop_;
  QString group_;
};

void DesktopE2eTest::initTestCase() {
  QVERIFY(root_.isValid());
  const QByteArray artifacts = qgetenv("PARLEY_TEST_ARTIFACTS");
  artifacts_.setPath(artifacts.isEmpty() ? QString(PARLEY_TEST_ARTIFACTS_DEFAULT)
                                         : QString::fromLocal8Bit(artifacts));
  QVERIFY(artifacts_.mkpath("."));

  const QString data = root_.filePath("server");
  QVERIFY(QDir().mkpath(data));
  server_ = std::make_unique<parley::testing::ParleydProcess>(data.toStdString());
  const auto started = server_->start();
  QVERIFY2(started.ok(), started.to_string().c_str());
  address_ = QString("127.0.0.1:%1").arg(server_->port());
  cert_ = data + "/tls/server-cert.pem";
  QVERIFY(QFile::exists(cert_));

  carol_home_ = root_.filePath("carol");
  cli({"init", "--server", address_, "--ca", cert_, "--username", "carol"});
}

QString DesktopE2eTest::cli(const QStringList& args) {
  QProcess process;
  process.setProgram(PARLEY_CLI_PATH);
  process.setArguments(QStringList{"--home", carol_home_} + args);
  process.start();
  if (!process.waitForFinished(kNetworkMs)) {
    process.kill();
    process.waitForFinished();
    qWarning("parley %s timed out", qPrintable(args.join(' ')));
    return {};
  }
  const QString out = QString::fromUtf8(process.readAllStandardOutput());
  if (process.exitCode() != 0) {
    qWarning("parley %s failed (%d): %s", qPrintable(args.join(' ')), process.exitCode(),
             qPrintable(QString::fromUtf8(process.readAllStandardError())));
  }
  return out;
}

void DesktopE2eTest::screenshot(QWidget* widget, const QString& name) {
  QApplication::processEvents();
  const QString path = artifacts_.filePath(name + ".png");
  QVERIFY2(widget->grab().save(path), qPrintable("cannot save " + path));
}

void DesktopE2eTest::create_account(DesktopApp& app, const QString& username,
                                    const QString& passphrase) {
  app.start();
  QTRY_VERIFY(app.dialog() != nullptr);
  auto* dialog = qobject_cast<parley::desktop::FirstRunDialog*>(app.dialog());
  QVERIFY(dialog != nullptr);
  QTRY_VERIFY(dialog->isVisible());
  child<QLineEdit>(dialog, "serverEdit")->setText(address_);
  child<QLineEdit>(dialog, "trustEdit")->setText(cert_);
  QTest::keyClicks(child<QLineEdit>(dialog, "usernameEdit"), username);
  QTest::keyClicks(child<QLineEdit>(dialog, "passphraseEdit"), passphrase);
  QTest::keyClicks(child<QLineEdit>(dialog, "passphraseRepeatEdit"), passphrase);
  if (passphrase.isEmpty()) {
    // An empty passphrase must be chosen on purpose (the key file then protects the store).
    auto* no_passphrase = dialog->findChild<QCheckBox*>("noPassphraseCheck");
    if (no_passphrase != nullptr) no_passphrase->setChecked(true);
  }
  screenshot(dialog, "01-first-run-" + username);
  QTest::mouseClick(child<QPushButton>(dialog, "createButton"), Qt::LeftButton);
  QPointer<QLabel> error = child<QLabel>(dialog, "errorLabel");  // goes with the dialog
  QTRY_VERIFY2_WITH_TIMEOUT(app.main_window() != nullptr,
                            qPrintable(error ? error->text() : QString()), kNetworkMs);
  QTRY_VERIFY2_WITH_TIMEOUT(app.main_window()->connection_text() == "Connected",
                            qPrintable(app.main_window()->connection_text()), kNetworkMs);
}

void DesktopE2eTest::type_and_send(MainWindow* window, const QString& text) {
  auto* composer = window->chat_panel()->composer();
  QVERIFY(composer->isEnabled());
  composer->setFocus();
  // New lines as a person types them: Shift+Enter (a plain Enter sends).
  const QStringList lines = text.split('\n');
  for (int i = 0; i < lines.size(); ++i) {
    if (i > 0) QTest::keyClick(composer, Qt::Key_Return, Qt::ShiftModifier);
    QTest::keyClicks(composer, lines[i]);
  }
  QTest::keyClick(composer, Qt::Key_Return);
  QCOMPARE(composer->toPlainText(), QString());
}

void DesktopE2eTest::firstRunCreatesAccounts() {
  alice_ = std::make_unique<DesktopApp>(options("alice"));
  create_account(*alice_, "alice", kAlicePassphrase);
  DesktopOptions bob_options = options("bob");
  bob_options.download_dir = root_.filePath("bob-downloads").toStdString();  // --download-dir
  bob_ = std::make_unique<DesktopApp>(bob_options);
  create_account(*bob_, "bob", "");
  QTRY_COMPARE(window(alice_)->windowTitle(), QString("Parley — alice"));
  screenshot(window(alice_), "02-empty-main-window");
}

void DesktopE2eTest::cliUserTalksToDesktop() {
  MainWindow* alice = window(alice_);
  cli({"send", "alice", "hello from the terminal"});
  // The conversation appears with one unread message.
  QTRY_VERIFY_WITH_TIMEOUT(alice->conversations().row_of("carol") >= 0, kNetworkMs);
  const int row = alice->conversations().row_of("carol");
  QCOMPARE(alice->conversations().item(row)->preview, QString("hello from the terminal"));
  QVERIFY(alice->conversations().item(row)->unread >= 1);

  // Opening it shows the message and marks it read.
  QSignalSpy loaded(alice, &MainWindow::conversationLoaded);
  alice->open_conversation("carol");
  QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kNetworkMs);
  QVERIFY(message_row(alice->messages(), "hello from the terminal") >= 0);
  QCOMPARE(alice->conversations().item(alice->conversations().row_of("carol"))->unread, 0u);

  // A reply typed into the composer reaches the CLI, and carol's receipt comes back.
  type_and_send(alice, "hi carol, from the desktop");
  QTRY_VERIFY_WITH_TIMEOUT(message_row(alice->messages(), "hi carol, from the desktop") >= 0,
                           kNetworkMs);
  const int sent = message_row(alice->messages(), "hi carol, from the desktop");
  QVERIFY(alice->messages().item(sent)->outgoing);
  QTRY_VERIFY_WITH_TIMEOUT(
      alice->messages()
              .item(message_row(alice->messages(), "hi carol, from the desktop"))
              ->status >= parley::client::MessageStatus::kSent,
      kNetworkMs);
  QString received;
  for (int attempt = 0; attempt < 10 && !received.contains("hi carol, from the desktop");
       ++attempt) {
    received += cli({"receive", "--json"});
  }
  QVERIFY2(received.contains("hi carol, from the desktop"), qPrintable(received));
  QTRY_VERIFY_WITH_TIMEOUT(
      alice->messages()
              .item(message_row(alice->messages(), "hi carol, from the desktop"))
              ->status >= parley::client::MessageStatus::kDelivered,
      kNetworkMs);
  screenshot(alice, "03-chat-with-cli-user");
}

void DesktopE2eTest::desktopTalksToDesktop() {
  MainWindow* alice = window(alice_);
  MainWindow* bob = window(bob_);
  QSignalSpy loaded(alice, &MainWindow::conversationLoaded);
  alice->start_chat("bob");
  QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kNetworkMs);
  QCOMPARE(alice->open_key(), QString("bob"));
  type_and_send(alice, "hello bob");

  // Bob has no chat open: the message counts as unread and notifies.
  QTRY_VERIFY_WITH_TIMEOUT(bob->conversations().row_of("alice") >= 0, kNetworkMs);
  QCOMPARE(bob->conversations().item(bob->conversations().row_of("alice"))->preview,
           QString("hello bob"));
  QTRY_VERIFY(!bob->notifier()->shown().empty());
  QCOMPARE(bob->notifier()->shown().back().title, QString("alice"));
  QCOMPARE(bob->notifier()->shown().back().body, QString("hello bob"));
  QCOMPARE(bob->notifier()->shown().back().conversation, QString("alice"));

  QSignalSpy bob_loaded(bob, &MainWindow::conversationLoaded);
  bob->open_conversation("alice");
  QTRY_COMPARE_WITH_TIMEOUT(bob_loaded.count(), 1, kNetworkMs);
  QVERIFY(message_row(bob->messages(), "hello bob") >= 0);
  type_and_send(bob, "hello alice\nthis has two lines");
  QTRY_VERIFY_WITH_TIMEOUT(message_row(alice->messages(), "hello alice\nthis has two lines") >= 0,
                           kNetworkMs);
  // Alice's first message was read by bob: her ticks say so.
  QTRY_COMPARE_WITH_TIMEOUT(
      alice->messages().item(message_row(alice->messages(), "hello bob"))->status,
      parley::client::MessageStatus::kRead, kNetworkMs);
  screenshot(bob, "04-chat-between-desktops");
}

void DesktopE2eTest::pictureFileArrivesAsThumbnail() {
  MainWindow* alice = window(alice_);
  MainWindow* bob = window(bob_);
  // A picture drawn here, so the test owns every byte of it.
  QImage picture(320, 200, QImage::Format_RGB32);
  picture.fill(QColor(0x2a, 0x6f, 0x97));
  {
    QPainter painter(&picture);
    painter.setPen(Qt::white);
    painter.setFont(QFont("DejaVu Sans", 28));
    painter.drawText(picture.rect(), Qt::AlignCenter, "Parley");
  }
  const QString path = root_.filePath("sunset.png");
  QVERIFY(picture.save(path, "PNG"));

  alice->send_files({path});
  QTRY_VERIFY_WITH_TIMEOUT(file_row(alice->messages(), "sunset.png") >= 0, kNetworkMs);
  QTRY_VERIFY_WITH_TIMEOUT(file_row(bob->messages(), "sunset.png") >= 0, kNetworkMs);
  QTRY_COMPARE_WITH_TIMEOUT(
      bob->messages().item(file_row(bob->messages(), "sunset.png"))->file_state,
      MessageItem::FileState::kDone, kNetworkMs);
  const MessageItem received = *bob->messages().item(file_row(bob->messages(), "sunset.png"));
  QFile original(path);
  QFile copy(received.file_path);
  QVERIFY(original.open(QIODevice::ReadOnly));
  QVERIFY2(copy.open(QIODevice::ReadOnly), qPrintable(received.file_path));
  QVERIFY2(received.file_path.startsWith(root_.filePath("bob-downloads") + "/"),
           qPrintable(received.file_path));
  QCOMPARE(copy.readAll(), original.readAll());
  const QModelIndex index = bob->messages().index(file_row(bob->messages(), "sunset.png"));
  QVERIFY(index.data(MessageListModel::kIsImageRole).toBool());
  // The sender's side finishes too (uploaded, shown as a picture).
  QTRY_COMPARE_WITH_TIMEOUT(
      alice->messages().item(file_row(alice->messages(), "sunset.png"))->file_state,
      MessageItem::FileState::kDone, kNetworkMs);
  screenshot(bob, "05-picture-received");
}

void DesktopE2eTest::safetyNumbersMatchAndVerify() {
  MainWindow* alice = window(alice_);
  MainWindow* bob = window(bob_);
  alice->show_safety_number();
  bob->show_safety_number();
  auto* alice_dialog = alice->findChild<parley::desktop::SafetyNumberDialog*>();
  auto* bob_dialog = bob->findChild<parley::desktop::SafetyNumberDialog*>();
  QVERIFY(alice_dialog != nullptr && bob_dialog != nullptr);
  QTRY_VERIFY_WITH_TIMEOUT(!alice_dialog->digits().isEmpty(), kNetworkMs);
  QTRY_VERIFY_WITH_TIMEOUT(!bob_dialog->digits().isEmpty(), kNetworkMs);
  QCOMPARE(alice_dialog->digits(), bob_dialog->digits());
  QString digits_only = alice_dialog->digits();
  digits_only.remove(QRegularExpression("\\s"));
  QCOMPARE(digits_only.size(), 60);
  auto* qr = child<QLabel>(alice_dialog, "qrLabel");
  QVERIFY(!qr->pixmap().isNull());
  screenshot(alice_dialog, "06-safety-number");

  QSignalSpy verified(alice_dialog, &parley::desktop::SafetyNumberDialog::verified);
  QTest::mouseClick(child<QPushButton>(alice_dialog, "verifyButton"), Qt::LeftButton);
  QTRY_COMPARE_WITH_TIMEOUT(verified.count(), 1, kNetworkMs);
  QTRY_VERIFY_WITH_TIMEOUT(
      alice->conversations().item(alice->conversations().row_of("bob"))->verified, kNetworkMs);
  alice_dialog->close();
  bob_dialog->close();
}

void DesktopE2eTest::groupChat() {
  MainWindow* alice = window(alice_);
  MainWindow* bob = window(bob_);
  alice->show_new_group();
  auto* dialog = alice->findChild<parley::desktop::NewGroupDialog*>();
  QVERIFY(dialog != nullptr);
  QSignalSpy created(dialog, &parley::desktop::NewGroupDialog::created);
  child<QLineEdit>(dialog, "nameEdit")->setText("Book club");
  auto* members = dialog->findChild<QWidget*>("membersEdit");
  QVERIFY(members != nullptr);
  if (auto* line = qobject_cast<QLineEdit*>(members)) line->setText("bob, carol");
  if (auto* text = qobject_cast<QPlainTextEdit*>(members)) text->setPlainText("bob, carol");
  QTest::mouseClick(child<QPushButton>(dialog, "createButton"), Qt::LeftButton);
  QTRY_COMPARE_WITH_TIMEOUT(created.count(), 1, kNetworkMs);
  const QString group = created.at(0).at(0).toString();
  group_ = group;
  QTRY_COMPARE_WITH_TIMEOUT(alice->open_key(), group, kNetworkMs);
  type_and_send(alice, "welcome to the book club");

  QTRY_VERIFY_WITH_TIMEOUT(bob->conversations().row_of(group) >= 0, kNetworkMs);
  QSignalSpy loaded(bob, &MainWindow::conversationLoaded);
  bob->open_conversation(group);
  QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kNetworkMs);
  QTRY_VERIFY_WITH_TIMEOUT(message_row(bob->messages(), "welcome to the book club") >= 0,
                           kNetworkMs);
  QCOMPARE(bob->messages().item(message_row(bob->messages(), "welcome to the book club"))->author,
           QString("alice"));
  QString carol_got;
  for (int attempt = 0; attempt < 10 && !carol_got.contains("welcome to the book club");
       ++attempt) {
    carol_got += cli({"receive", "--json"});
  }
  QVERIFY2(carol_got.contains("welcome to the book club"), qPrintable(carol_got));
  type_and_send(bob, "glad to be here");
  QTRY_VERIFY_WITH_TIMEOUT(message_row(alice->messages(), "glad to be here") >= 0, kNetworkMs);
  screenshot(alice, "07-group-chat");
}

void DesktopE2eTest::groupMembersChange() {
  MainWindow* alice = window(alice_);
  MainWindow* bob = window(bob_);
  QCOMPARE(alice->open_key(), group_);
  alice->show_group_members();
  auto* dialog = alice->findChild<parley::desktop::GroupMembersDialog*>();
  QVERIFY(dialog != nullptr);
  auto* list = child<QListWidget>(dialog, "memberList");
  QTRY_COMPARE_WITH_TIMEOUT(list->count(), 3, kNetworkMs);
  screenshot(dialog, "08-group-members");

  // Remove carol: bob's copy of the group follows, and her removal is announced.
  QSignalSpy changed(dialog, &parley::desktop::GroupMembersDialog::changed);
  for (int row = 0; row < list->count(); ++row) {
    if (list->item(row)->text().startsWith("carol")) list->setCurrentRow(row);
  }
  QVERIFY(list->currentItem() != nullptr && list->currentItem()->text().startsWith("carol"));
  QTest::mouseClick(child<QPushButton>(dialog, "removeButton"), Qt::LeftButton);
  QTRY_COMPARE_WITH_TIMEOUT(changed.count(), 1, kNetworkMs);
  QTRY_COMPARE_WITH_TIMEOUT(list->count(), 2, kNetworkMs);
  dialog->close();
  type_and_send(alice, "carol left the club");
  QTRY_VERIFY_WITH_TIMEOUT(message_row(bob->messages(), "carol left the club") >= 0, kNetworkMs);
  const int bob_row = bob->conversations().row_of(group_);
  QVERIFY(bob_row >= 0);
  QTRY_COMPARE_WITH_TIMEOUT(bob->conversations().item(bob->conversations().row_of(group_))->preview,
                            QString("carol left the club"), kNetworkMs);
}

void DesktopE2eTest::typingShowsOnTheOtherSide() {
  MainWindow* alice = window(alice_);
  MainWindow* bob = window(bob_);
  QSignalSpy loaded(alice, &MainWindow::conversationLoaded);
  alice->open_conversation("bob");
  QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kNetworkMs);
  QSignalSpy bob_loaded(bob, &MainWindow::conversationLoaded);
  bob->open_conversation("alice");
  QTRY_COMPARE_WITH_TIMEOUT(bob_loaded.count(), 1, kNetworkMs);
  auto* typing = child<QLabel>(bob->chat_panel(), "typingLabel");
  QVERIFY(typing->isHidden());
  auto* composer = alice->chat_panel()->composer();
  composer->setFocus();
  QTest::keyClicks(composer, "I am wri");
  QTRY_VERIFY_WITH_TIMEOUT(!typing->isHidden(), kNetworkMs);
  QCOMPARE(typing->text(), QString("alice is typing…"));
  screenshot(bob, "09-typing");
  // Emptying the box stops the indicator on the other side.
  composer->clear();
  QTRY_VERIFY_WITH_TIMEOUT(typing->isHidden(), kNetworkMs);
}

void DesktopE2eTest::offlineThenDeliveredWhenTheServerReturns() {
  MainWindow* alice = window(alice_);
  MainWindow* bob = window(bob_);
  QCOMPARE(alice->open_key(), QString("bob"));
  server_->kill9();
  QTRY_VERIFY2_WITH_TIMEOUT(alice->connection_text().startsWith(
                                "Offline — messages will be sent when the network returns"),
                            qPrintable(alice->connection_text()), kNetworkMs);
  screenshot(alice, "10-offline");
  // Written while offline: it waits in the outbox, shown as not yet sent.
  type_and_send(alice, "sent while the server was down");
  QTRY_VERIFY_WITH_TIMEOUT(message_row(alice->messages(), "sent while the server was down") >= 0,
                           kNetworkMs);
  QCOMPARE(alice->messages()
               .item(message_row(alice->messages(), "sent while the server was down"))
               ->status,
           parley::client::MessageStatus::kPending);

  const auto restarted = server_->start();
  QVERIFY2(restarted.ok(), restarted.to_string().c_str());
  QTRY_VERIFY2_WITH_TIMEOUT(alice->connection_text() == "Connected",
                            qPrintable(alice->connection_text()), 2 * kNetworkMs);
  QTRY_VERIFY_WITH_TIMEOUT(message_row(bob->messages(), "sent while the server was down") >= 0,
                           2 * kNetworkMs);
  QTRY_VERIFY_WITH_TIMEOUT(
      alice->messages()
              .item(message_row(alice->messages(), "sent while the server was down"))
              ->status >= parley::client::MessageStatus::kDelivered,
      kNetworkMs);
  // Exactly once on the receiving side.
  int copies = 0;
  for (int row = 0; row < bob->messages().rowCount(); ++row) {
    if (bob->messages().item(row)->text == "sent while the server was down") ++copies;
  }
  QCOMPARE(copies, 1);
}

void DesktopE2eTest::quitAndUnlockWithPassphrase() {
  // Quit alice's app (its worker stops and the home lock is released), then start again: her
  // home has a passphrase, so the unlock dialog comes first; a wrong one is refused.
  alice_.reset();
  alice_ = std::make_unique<DesktopApp>(options("alice"));
  alice_->start();
  QTRY_VERIFY(alice_->dialog() != nullptr);
  auto* unlock = qobject_cast<parley::desktop::UnlockDialog*>(alice_->dialog());
  QVERIFY(unlock != nullptr);
  QTest::keyClicks(child<QLineEdit>(unlock, "passphraseEdit"), "not the passphrase");
  QTest::mouseClick(child<QPushButton>(unlock, "unlockButton"), Qt::LeftButton);
  QTRY_COMPARE_WITH_TIMEOUT(child<QLabel>(unlock, "errorLabel")->text(),
                            QString("Wrong passphrase. Try again."), kNetworkMs);
  QVERIFY(alice_->main_window() == nullptr);
  child<QLineEdit>(unlock, "passphraseEdit")->clear();
  QTest::keyClicks(child<QLineEdit>(unlock, "passphraseEdit"), kAlicePassphrase);
  QTest::mouseClick(child<QPushButton>(unlock, "unlockButton"), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(alice_->main_window() != nullptr, kNetworkMs);
  MainWindow* alice = window(alice_);
  QTRY_VERIFY_WITH_TIMEOUT(alice->conversations().row_of("bob") >= 0, kNetworkMs);
  QTRY_VERIFY_WITH_TIMEOUT(alice->conversations().row_of("carol") >= 0, kNetworkMs);
  QSignalSpy loaded(alice, &MainWindow::conversationLoaded);
  alice->open_conversation("bob");
  QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kNetworkMs);
  QVERIFY(message_row(alice->messages(), "hello alice\nthis has two lines") >= 0);
  QVERIFY(file_row(alice->messages(), "sunset.png") >= 0);
  QTRY_VERIFY_WITH_TIMEOUT(alice->connection_text() == "Connected", kNetworkMs);
  screenshot(alice, "12-main-window");
}

void DesktopE2eTest::linkASecondDeviceByCode() {
  MainWindow* alice = window(alice_);
  alice->show_link_device();
  auto* link = alice->findChild<parley::desktop::LinkDeviceDialog*>();
  QVERIFY(link != nullptr);
  auto* code_label = child<QLabel>(link, "codeLabel");
  QTRY_VERIFY_WITH_TIMEOUT(code_label->text().contains('-'), kNetworkMs);
  QVERIFY(!child<QLabel>(link, "qrLabel")->pixmap().isNull());
  screenshot(link, "11-link-a-device");
  QSignalSpy linked(link, &parley::desktop::LinkDeviceDialog::linked);

  // The laptop: first run, the Link tab, the code typed in.
  alice_laptop_ = std::make_unique<DesktopApp>(options("alice-laptop"));
  alice_laptop_->start();
  QTRY_VERIFY(alice_laptop_->dialog() != nullptr);
  auto* first_run = qobject_cast<parley::desktop::FirstRunDialog*>(alice_laptop_->dialog());
  QVERIFY(first_run != nullptr);
  child<QLineEdit>(first_run, "serverEdit")->setText(address_);
  child<QLineEdit>(first_run, "trustEdit")->setText(cert_);
  child<QTabWidget>(first_run, "modeTabs")->setCurrentIndex(1);
  QTest::keyClicks(child<QLineEdit>(first_run, "linkCodeEdit"), code_label->text());
  QTest::mouseClick(child<QPushButton>(first_run, "linkButton"), Qt::LeftButton);
  QTRY_COMPARE_WITH_TIMEOUT(linked.count(), 1, 2 * kNetworkMs);
  QCOMPARE(child<QLabel>(link, "statusLabel")->text(),
           QString("Device %1 linked").arg(linked.at(0).at(0).toUInt()));
  QTRY_VERIFY_WITH_TIMEOUT(alice_laptop_->main_window() != nullptr, 2 * kNetworkMs);
  MainWindow* laptop = alice_laptop_->main_window();
  QTRY_COMPARE_WITH_TIMEOUT(laptop->windowTitle(), QString("Parley — alice"), kNetworkMs);

  // A message to alice now reaches both of her devices.
  MainWindow* bob = window(bob_);
  QCOMPARE(bob->open_key(), QString("alice"));
  type_and_send(bob, "to both of your devices");
  QTRY_VERIFY_WITH_TIMEOUT(laptop->conversations().row_of("bob") >= 0, 2 * kNetworkMs);
  QSignalSpy loaded(laptop, &MainWindow::conversationLoaded);
  laptop->open_conversation("bob");
  QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kNetworkMs);
  QTRY_VERIFY_WITH_TIMEOUT(message_row(laptop->messages(), "to both of your devices") >= 0,
                           kNetworkMs);
  QTRY_VERIFY_WITH_TIMEOUT(message_row(alice->messages(), "to both of your devices") >= 0,
                           kNetworkMs);
  link->close();
}

void DesktopE2eTest::firstRunShowsProofOfWorkProgress() {
  // A server that asks for a proof of work at sign-up, as production ones do.
  const QString data = root_.filePath("pow-server");
  QVERIFY(QDir().mkpath(data));
  parley::testing::ParleydProcess pow_server(data.toStdString(), {"pow_difficulty = 16"});
  const auto started = pow_server.start();
  QVERIFY2(started.ok(), started.to_string().c_str());
  DesktopApp dora(options("dora"));
  dora.start();
  QTRY_VERIFY(dora.dialog() != nullptr);
  auto* dialog = qobject_cast<parley::desktop::FirstRunDialog*>(dora.dialog());
  QVERIFY(dialog != nullptr);
  child<QLineEdit>(dialog, "serverEdit")->setText(QString("127.0.0.1:%1").arg(pow_server.port()));
  child<QLineEdit>(dialog, "trustEdit")->setText(data + "/tls/server-cert.pem");
  QTest::keyClicks(child<QLineEdit>(dialog, "usernameEdit"), "dora");
  auto* bar = child<QProgressBar>(dialog, "powProgress");
  // The core reports the first hash at once, so the bar turns determinate before the solution.
  QSignalSpy progressed(bar, &QProgressBar::valueChanged);
  QTest::mouseClick(child<QPushButton>(dialog, "createButton"), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(dora.main_window() != nullptr, 2 * kNetworkMs);
  QVERIFY(progressed.count() >= 1);
  QTRY_COMPARE_WITH_TIMEOUT(dora.main_window()->windowTitle(), QString("Parley — dora"),
                            kNetworkMs);
  pow_server.kill9();
}

void DesktopE2eTest::cleanupTestCase() {
  alice_laptop_.reset();
  alice_.reset();
  bob_.reset();
  if (server_) server_->kill9();
}

QTEST_MAIN(DesktopE2eTest)
#include "desktop_e2e_test.moc"
