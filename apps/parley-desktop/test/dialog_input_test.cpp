// SPDX-License-Identifier: AGPL-3.0-or-later
// What people type into the dialogs, read into the core's settings (core/dialog_input.h): the
// certificate field, the server address, username and endpoint lists, the proxy field with its
// hidden password, error sentences and relay list entries.

#include "core/dialog_input.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "desktop_tests.h"

namespace parley::desktop::test {

namespace {

const QString kPin = QStringLiteral("3f9a") + QString(60, u'0');  // 64 hex digits

net::ProxyConfig socks_with_password() {
  auto proxy = net::parse_proxy_url("socks5://anna:s3cret@127.0.0.1:9050");
  return proxy.ok() ? *proxy : net::ProxyConfig{};
}

}  // namespace

class DialogInputTest : public QObject {
  Q_OBJECT

 private slots:
  void empty_trust_is_the_system_store() {
    auto trust = parse_trust_input(QStringLiteral("  "));
    QVERIFY(trust.ok());
    QVERIFY(trust->pinned_sha256.empty());
    QVERIFY(trust->ca_file.empty());
  }

  void sixty_four_hex_digits_are_a_pin() {
    auto plain = parse_trust_input(kPin);
    QVERIFY(plain.ok());
    QCOMPARE(QString::fromStdString(plain->pinned_sha256), kPin);
    QVERIFY(plain->ca_file.empty());

    // As `parleyd gen-cert` prints it: pairs separated by ':', upper case, surrounding spaces.
    QStringList pairs;
    for (int i = 0; i < 64; i += 2) pairs << kPin.mid(i, 2).toUpper();
    auto colons = parse_trust_input(u' ' + pairs.join(u':') + u'\n');
    QVERIFY(colons.ok());
    QCOMPARE(QString::fromStdString(colons->pinned_sha256), pairs.join(u':'));

    // The whole value `parleyd gen-cert` prints, prefix included.
    auto prefixed = parse_trust_input(QStringLiteral("SHA256:") + pairs.join(u':'));
    QVERIFY(prefixed.ok());
    QCOMPARE(QString::fromStdString(prefixed->pinned_sha256), pairs.join(u':'));
    QVERIFY(!parse_trust_input(QStringLiteral("sha256:") + kPin.left(62)).ok());
  }

  void a_short_pin_says_how_many_digits_it_has() {
    auto trust = parse_trust_input(kPin.left(63));
    QVERIFY(!trust.ok());
    QCOMPARE(trust.status().code(), ErrorCode::kInvalidArgument);
    QVERIFY(QString::fromStdString(trust.status().message()).contains(QStringLiteral("63")));
  }

