// SPDX-License-Identifier: AGPL-3.0-or-later
// When the desktop app notifies and what it says (core/notification_policy.h).

#include "core/notification_policy.h"

#include <QTest>

#include "desktop_tests.h"

namespace parley::desktop::test {

namespace {

using Kind = client::Event::Kind;

client::Event incoming_text(std::string from, std::string body) {
  client::Event event;
  event.kind = Kind::kMessage;
  event.peer_username = std::move(from);
  event.peer_account_hex = std::string(64, 'c');
  event.body = std::move(body);
  return event;
}

client::Event in_group(client::Event event) {
  event.group_id_hex = "00112233445566778899aabbccddeeff";
  event.group_name = "Friends";
  return event;
}

}  // namespace

class NotificationPolicyTest : public QObject {
  Q_OBJECT

 private slots:
  void direct_text_notifies_with_sender_and_text() {
    const Notification n = notification_for(incoming_text("alice", "lunch\n at  one?"), {});
    QVERIFY(n.show);
    QCOMPARE(n.conversation, QStringLiteral("alice"));
    QCOMPARE(n.title, QStringLiteral("alice"));
    QCOMPARE(n.body, QStringLiteral("lunch at one?"));
  }

  void group_text_names_the_group() {
    const Notification n = notification_for(in_group(incoming_text("alice", "hi all")), {});
    QVERIFY(n.show);
    QCOMPARE(n.conversation, QStringLiteral("00112233445566778899aabbccddeeff"));
    QCOMPARE(n.title, QStringLiteral("alice in Friends"));
    QCOMPARE(n.body, QStringLiteral("hi all"));
  }

  void unknown_sender_is_a_short_account_id() {
    client::Event event = incoming_text("", "who am I");
    event.peer_account_hex = "0123456789abcdef0123456789abcdef";
    const Notification n = notification_for(event, {});
    QVERIFY(n.show);
    QCOMPARE(n.title, QStringLiteral("0123456789ab"));
    QCOMPARE(n.conversation, QStringLiteral("0123456789abcdef0123456789abcdef"));
  }

  void file_message_shows_clip_and_caption() {
    client::Event event = incoming_text("bob", "");
    event.file_name = "holiday.jpg";
    event.file_size = 123456;
    QCOMPARE(notification_for(event, {}).body, QStringLiteral("📎 holiday.jpg"));
    event.body = "from the beach";
    QCOMPARE(notification_for(event, {}).body, QStringLiteral("📎 holiday.jpg — from the beach"));
  }

  void long_text_is_cut() {
    const Notification n = notification_for(incoming_text("alice", std::string(500, 'w')), {});
    QCOMPARE(n.body.size(), 120);
    QVERIFY(n.body.endsWith(QStringLiteral("…")));
  }

  void empty_text_says_new_message() {
    QCOMPARE(notification_for(incoming_text("alice", "  \n "), {}).body,
             QStringLiteral("New message"));
  }

  void previews_off_hides_sender_and_text() {
    NotificationContext context;
    context.show_previews = false;
    client::Event event = in_group(incoming_text("alice", "secret plans"));
    event.file_name = "plans.pdf";
    const Notification n = notification_for(event, context);
    QVERIFY(n.show);
    QCOMPARE(n.title, QStringLiteral("Parley"));
    QCOMPARE(n.body, QStringLiteral("New message"));
    QCOMPARE(n.conversation, QStringLiteral("00112233445566778899aabbccddeeff"));  // still opens
  }

  void not_while_looking_at_it() {
    NotificationContext context;
    context.window_active = true;
    context.open_conversation = QStringLiteral("alice");
    QVERIFY(!notification_for(incoming_text("alice", "hi"), context).show);
    // Another conversation on screen, or the window in the background: notify.
    QVERIFY(notification_for(incoming_text("bob", "hi"), context).show);
    context.window_active = false;
    QVERIFY(notification_for(incoming_text("alice", "hi"), context).show);
    // A group is matched by its id, not by the sender.
    context.window_active = true;
    context.open_conversation = QStringLiteral("00112233445566778899aabbccddeeff");
    QVERIFY(!notification_for(in_group(incoming_text("alice", "hi")), context).show);
    QVERIFY(notification_for(incoming_text("alice", "direct"), context).show);
  }

  void other_events_never_notify() {
    client::Event own = incoming_text("alice", "sent from my phone");
    own.outgoing = true;
    QVERIFY(!notification_for(own, {}).show);
    for (Kind kind : {Kind::kSent, Kind::kDelivered, Kind::kRead, Kind::kTyping,
                      Kind::kTimerChanged, Kind::kIdentityChanged, Kind::kDeviceLinked,
                      Kind::kWarning, Kind::kGroupChanged, Kind::kFileReceived, Kind::kTransport}) {
      client::Event event = incoming_text("alice", "x");
      event.kind = kind;
      QVERIFY2(!notification_for(event, {}).show, client::event_kind_name(kind));
    }
  }

  void conversation_key_prefers_group_then_username() {
    client::Event event;
    event.peer_account_hex = "abcd";
    QCOMPARE(conversation_key(event), QStringLiteral("abcd"));
    event.peer_username = "alice";
    QCOMPARE(conversation_key(event), QStringLiteral("alice"));
    event.group_id_hex = "ff00";
    QCOMPARE(conversation_key(event), QStringLiteral("ff00"));
    QCOMPARE(conversation_key(client::Event{}), QString());
  }
};

PARLEY_DESKTOP_TEST(NotificationPolicyTest);

}  // namespace parley::desktop::test

#include "notification_policy_test.moc"
