// SPDX-License-Identifier: AGPL-3.0-or-later
#include "core/presentation.h"

#include <QDateTime>
#include <QLocale>
#include <QStringList>
#include <array>

namespace parley::desktop {

namespace {

bool starts_with(const std::string& text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

QString connection_status_text(const net::TransportStatus& status) {
  switch (status.state) {
    case net::TransportState::kConnected: {
      // The transport manager labels candidates "direct <host:port>[ through <proxy>]" and
      // "relay <link>[ through <proxy>]". A direct route is the normal case and needs no words.
      if (status.via.empty() || starts_with(status.via, "direct")) {
        return QStringLiteral("Connected");
      }
      return QStringLiteral("Connected via ") + QString::fromStdString(status.via);
    }
    case net::TransportState::kConnecting:
      return QStringLiteral("Connecting…");
    case net::TransportState::kOffline: {
      QString text = QStringLiteral("Offline — messages will be sent when the network returns");
      if (!status.detail.empty()) {
        text += QStringLiteral(" (") + QString::fromStdString(status.detail) + QStringLiteral(")");
      }
      return text;
    }
  }
  return QString();
}

QString connection_status_colour(net::TransportState state) {
  switch (state) {
    case net::TransportState::kConnected:
      return QStringLiteral("green");
    case net::TransportState::kConnecting:
      return QStringLiteral("orange");
    case net::TransportState::kOffline:
      return QStringLiteral("red");
  }
  return QStringLiteral("red");
}

QString status_ticks(client::MessageStatus status) {
  switch (status) {
    case client::MessageStatus::kPending:
      return QStringLiteral("🕓");
    case client::MessageStatus::kSent:
      return QStringLiteral("✓");
    case client::MessageStatus::kDelivered:
    case client::MessageStatus::kRead:
      return QStringLiteral("✓✓");
    case client::MessageStatus::kFailed:
      return QStringLiteral("!");
  }
  return QString();
}

QString status_words(client::MessageStatus status) {
  switch (status) {
    case client::MessageStatus::kPending:
      return QStringLiteral("Waiting to send");
    case client::MessageStatus::kSent:
      return QStringLiteral("Sent");
    case client::MessageStatus::kDelivered:
      return QStringLiteral("Delivered");
    case client::MessageStatus::kRead:
      return QStringLiteral("Read");
    case client::MessageStatus::kFailed:
      return QStringLiteral("Not sent");
  }
  return QString();
}

QString time_label(std::int64_t ms, std::int64_t now_ms) {
  const QDateTime when = QDateTime::fromMSecsSinceEpoch(ms, Qt::LocalTime);
  const QDateTime now = QDateTime::fromMSecsSinceEpoch(now_ms, Qt::LocalTime);
  const qint64 days_ago = when.date().daysTo(now.date());
  // The C locale keeps the wording stable ("Mon", 24-hour clock) whatever the system locale.
  const QLocale c_locale = QLocale::c();
  if (days_ago == 0) return c_locale.toString(when, QStringLiteral("HH:mm"));
  if (days_ago > 0 && days_ago <= 6) return c_locale.toString(when, QStringLiteral("ddd HH:mm"));
  // Older, or in the future (the sender's clock is ahead by more than today): the date.
  return c_locale.toString(when.date(), QStringLiteral("yyyy-MM-dd"));
}

QString size_label(std::uint64_t bytes) {
  if (bytes < 1024) return QString::number(bytes) + QStringLiteral(" B");
  static constexpr std::array<const char*, 3> kUnits = {"KB", "MB", "GB"};
  double value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  // Round first, so 1048575 bytes reads "1.0 MB" rather than "1024.0 KB".
  while (unit + 1 < kUnits.size() && value * 10.0 + 0.5 >= 1024.0 * 10.0) {
    value /= 1024.0;
    ++unit;
  }
  return QString::number(value, 'f', 1) + QLatin1Char(' ') + QLatin1String(kUnits[unit]);
}

QString preview_text(const QString& text, int max_chars) {
  if (max_chars <= 0) return QString();
  QString line = text.simplified();  // every whitespace run (newlines too) becomes one space
  if (line.size() <= max_chars) return line;
  qsizetype cut = max_chars - 1;  // room for the "…"
  // Never split a surrogate pair (an emoji): cut before it instead.
  if (cut > 0 && line.at(cut - 1).isHighSurrogate()) --cut;
  QString shortened = line.left(cut);
  while (!shortened.isEmpty() && shortened.back().isSpace()) shortened.chop(1);
  return shortened + QStringLiteral("…");
}

QString safety_number_lines(const std::string& digits) {
  static constexpr std::size_t kDigits = 60;
  static constexpr std::size_t kGroup = 5;
  static constexpr std::size_t kGroupsPerLine = 4;
  const QString original = QString::fromStdString(digits);
  if (digits.size() != kDigits) return original;
  for (char c : digits) {
    if (c < '0' || c > '9') return original;
  }
  QString out;
  for (std::size_t group = 0; group < kDigits / kGroup; ++group) {
    if (group > 0) out += (group % kGroupsPerLine == 0) ? QLatin1Char('\n') : QLatin1Char(' ');
    out += QString::fromStdString(digits.substr(group * kGroup, kGroup));
  }
  return out;
}

bool looks_like_image(const QString& file_name) {
  const qsizetype dot = file_name.lastIndexOf(QLatin1Char('.'));
  if (dot < 0) return false;
  const QString extension = file_name.mid(dot + 1).toLower();
  static const QStringList kImageExtensions = {
      QStringLiteral("png"), QStringLiteral("jpg"),  QStringLiteral("jpeg"),
      QStringLiteral("gif"), QStringLiteral("webp"), QStringLiteral("bmp"),
  };
  return kImageExtensions.contains(extension);
}

}  // namespace parley::desktop
