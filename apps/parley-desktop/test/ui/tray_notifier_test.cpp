// SPDX-License-Identifier: AGPL-3.0-or-later
// Desktop notifications (ui/tray_notifier.h) without a system tray, as offscreen and on a bare X
// server: what is shown is recorded (the newest 20), and what the policy said not to show is not.

#include "ui/tray_notifier.h"

#include <QTest>
#include <QWidget>

#include "desktop_tests.h"

namespace parley::desktop::test {

namespace {

Notification notification(const QString& title, bool show = true) {
  Notification n;
  n.show = show;
  n.conversation = title;
  n.title = title;
  n.body = QStringLiteral("hello");
  return n;
}

}  // namespace

class TrayNotifierTest : public QObject {
  Q_OBJECT

 private slots:
  void withoutATrayRecordsWhatIsShown();
  void ignoresWhatThePolicySaidNotToShow();
  void keepsOnlyTheNewestTwenty();
};

void TrayNotifierTest::withoutATrayRecordsWhatIsShown() {
  QWidget window;
  auto* notifier = new TrayNotifier(&window);  // owned by the window
  QVERIFY2(!notifier->has_tray(), "the offscreen platform has no system tray");
  notifier->notify(notification("dave"));
  notifier->set_unread(3);  // no tray: nothing to update, and no crash
  QCOMPARE(notifier->shown().size(), std::size_t{1});
  QCOMPARE(notifier->shown().back().title, QStringLiteral("dave"));
  QCOMPARE(notifier->shown().back().body, QStringLiteral("hello"));
  QCOMPARE(notifier->shown().back().conversation, QStringLiteral("dave"));
}

void TrayNotifierTest::ignoresWhatThePolicySaidNotToShow() {
  QWidget window;
  auto* notifier = new TrayNotifier(&window);
  notifier->notify(notification("quiet", false));
  QVERIFY(notifier->shown().empty());
  notifier->notify(notification("loud"));
  notifier->notify(notification("quiet again", false));
  QCOMPARE(notifier->shown().size(), std::size_t{1});
  QCOMPARE(notifier->shown().back().title, QStringLiteral("loud"));
}

void TrayNotifierTest::keepsOnlyTheNewestTwenty() {
  QWidget window;
  auto* notifier = new TrayNotifier(&window);
  for (int i = 0; i < 25; ++i) notifier->notify(notification(QString("n%1").arg(i)));
  QCOMPARE(notifier->shown().size(), std::size_t{20});
  QCOMPARE(notifier->shown().front().title, QStringLiteral("n5"));
  QCOMPARE(notifier->shown().back().title, QStringLiteral("n24"));
}

PARLEY_DESKTOP_TEST(TrayNotifierTest);

}  // namespace parley::desktop::test

#include "tray_notifier_test.moc"
