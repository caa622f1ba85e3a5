// SPDX-License-Identifier: AGPL-3.0-or-later
#include "core/dialog_input.h"

#include <QRegularExpression>
#include <QStringList>
#include <filesystem>
#include <system_error>

namespace parley::desktop {

namespace {

constexpr char kPasswordMask[] = "***";  // what net::proxy_display() shows instead

Status invalid(const std::string& why) {
  return Status::error(ErrorCode::kInvalidArgument, why);
}

bool is_hex_digit(QChar c) {
  return (c >= u'0' && c <= u'9') || (c >= u'a' && c <= u'f') || (c >= u'A' && c <= u'F');
}

}  // namespace

Result<net::TlsTrust> parse_trust_input(const QString& text) {
  QString trimmed = text.trimmed();
  net::TlsTrust trust;
  if (trimmed.isEmpty()) return trust;
  // `parleyd gen-cert` prints "SHA256:3F:9A:…": people paste the whole line's value.
  const QString prefix = QStringLiteral("sha256:");
  const bool prefixed = trimmed.startsWith(prefix, Qt::CaseInsensitive);
  if (prefixed) trimmed = trimmed.mid(prefix.size()).trimmed();

  int hex_digits = 0;
  bool pin_like = true;  // only hex digits and ':' separators
  for (QChar c : trimmed) {
    if (is_hex_digit(c)) {
      ++hex_digits;
    } else if (c != u':') {
      pin_like = false;
    }
  }
  const auto wrong_length = [&] {
    return invalid(
        "a certificate fingerprint is 64 hex digits (':' between pairs allowed), this "
        "has " +
        std::to_string(hex_digits));
  };
  if (pin_like && hex_digits == 64) {
    trust.pinned_sha256 = trimmed.toStdString();
    return trust;
  }
  if (prefixed) return wrong_length();
  // A file is checked before the pin-length complaint: "cafe" may be a file name.
  const std::filesystem::path path(trimmed.toStdString());
  std::error_code error;
  if (std::filesystem::is_regular_file(path, error)) {
    auto absolute = std::filesystem::absolute(path, error);
    trust.ca_file = error ? path.string() : absolute.string();
    return trust;
  }
  if (pin_like) return wrong_length();
  return invalid("the certificate field is neither a SHA-256 fingerprint nor an existing file");
}

Status check_server_address(const QString& text) {
  const QString server = text.trimmed();
  const std::string why = "the server address must look like host:port, e.g. chat.example.org:443";
  const int colon = server.lastIndexOf(u':');
  if (colon <= 0 || colon == server.size() - 1) return invalid(why);
  const QString host = server.left(colon);
  const QString port = server.mid(colon + 1);
  for (QChar c : host) {
    if (c.isSpace()) return invalid(why);
  }
  if (host.startsWith(u'[')) {
    if (host.size() < 3 || !host.endsWith(u']'))
      return invalid("an IPv6 address goes in [brackets]");
  } else if (host.contains(u':')) {
    return invalid("put an IPv6 address in [brackets], e.g. [2001:db8::1]:443");
  }
  bool number = false;
  const int value = port.toInt(&number);
  for (QChar c : port) {
    if (!c.isDigit()) number = false;
  }
  if (!number || value < 1 || value > 65535) return invalid("the port must be 1 to 65535");
  return Status();
}

std::vector<std::string> split_usernames(const QString& text) {
  static const QRegularExpression kSeparators(QStringLiteral("[,\\s]+"));
  std::vector<std::string> names;
  for (const QString& part : text.split(kSeparators, Qt::SkipEmptyParts)) {
    names.push_back(part.toStdString());
  }
  return names;
}

std::vector<std::string> split_lines(const QString& text) {
  std::vector<std::string> lines;
  for (const QString& line : text.split(u'\n')) {
    const QString trimmed = line.trimmed();
    if (!trimmed.isEmpty()) lines.push_back(trimmed.toStdString());
  }
  return lines;
}

QString proxy_field_text(const net::ProxyConfig& proxy) {
  if (!proxy.enabled()) return {};
  return QString::fromStdString(net::proxy_display(proxy));
}

Result<net::ProxyConfig> proxy_from_field(const QString& text, const net::ProxyConfig& saved) {
  PARLEY_ASSIGN_OR_RETURN(net::ProxyConfig proxy, net::parse_proxy_url(text.toStdString()));
  // The mask stands for the saved password only for the same user: typing another user name
  // with the mask must not send the old user's password along.
  if (proxy.enabled() && proxy.password == kPasswordMask && saved.enabled() &&
      !saved.username.empty() && proxy.username == saved.username) {
    proxy.password = saved.password;
  }
  return proxy;
}

QString error_sentence(const Status& status) {
  std::string text = status.message();
  if (text.empty()) text = std::string(error_code_description(status.code()));
  QString sentence = QString::fromStdString(text).trimmed();
  if (sentence.isEmpty()) return sentence;
  sentence[0] = sentence[0].toUpper();
  if (!sentence.endsWith(u'.') && !sentence.endsWith(u'!') && !sentence.endsWith(u'?')) {
    sentence += u'.';
  }
  return sentence;
}

QString relay_item_text(const net::RelayLink& link) {
  const bool ipv6 = link.host.find(':') != std::string::npos;
  const QString host = QString::fromStdString(ipv6 ? "[" + link.host + "]" : link.host);
  const QString address = host + u':' + QString::number(link.port);
  if (link.name.empty()) return address;
  return QString::fromStdString(link.name) + QStringLiteral(" (") + address + u')';
}

}  // namespace parley::desktop
