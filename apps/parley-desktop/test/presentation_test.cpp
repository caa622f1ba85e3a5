// SPDX-License-Identifier: AGPL-3.0-or-later
// The desktop app's wording and formatting (core/presentation.h): pinned word for word, since
// the e2e tests and people read them.

#include "core/presentation.h"

#include <QDateTime>
#include <QTest>

#include "desktop_tests.h"

namespace parley::desktop::test {

namespace {

net::TransportStatus status_of(net::TransportState state, std::string via, std::string detail) {
  net::TransportStatus status;
  status.state = state;
  status.via = std::move(via);
  status.detail = std::move(detail);
  return status;
}

std::int64_t local_ms(int year, int month, int day, int hour, int minute) {
  return QDateTime(QDate(year, month, day), QTime(hour, minute), Qt::LocalTime).toMSecsSinceEpoch();
}

}  // namespace

class PresentationTest : public QObject {
  Q_OBJECT

 private slots:
  void connected_direct_says_only_connected() {
    using net::TransportState;
    QCOMPARE(connection_status_text(status_of(TransportState::kConnected, "", "")),
             QStringLiteral("Connected"));
    QCOMPARE(connection_status_text(
                 status_of(TransportState::kConnected, "direct chat.example.org:443", "")),
             QStringLiteral("Connected"));
    QCOMPARE(connection_status_text(
                 status_of(TransportState::kConnected,
                           "direct 203.0.113.7:8443 through socks5://127.0.0.1:9050", "")),
             QStringLiteral("Connected"));
    // A stale detail from an earlier failure is not shown once connected.
    QCOMPARE(connection_status_text(status_of(TransportState::kConnected, "", "timed out")),
             QStringLiteral("Connected"));
  }

  void connected_via_relay_names_it() {
    using net::TransportState;
    QCOMPARE(connection_status_text(
                 status_of(TransportState::kConnected, "relay relay.example.net:443", "")),
             QStringLiteral("Connected via relay relay.example.net:443"));
    QCOMPARE(connection_status_text(status_of(TransportState::kConnected, "mirror x", "")),
             QStringLiteral("Connected via mirror x"));
  }

  void connecting_and_offline() {
    using net::TransportState;
    QCOMPARE(connection_status_text(status_of(TransportState::kConnecting, "", "")),
             QStringLiteral("Connecting…"));
    QCOMPARE(connection_status_text(status_of(TransportState::kOffline, "", "")),
             QStringLiteral("Offline — messages will be sent when the network returns"));
    QCOMPARE(connection_status_text(status_of(TransportState::kOffline, "", "connection refused")),
             QStringLiteral("Offline — messages will be sent when the network returns "
                            "(connection refused)"));
  }

  void status_colours() {
    QCOMPARE(connection_status_colour(net::TransportState::kConnected), QStringLiteral("green"));
    QCOMPARE(connection_status_colour(net::TransportState::kConnecting), QStringLiteral("orange"));
    QCOMPARE(connection_status_colour(net::TransportState::kOffline), QStringLiteral("red"));
  }

  void ticks_and_words() {
    using client::MessageStatus;
    QCOMPARE(status_ticks(MessageStatus::kPending), QStringLiteral("🕓"));
    QCOMPARE(status_ticks(MessageStatus::kSent), QStringLiteral("✓"));
    QCOMPARE(status_ticks(MessageStatus::kDelivered), QStringLiteral("✓✓"));
    QCOMPARE(status_ticks(MessageStatus::kRead), QStringLiteral("✓✓"));
    QCOMPARE(status_ticks(MessageStatus::kFailed), QStringLiteral("!"));
    QCOMPARE(status_words(MessageStatus::kPending), QStringLiteral("Waiting to send"));
    QCOMPARE(status_words(MessageStatus::kSent), QStringLiteral("Sent"));
    QCOMPARE(status_words(MessageStatus::kDelivered), QStringLiteral("Delivered"));
    QCOMPARE(status_words(MessageStatus::kRead), QStringLiteral("Read"));
    QCOMPARE(status_words(MessageStatus::kFailed), QStringLiteral("Not sent"));
  }

  void time_label_today_week_and_older() {
    const std::int64_t now = local_ms(2026, 11, 20, 14, 30);  // a Friday
    QCOMPARE(time_label(local_ms(2026, 11, 20, 14, 5), now), QStringLiteral("14:05"));
    QCOMPARE(time_label(local_ms(2026, 11, 20, 0, 0), now), QStringLiteral("00:00"));
    QCOMPARE(time_label(local_ms(2026, 11, 19, 23, 59), now), QStringLiteral("Thu 23:59"));
    QCOMPARE(time_label(local_ms(2026, 11, 16, 9, 1), now), QStringLiteral("Mon 09:01"));
    QCOMPARE(time_label(local_ms(2026, 11, 14, 8, 0), now), QStringLiteral("Sat 08:00"));
    // Seven days back is the same weekday as today: a date, not an ambiguous "Fri".
    QCOMPARE(time_label(local_ms(2026, 11, 13, 20, 0), now), QStringLiteral("2026-11-13"));
    QCOMPARE(time_label(local_ms(2025, 1, 2, 3, 4), now), QStringLiteral("2025-01-02"));
    // Later today (the sender's clock runs a little ahead) is still a time; tomorrow a date.
    QCOMPARE(time_label(local_ms(2026, 11, 20, 18, 0), now), QStringLiteral("18:00"));
    QCOMPARE(time_label(local_ms(2026, 11, 21, 0, 10), now), QStringLiteral("2026-11-21"));
  }

