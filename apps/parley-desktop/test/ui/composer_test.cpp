// SPDX-License-Identifier: AGPL-3.0-or-later
// The message box (ui/composer.h): Enter sends and clears, Shift+Enter breaks the line, blank
// edges are trimmed and a blank box sends nothing; dropped or pasted files and pictures are
// handed over instead of becoming text; the typing indicator starts and stops.

#include "ui/composer.h"

#include <QImage>
#include <QMimeData>
#include <QSignalSpy>
#include <QTest>
#include <QUrl>

#include "desktop_tests.h"

namespace parley::desktop::test {

namespace {

// Drag-and-drop and paste both end in insertFromMimeData, which Qt keeps protected.
class ExposedComposer : public Composer {
 public:
  using Composer::canInsertFromMimeData;
  using Composer::insertFromMimeData;
};

}  // namespace

class ComposerTest : public QObject {
  Q_OBJECT

 private slots:
  void enterSendsTheTextAndClears();
  void shiftEnterStartsANewLine();
  void trimsBlankEdgesButKeepsInnerLines();
  void aBlankBoxSendsNothing();
  void droppedFilesAreSentNotInserted();
  void aPastedPictureIsHandedOver();
  void pastedTextIsInserted();
  void typingStartsWithTextAndStopsWhenClearedOrSent();
  void typingStopsAfterFiveIdleSeconds();
};

void ComposerTest::enterSendsTheTextAndClears() {
  Composer composer;
  QSignalSpy sent(&composer, &Composer::sendRequested);
  QTest::keyClicks(&composer, "hello there");
  QTest::keyClick(&composer, Qt::Key_Return);
  QCOMPARE(sent.count(), 1);
  QCOMPARE(sent.at(0).at(0).toString(), QStringLiteral("hello there"));
  QVERIFY(composer.toPlainText().isEmpty());

  // The keypad's Enter does the same.
  QTest::keyClicks(&composer, "again");
  QTest::keyClick(&composer, Qt::Key_Enter, Qt::KeypadModifier);
  QCOMPARE(sent.count(), 2);
  QCOMPARE(sent.at(1).at(0).toString(), QStringLiteral("again"));
}

void ComposerTest::shiftEnterStartsANewLine() {
  Composer composer;
  QSignalSpy sent(&composer, &Composer::sendRequested);
  QTest::keyClicks(&composer, "a");
  QTest::keyClick(&composer, Qt::Key_Return, Qt::ShiftModifier);
  QTest::keyClicks(&composer, "b");
  QCOMPARE(sent.count(), 0);
  QCOMPARE(composer.toPlainText(), QStringLiteral("a\nb"));
  QTest::keyClick(&composer, Qt::Key_Return);
  QCOMPARE(sent.count(), 1);
  // A plain '\n' goes to the core, not Qt's U+2028 line separator.
  QCOMPARE(sent.at(0).at(0).toString(), QStringLiteral("a\nb"));
}

void ComposerTest::trimsBlankEdgesButKeepsInnerLines() {
  Composer composer;
  QSignalSpy sent(&composer, &Composer::sendRequested);
  composer.setPlainText("\n\n  \nfirst\n\nsecond\n \n\n");
  QTest::keyClick(&composer, Qt::Key_Return);
  QCOMPARE(sent.count(), 1);
  QCOMPARE(sent.at(0).at(0).toString(), QStringLiteral("first\n\nsecond"));
}

void ComposerTest::aBlankBoxSendsNothing() {
  Composer composer;
  QSignalSpy sent(&composer, &Composer::sendRequested);
  QTest::keyClick(&composer, Qt::Key_Return);
  composer.setPlainText(" \n\t\n ");
  QTest::keyClick(&composer, Qt::Key_Return);
  composer.submit();  // the Send button
  QCOMPARE(sent.count(), 0);
}

void ComposerTest::droppedFilesAreSentNotInserted() {
  ExposedComposer composer;
  QSignalSpy files(&composer, &Composer::filesDropped);
  QSignalSpy sent(&composer, &Composer::sendRequested);
  QMimeData data;
  // A file manager's copy: local URLs, a web link, and the paths as text as well.
  data.setUrls({QUrl::fromLocalFile("/tmp/parley/report.pdf"),
                QUrl("https://example.org/not-a-file"),
                QUrl::fromLocalFile("/tmp/parley/photo one.png")});
  data.setText("/tmp/parley/report.pdf\n/tmp/parley/photo one.png");
  QVERIFY(composer.canInsertFromMimeData(&data));
  composer.insertFromMimeData(&data);
  QCOMPARE(files.count(), 1);
  QCOMPARE(files.at(0).at(0).toStringList(),
           QStringList({"/tmp/parley/report.pdf", "/tmp/parley/photo one.png"}));
  QVERIFY(composer.toPlainText().isEmpty());
  QCOMPARE(sent.count(), 0);
}

void ComposerTest::aPastedPictureIsHandedOver() {
  ExposedComposer composer;
  QSignalSpy images(&composer, &Composer::imagePasted);
  QSignalSpy files(&composer, &Composer::filesDropped);
  QImage screenshot(32, 16, QImage::Format_RGB32);
  screenshot.fill(Qt::blue);
  QMimeData data;
  data.setImageData(screenshot);
  QVERIFY(composer.canInsertFromMimeData(&data));
  composer.insertFromMimeData(&data);
  QCOMPARE(images.count(), 1);
  const QImage pasted = qvariant_cast<QImage>(images.at(0).at(0));
  QCOMPARE(pasted.size(), QSize(32, 16));
  QCOMPARE(QColor(pasted.pixel(5, 5)), QColor(Qt::blue));
  QCOMPARE(files.count(), 0);
  QVERIFY(composer.toPlainText().isEmpty());
}

void ComposerTest::pastedTextIsInserted() {
  ExposedComposer composer;
  QSignalSpy files(&composer, &Composer::filesDropped);
  QSignalSpy images(&composer, &Composer::imagePasted);
  QMimeData data;
  data.setText("pasted words");
  composer.insertFromMimeData(&data);
  QCOMPARE(composer.toPlainText(), QStringLiteral("pasted words"));
  QCOMPARE(files.count(), 0);
  QCOMPARE(images.count(), 0);
}

void ComposerTest::typingStartsWithTextAndStopsWhenClearedOrSent() {
  Composer composer;
  QSignalSpy typing(&composer, &Composer::typingChanged);
  QTest::keyClicks(&composer, "hi");  // one "started", not one per key
  QCOMPARE(typing.count(), 1);
  QCOMPARE(typing.at(0).at(0).toBool(), true);

  QTest::keyClick(&composer, Qt::Key_Backspace);
  QCOMPARE(typing.count(), 1);  // still text in the box
  QTest::keyClick(&composer, Qt::Key_Backspace);
  QCOMPARE(typing.count(), 2);
  QCOMPARE(typing.at(1).at(0).toBool(), false);

  QSignalSpy sent(&composer, &Composer::sendRequested);
  QTest::keyClicks(&composer, "x");
  QTest::keyClick(&composer, Qt::Key_Return);
  QCOMPARE(sent.count(), 1);
  QCOMPARE(typing.count(), 4);
  QCOMPARE(typing.at(2).at(0).toBool(), true);
  QCOMPARE(typing.at(3).at(0).toBool(), false);
}

void ComposerTest::typingStopsAfterFiveIdleSeconds() {
  Composer composer;
  QSignalSpy typing(&composer, &Composer::typingChanged);
  QTest::keyClicks(&composer, "draft");
  QCOMPARE(typing.count(), 1);
  // The one slow test (about 5 s): the receiving side shows "typing…" until this "stopped".
  QTRY_COMPARE_WITH_TIMEOUT(typing.count(), 2, 7000);
  QCOMPARE(typing.at(1).at(0).toBool(), false);
  QCOMPARE(composer.toPlainText(), QStringLiteral("draft"));  // the text stays
}

PARLEY_DESKTOP_TEST(ComposerTest);

}  // namespace parley::desktop::test

#include "composer_test.moc"
