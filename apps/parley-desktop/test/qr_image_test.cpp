// SPDX-License-Identifier: AGPL-3.0-or-later
// QR codes for the screen (core/qr_image.h): geometry, quiet zone, finder patterns, limits.

#include "core/qr_image.h"

#include <QTest>

#include "desktop_tests.h"

namespace parley::desktop::test {

namespace {

constexpr int kQuiet = 4;  // modules of white around the code

// Whether module (x, y) of the code (quiet zone excluded) is dark, checking that every pixel of
// the module agrees.
bool module_dark(const QImage& image, int px, int x, int y) {
  const int left = (x + kQuiet) * px;
  const int top = (y + kQuiet) * px;
  const int first = qGray(image.pixel(left, top));
  for (int dy = 0; dy < px; ++dy) {
    for (int dx = 0; dx < px; ++dx) {
      if (qGray(image.pixel(left + dx, top + dy)) != first) {
        qWarning("module (%d, %d) is not uniform", x, y);
        return false;
      }
    }
  }
  return first == 0;
}

// A finder pattern with its top-left module at (x, y): a dark 7x7 ring, a light ring, a dark 3x3
// centre, and a light separator outside towards the code.
void check_finder(const QImage& image, int px, int x, int y) {
  for (int i = 0; i < 7; ++i) {
    QVERIFY(module_dark(image, px, x + i, y));
    QVERIFY(module_dark(image, px, x + i, y + 6));
    QVERIFY(module_dark(image, px, x, y + i));
    QVERIFY(module_dark(image, px, x + 6, y + i));
  }
  for (int i = 1; i < 6; ++i) {
    QVERIFY(!module_dark(image, px, x + i, y + 1));
    QVERIFY(!module_dark(image, px, x + i, y + 5));
    QVERIFY(!module_dark(image, px, x + 1, y + i));
    QVERIFY(!module_dark(image, px, x + 5, y + i));
  }
  for (int dy = 2; dy < 5; ++dy) {
    for (int dx = 2; dx < 5; ++dx) QVERIFY(module_dark(image, px, x + dx, y + dy));
  }
}

}  // namespace

class QrImageTest : public QObject {
  Q_OBJECT

 private slots:
  void geometry_and_finder_patterns() {
    const QByteArray data("parley://link/ABCD-1234-secret");
    const int modules = qr_modules(data);
    QVERIFY(modules >= 21);
    QCOMPARE((modules - 17) % 4, 0);  // version v has 17 + 4v modules

    const int px = 5;
    const QImage image = qr_image(data, px);
    QVERIFY(!image.isNull());
    QCOMPARE(image.width(), (modules + 2 * kQuiet) * px);
    QCOMPARE(image.height(), (modules + 2 * kQuiet) * px);

    check_finder(image, px, 0, 0);
    check_finder(image, px, modules - 7, 0);
    check_finder(image, px, 0, modules - 7);
    if (QTest::currentTestFailed()) return;
    // The separators around the top-left finder are light.
    for (int i = 0; i < 8; ++i) {
      QVERIFY(!module_dark(image, px, 7, i));
      QVERIFY(!module_dark(image, px, i, 7));
    }
    // Between the top finders, row 6 is the timing pattern: dark on even columns.
    for (int x = 8; x < modules - 8; ++x) QCOMPARE(module_dark(image, px, x, 6), x % 2 == 0);
  }

  void quiet_zone_is_white_and_only_black_and_white() {
    const int px = 3;
    const QImage image = qr_image(QByteArray("hello"), px);
    QVERIFY(!image.isNull());
    QCOMPARE(qr_modules(QByteArray("hello")), 21);  // version 1
    const int side = image.width();
    QCOMPARE(side, (21 + 8) * px);
    const int margin = kQuiet * px;
    for (int y = 0; y < side; ++y) {
      for (int x = 0; x < side; ++x) {
        const int gray = qGray(image.pixel(x, y));
        QVERIFY(gray == 0 || gray == 255);
        const bool in_quiet = x < margin || y < margin || x >= side - margin || y >= side - margin;
        if (in_quiet && gray != 255)
          QFAIL(qPrintable(QStringLiteral("dark at %1,%2").arg(x).arg(y)));
      }
    }
    // The first module inside the quiet zone is the top-left finder's corner.
    QCOMPARE(qGray(image.pixel(margin, margin)), 0);
    QCOMPARE(qGray(image.pixel(margin - 1, margin)), 255);
  }

  void default_module_size_is_six_pixels() {
    const QImage image = qr_image(QByteArray("hello"));
    QCOMPARE(image.width(), (21 + 8) * 6);
  }

  void binary_data_with_nul_bytes() {
    QByteArray data(64, '\0');
    for (int i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
    QVERIFY(qr_modules(data) > 0);
    QVERIFY(!qr_image(data, 2).isNull());
  }

  void capacity_limit_at_level_m() {
    // Version 40 at level M holds 2331 bytes in 8-bit mode.
    const QByteArray largest(2331, 'x');
    QCOMPARE(qr_modules(largest), 177);
    QCOMPARE(qr_image(largest, 1).width(), 177 + 8);
    const QByteArray too_large(2332, 'x');
    QCOMPARE(qr_modules(too_large), 0);
    QVERIFY(qr_image(too_large).isNull());
    QVERIFY(qr_image(QByteArray(3000, 'y')).isNull());
  }

  void empty_data_and_bad_module_size() {
    QVERIFY(qr_image(QByteArray()).isNull());
    QCOMPARE(qr_modules(QByteArray()), 0);
    QVERIFY(qr_image(QByteArray("x"), 0).isNull());
    QVERIFY(qr_image(QByteArray("x"), -3).isNull());
    QVERIFY(qr_image(QByteArray("x"), 101).isNull());
    QVERIFY(!qr_image(QByteArray("x"), 100).isNull());
  }
};

PARLEY_DESKTOP_TEST(QrImageTest);

}  // namespace parley::desktop::test

#include "qr_image_test.moc"