  void size_labels() {
    QCOMPARE(size_label(0), QStringLiteral("0 B"));
    QCOMPARE(size_label(512), QStringLiteral("512 B"));
    QCOMPARE(size_label(1023), QStringLiteral("1023 B"));
    QCOMPARE(size_label(1024), QStringLiteral("1.0 KB"));
    QCOMPARE(size_label(1536), QStringLiteral("1.5 KB"));
    QCOMPARE(size_label(2ULL * 1024 * 1024), QStringLiteral("2.0 MB"));
    // Just under a megabyte rounds up into the next unit, not to "1024.0 KB".
    QCOMPARE(size_label(1024ULL * 1024 - 1), QStringLiteral("1.0 MB"));
    QCOMPARE(size_label(1288490189ULL), QStringLiteral("1.2 GB"));
    // GB is the largest unit.
    QCOMPARE(size_label(2048ULL * 1024 * 1024 * 1024), QStringLiteral("2048.0 GB"));
  }

  void preview_collapses_whitespace_and_cuts() {
    QCOMPARE(preview_text(QStringLiteral("  hello \n\n  world\t ")), QStringLiteral("hello world"));
    QCOMPARE(preview_text(QString()), QString());
    QCOMPARE(preview_text(QStringLiteral("abcdef"), 6), QStringLiteral("abcdef"));
    QCOMPARE(preview_text(QStringLiteral("abcdefg"), 6), QStringLiteral("abcde…"));
    // A cut right after a space does not leave "word …".
    QCOMPARE(preview_text(QStringLiteral("abcd efgh"), 6), QStringLiteral("abcd…"));
    QCOMPARE(preview_text(QStringLiteral("abc"), 0), QString());
    // The default: 60 characters in all.
    const QString long_text(100, QLatin1Char('x'));
    const QString cut = preview_text(long_text);
    QCOMPARE(cut.size(), 60);
    QVERIFY(cut.endsWith(QStringLiteral("…")));
  }

  void preview_never_splits_an_emoji() {
    // "ab😀cd": the emoji is two UTF-16 units at positions 2-3; a cut at 4 units would end on
    // its high surrogate.
    const QString text = QStringLiteral("ab😀cdef");
    const QString cut = preview_text(text, 4);
    QCOMPARE(cut, QStringLiteral("ab…"));
    QCOMPARE(preview_text(text, 5), QStringLiteral("ab😀…"));
  }

  void safety_number_in_twelve_groups_of_five() {
    std::string digits;
    for (int i = 0; i < 60; ++i) digits.push_back(static_cast<char>('0' + i % 10));
    QCOMPARE(safety_number_lines(digits), QStringLiteral("01234 56789 01234 56789\n"
                                                         "01234 56789 01234 56789\n"
                                                         "01234 56789 01234 56789"));
  }

  void safety_number_other_input_unchanged() {
    QCOMPARE(safety_number_lines(""), QString());
    QCOMPARE(safety_number_lines("12345"), QStringLiteral("12345"));
    const std::string fifty_nine(59, '7');
    QCOMPARE(safety_number_lines(fifty_nine), QString::fromStdString(fifty_nine));
    const std::string sixty_one(61, '7');
    QCOMPARE(safety_number_lines(sixty_one), QString::fromStdString(sixty_one));
    std::string with_letter(60, '1');
    with_letter[30] = 'a';
    QCOMPARE(safety_number_lines(with_letter), QString::fromStdString(with_letter));
  }

  void image_names() {
    QVERIFY(looks_like_image(QStringLiteral("cat.png")));
    QVERIFY(looks_like_image(QStringLiteral("Holiday.JPG")));
    QVERIFY(looks_like_image(QStringLiteral("a.b.jpeg")));
    QVERIFY(looks_like_image(QStringLiteral("x.gif")));
    QVERIFY(looks_like_image(QStringLiteral("x.WebP")));
    QVERIFY(looks_like_image(QStringLiteral("x.bmp")));
    QVERIFY(!looks_like_image(QStringLiteral("report.pdf")));
    QVERIFY(!looks_like_image(QStringLiteral("png")));
    QVERIFY(!looks_like_image(QStringLiteral("photo.png.exe")));
    QVERIFY(!looks_like_image(QStringLiteral("archive.tiff")));
    QVERIFY(!looks_like_image(QString()));
    QVERIFY(!looks_like_image(QStringLiteral("trailing.")));
  }
};

PARLEY_DESKTOP_TEST(PresentationTest);

}  // namespace parley::desktop::test

#include "presentation_test.moc"
