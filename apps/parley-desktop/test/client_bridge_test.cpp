// SPDX-License-Identifier: AGPL-3.0-or-later
// ClientBridge: jobs run off the UI thread and in order, results reach only windows that still
// exist, and the bridge can be destroyed with a job still running.

#include "core/client_bridge.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>
#include <atomic>
#include <memory>

#include "desktop_tests.h"

namespace parley::desktop {

class ClientBridgeTest : public QObject {
  Q_OBJECT

 private slots:
  void opensAHomeAndRunsJobsOffTheUiThread();
  void runsJobsInTheOrderTheyWereAsked();
  void dropsTheResultOfAClosedWindow();
  void aWrongPassphraseLeavesItClosedAndOpenCanBeRetried();
  void aSecondProcessHoldingTheHomeMeansOfflineMode();
  void isDestroyedWhileAJobRuns();
  void jobsBeforeOpenAreDroppedUnanswered();

 private:
  // Opens `bridge` on `home` and waits for the answer.
  static Status open(ClientBridge& bridge, const QString& home,
                     std::optional<std::string> passphrase = std::nullopt);
};

Status ClientBridgeTest::open(ClientBridge& bridge, const QString& home,
                              std::optional<std::string> passphrase) {
  QObject context;
  std::optional<Status> result;
  BridgeOptions options;
  options.home = home.toStdString();
  options.passphrase = std::move(passphrase);
  bridge.open(options, &context, [&](const Status& status) { result = status; });
  if (!QTest::qWaitFor([&] { return result.has_value(); }, 20000)) {
    return Status::error(ErrorCode::kTimeout, "open did not answer");
  }
  return *result;
}

void ClientBridgeTest::opensAHomeAndRunsJobsOffTheUiThread() {
  QTemporaryDir home;
  ClientBridge bridge;
  const Status opened = open(bridge, home.path());
  QVERIFY2(opened.ok(), opened.to_string().c_str());
  QVERIFY(bridge.is_open());
  QVERIFY(!bridge.offline_mode());

  QObject context;
  Qt::HANDLE job_thread = nullptr;
  Qt::HANDLE done_thread = nullptr;
  std::optional<bool> initialized;
  bridge.call<bool>(
      &context,
      [&](client::Client& c) {
        job_thread = QThread::currentThreadId();
        return c.initialized();
      },
      [&](bool value) {
        done_thread = QThread::currentThreadId();
        initialized = value;
      });
  QTRY_VERIFY(initialized.has_value());
  QCOMPARE(*initialized, false);  // a fresh home has no account yet
  QVERIFY(job_thread != QThread::currentThreadId());
  QCOMPARE(done_thread, QThread::currentThreadId());
}

void ClientBridgeTest::runsJobsInTheOrderTheyWereAsked() {
  QTemporaryDir home;
  ClientBridge bridge;
  QVERIFY(open(bridge, home.path()).ok());
  QObject context;
  std::vector<int> ran;       // on the worker, in order
  std::vector<int> answered;  // on the UI thread
  for (int i = 0; i < 50; ++i) {
    bridge.call<int>(
        &context,
        [&ran, i](client::Client&) {
          ran.push_back(i);
          return i;
        },
        [&answered](int value) { answered.push_back(value); });
  }
  QTRY_COMPARE(answered.size(), std::size_t{50});
  for (int i = 0; i < 50; ++i) {
    QCOMPARE(ran[static_cast<std::size_t>(i)], i);
    QCOMPARE(answered[static_cast<std::size_t>(i)], i);
  }
}

void ClientBridgeTest::dropsTheResultOfAClosedWindow() {
  QTemporaryDir home;
  ClientBridge bridge;
  QVERIFY(open(bridge, home.path()).ok());
  auto window = std::make_unique<QObject>();
  std::atomic<bool> release{false};
  std::atomic<bool> job_ran{false};
  bool answered_closed = false;
  bridge.call<int>(
      window.get(),
      [&](client::Client&) {
        while (!release.load()) QThread::msleep(1);
        job_ran = true;
        return 1;
      },
      [&](int) { answered_closed = true; });
  // A later job for a window that stays open: its answer proves the first one was delivered
  // (or dropped) before it, since answers come back in order.
  QObject open_window;
  bool answered_open = false;
  bridge.call<int>(
      &open_window, [](client::Client&) { return 2; }, [&](int) { answered_open = true; });
  window.reset();  // the window closes while its job still runs
  release = true;
  QTRY_VERIFY(answered_open);
  QVERIFY(job_ran.load());
  QVERIFY(!answered_closed);
}

void ClientBridgeTest::aWrongPassphraseLeavesItClosedAndOpenCanBeRetried() {
  QTemporaryDir home;
  {
    ClientBridge first;
    QVERIFY(open(first, home.path(), "the right one").ok());
  }
  ClientBridge bridge;
  const Status wrong = open(bridge, home.path(), "a wrong one");
  QCOMPARE(wrong.code(), ErrorCode::kWrongDatabaseKey);
  QVERIFY(!bridge.is_open());
  const Status right = open(bridge, home.path(), "the right one");
  QVERIFY2(right.ok(), right.to_string().c_str());
  QVERIFY(bridge.is_open());
}

void ClientBridgeTest::aSecondProcessHoldingTheHomeMeansOfflineMode() {
  QTemporaryDir home;
  // The lock is per open file description, so a second open in this process counts as another
  // holder, as a `parley listen` in a terminal would.
  auto held =
      client::HomeLock::try_acquire(client::HomeLock::lock_file_in(home.path().toStdString()));
  QVERIFY(held.ok());
  ClientBridge bridge;
  QVERIFY(open(bridge, home.path()).ok());
  QVERIFY(bridge.offline_mode());
  // When the other holder goes, the bridge takes the home over by itself.
  held->release();
  QTRY_VERIFY_WITH_TIMEOUT(!bridge.offline_mode(), 10000);
}

void ClientBridgeTest::isDestroyedWhileAJobRuns() {
  QTemporaryDir home;
  auto bridge = std::make_unique<ClientBridge>();
  QVERIFY(open(*bridge, home.path()).ok());
  std::atomic<bool> started{false};
  QObject context;
  bool answered = false;
  bridge->call<int>(
      &context,
      [&](client::Client&) {
        started = true;
        QThread::msleep(200);
        return 1;
      },
      [&](int) { answered = true; });
  QTRY_VERIFY(started.load());
  bridge.reset();  // joins the worker after the running job
  QCoreApplication::processEvents();
  QVERIFY(!answered);  // its answer went with the bridge
}

void ClientBridgeTest::jobsBeforeOpenAreDroppedUnanswered() {
  ClientBridge bridge;
  QObject context;
  bool ran = false;
  bool answered = false;
  bridge.call<int>(
      &context,
      [&](client::Client&) {
        ran = true;
        return 1;
      },
      [&](int) { answered = true; });
  QTest::qWait(200);
  QVERIFY(!ran);
  QVERIFY(!answered);
}

PARLEY_DESKTOP_TEST(ClientBridgeTest);

}  // namespace parley::desktop

#include "client_bridge_test.moc"