  void an_existing_file_is_a_ca_file_made_absolute() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QFile file(dir.filePath(QStringLiteral("ca.pem")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("-----BEGIN CERTIFICATE-----\n");
    file.close();

    auto absolute = parse_trust_input(file.fileName());
    QVERIFY(absolute.ok());
    QCOMPARE(QString::fromStdString(absolute->ca_file), file.fileName());
    QVERIFY(absolute->pinned_sha256.empty());

    // A relative path is saved absolute: the app may start from another directory next time.
    const QString old_dir = QDir::currentPath();
    QVERIFY(QDir::setCurrent(dir.path()));
    auto relative = parse_trust_input(QStringLiteral("ca.pem"));
    QDir::setCurrent(old_dir);
    QVERIFY(relative.ok());
    QCOMPARE(QDir::cleanPath(QString::fromStdString(relative->ca_file)),
             QDir(dir.path()).canonicalPath() + QStringLiteral("/ca.pem"));
  }

  void a_missing_file_is_refused() {
    auto trust = parse_trust_input(QStringLiteral("/no/such/dir/ca.pem"));
    QVERIFY(!trust.ok());
    QCOMPARE(trust.status().code(), ErrorCode::kInvalidArgument);
  }

  void server_addresses() {
    for (const char* good :
         {"chat.example.org:443", "127.0.0.1:8443", "[::1]:443", " host:1 ", "h:65535"}) {
      QVERIFY2(check_server_address(QString::fromLatin1(good)).ok(), good);
    }
    for (const char* bad : {"", "chat.example.org", ":443", "host:", "host:0", "host:65536",
                            "host:44x", "::1:443", "[::1:443", "my host:443", "host:-1"}) {
      QVERIFY2(!check_server_address(QString::fromLatin1(bad)).ok(), bad);
    }
  }

  void usernames_split_on_commas_spaces_and_lines() {
    const std::vector<std::string> expected = {"alice", "bob", "carol", "dave"};
    QCOMPARE(split_usernames(QStringLiteral(" alice, bob\ncarol\t dave,,")), expected);
    QVERIFY(split_usernames(QStringLiteral(" ,\n ")).empty());
  }

  void endpoints_are_trimmed_non_empty_lines() {
    const std::vector<std::string> expected = {"a.example:443", "10.0.0.1:8443"};
    QCOMPARE(split_lines(QStringLiteral("  a.example:443 \n\n\t10.0.0.1:8443\n")), expected);
    QVERIFY(split_lines(QString()).empty());
  }

  void the_proxy_field_never_shows_the_password() {
    QCOMPARE(proxy_field_text(net::ProxyConfig{}), QString());
    const QString shown = proxy_field_text(socks_with_password());
    QCOMPARE(shown, QStringLiteral("socks5://anna:***@127.0.0.1:9050"));
    QVERIFY(!shown.contains(QStringLiteral("s3cret")));
  }

  void an_unchanged_or_re_pointed_proxy_keeps_its_password() {
    const net::ProxyConfig saved = socks_with_password();
    auto same = proxy_from_field(proxy_field_text(saved), saved);
    QVERIFY(same.ok());
    QCOMPARE(QString::fromStdString(same->password), QStringLiteral("s3cret"));
    QCOMPARE(same->port, std::uint16_t{9050});

    auto new_port = proxy_from_field(QStringLiteral("socks5://anna:***@127.0.0.1:9150"), saved);
    QVERIFY(new_port.ok());
    QCOMPARE(new_port->port, std::uint16_t{9150});
    QCOMPARE(QString::fromStdString(new_port->password), QStringLiteral("s3cret"));
  }

  void a_typed_password_or_another_user_does_not_reuse_it() {
    const net::ProxyConfig saved = socks_with_password();
    auto typed = proxy_from_field(QStringLiteral("socks5://anna:n3w@127.0.0.1:9050"), saved);
    QVERIFY(typed.ok());
    QCOMPARE(QString::fromStdString(typed->password), QStringLiteral("n3w"));

    auto other_user = proxy_from_field(QStringLiteral("socks5://bert:***@127.0.0.1:9050"), saved);
    QVERIFY(other_user.ok());
    QCOMPARE(QString::fromStdString(other_user->password), QStringLiteral("***"));
  }

  void an_empty_proxy_field_turns_it_off_and_a_bad_one_is_refused() {
    auto off = proxy_from_field(QString(), socks_with_password());
    QVERIFY(off.ok());
    QVERIFY(!off->enabled());
    auto bad = proxy_from_field(QStringLiteral("ftp://127.0.0.1:21"), net::ProxyConfig{});
    QVERIFY(!bad.ok());
    QCOMPARE(bad.status().code(), ErrorCode::kInvalidArgument);
  }

  void error_sentences() {
    QCOMPARE(error_sentence(Status::error(ErrorCode::kTimeout, "no device joined in time")),
             QStringLiteral("No device joined in time."));
    QCOMPARE(error_sentence(Status::error(ErrorCode::kInvalidArgument, "Already a sentence!")),
             QStringLiteral("Already a sentence!"));
    QCOMPARE(error_sentence(Status::error(ErrorCode::kTimeout)),
             QStringLiteral("The operation timed out."));
  }

  void relay_entries_show_name_and_address() {
    net::RelayLink link;
    link.host = "relay.example.org";
    link.port = 443;
    QCOMPARE(relay_item_text(link), QStringLiteral("relay.example.org:443"));
    link.name = "Anna's relay";
    QCOMPARE(relay_item_text(link), QStringLiteral("Anna's relay (relay.example.org:443)"));
    link.name.clear();
    link.host = "2001:db8::1";
    link.port = 8443;
    QCOMPARE(relay_item_text(link), QStringLiteral("[2001:db8::1]:8443"));
  }
};

PARLEY_DESKTOP_TEST(DialogInputTest);

}  // namespace parley::desktop::test

#include "dialog_input_test.moc"
