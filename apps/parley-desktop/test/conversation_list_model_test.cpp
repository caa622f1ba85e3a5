// SPDX-License-Identifier: AGPL-3.0-or-later
// The conversation list model (core/conversation_list_model.h): mapping from the core, order,
// and refreshes that move rows instead of resetting, so a selection survives them.

#include "core/conversation_list_model.h"

#include <QAbstractItemModelTester>
#include <QPersistentModelIndex>
#include <QSignalSpy>
#include <QTest>

#include "desktop_tests.h"

namespace parley::desktop::test {

namespace {

ConversationItem conversation(const char* key, std::int64_t activity, const char* title = nullptr) {
  ConversationItem item;
  item.key = QString::fromUtf8(key);
  item.title = title != nullptr ? QString::fromUtf8(title) : item.key;
  item.last_activity_ms = activity;
  return item;
}

QStringList keys_of(const ConversationListModel& model) {
  QStringList keys;
  for (int row = 0; row < model.rowCount(); ++row) keys << model.item(row)->key;
  return keys;
}

client::MessageRecord message(std::string body, client::MessageKind kind) {
  client::MessageRecord record;
  record.body = std::move(body);
  record.kind = kind;
  return record;
}

}  // namespace

class ConversationListModelTest : public QObject {
  Q_OBJECT

 private slots:
  void from_core_maps_chats() {
    std::vector<client::ChatSummary> chats(4);
    chats[0].contact.username = "alice";
    chats[0].contact.account_id_hex = std::string(64, 'a');
    chats[0].contact.verified = true;
    chats[0].last_activity_ms = 5000;
    chats[0].unread = 3;
    chats[0].last_message = message("see you\n\n  at   noon", client::MessageKind::kText);
    chats[1].contact.account_id_hex = "0123456789abcdef0123456789abcdef";  // no username yet
    chats[1].contact.identity_changed = true;
    chats[2].contact.username = "carol";
    chats[2].last_message =
        message("carol changed the timer to 1 day", client::MessageKind::kSystem);
    chats[3].contact.username = "dave";
    chats[3].last_message = message(std::string(80, 'z'), client::MessageKind::kText);

    const std::vector<ConversationItem> items = ConversationListModel::from_core(chats, {});
    QCOMPARE(items.size(), std::size_t{4});
    QCOMPARE(items[0].key, QStringLiteral("alice"));
    QCOMPARE(items[0].title, QStringLiteral("alice"));
    QVERIFY(!items[0].is_group);
    QCOMPARE(items[0].preview, QStringLiteral("see you at noon"));
    QCOMPARE(items[0].last_activity_ms, std::int64_t{5000});
    QCOMPARE(items[0].unread, 3u);
    QVERIFY(items[0].verified);
    QVERIFY(!items[0].identity_changed);

    QCOMPARE(items[1].key, QStringLiteral("0123456789abcdef0123456789abcdef"));
    QCOMPARE(items[1].title, QStringLiteral("0123456789ab"));
    QCOMPARE(items[1].preview, QString());  // no message yet
    QVERIFY(items[1].identity_changed);
    QVERIFY(!items[1].verified);

    QCOMPARE(items[2].preview, QStringLiteral("carol changed the timer to 1 day"));
    QCOMPARE(items[3].preview.size(), 60);
    QVERIFY(items[3].preview.endsWith(QStringLiteral("…")));
  }

  void from_core_maps_groups() {
    std::vector<client::GroupView> groups(3);
    groups[0].group_id_hex = "00112233445566778899aabbccddeeff";
    groups[0].name = "Friends";
    groups[0].members.resize(3);
    groups[0].is_member = true;
    groups[0].unread = 2;
    groups[0].last_activity_ms = 777;
    groups[1].group_id_hex = "ffeeddccbbaa99887766554433221100";
    groups[1].name = "Solo";
    groups[1].members.resize(1);
    groups[1].is_member = false;
    groups[2].group_id_hex = "aa";
    groups[2].name = "Empty";

    const std::vector<ConversationItem> items = ConversationListModel::from_core({}, groups);
    QCOMPARE(items.size(), std::size_t{3});
    QCOMPARE(items[0].key, QStringLiteral("00112233445566778899aabbccddeeff"));
    QCOMPARE(items[0].title, QStringLiteral("Friends"));
    QVERIFY(items[0].is_group);
    QCOMPARE(items[0].preview, QStringLiteral("3 members"));
    QCOMPARE(items[0].unread, 2u);
    QCOMPARE(items[0].last_activity_ms, std::int64_t{777});
    QVERIFY(items[0].is_member);
    QCOMPARE(items[1].preview, QStringLiteral("1 member"));
    QVERIFY(!items[1].is_member);
    QCOMPARE(items[2].preview, QStringLiteral("0 members"));
  }

  void sorted_newest_first_then_title_then_key() {
    ConversationListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.set_conversations({conversation("k-bob", 100, "bob"), conversation("k-new", 900),
                             conversation("k-alice", 100, "Alice"), conversation("k2", 100, "Same"),
                             conversation("k1", 100, "same")});
    QCOMPARE(keys_of(model), (QStringList{"k-new", "k-alice", "k-bob", "k1", "k2"}));
  }

  void duplicate_keys_make_one_row() {
    ConversationListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.set_conversations({conversation("a", 1), conversation("a", 5), conversation("b", 3)});
    QCOMPARE(keys_of(model), (QStringList{"a", "b"}));
    QCOMPARE(model.item(0)->last_activity_ms, std::int64_t{5});  // the newest one
  }

  void refresh_moves_rows_and_keeps_selection() {
    ConversationListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.set_conversations(
        {conversation("a", 300), conversation("b", 200), conversation("c", 100)});
    const QPersistentModelIndex selected(model.index(1));  // "b"

    QSignalSpy moved(&model, &QAbstractItemModel::rowsMoved);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

    model.set_conversations(
        {conversation("a", 300), conversation("b", 200), conversation("c", 400)});
    QCOMPARE(keys_of(model), (QStringList{"c", "a", "b"}));
    QCOMPARE(moved.count(), 1);
    QCOMPARE(moved.at(0).at(1).toInt(), 2);  // source start
    QCOMPARE(moved.at(0).at(2).toInt(), 2);  // source end
    QCOMPARE(moved.at(0).at(4).toInt(), 0);  // destination
    QCOMPARE(inserted.count(), 0);
    QCOMPARE(removed.count(), 0);
    QCOMPARE(reset.count(), 0);
    QCOMPARE(changed.count(), 1);  // only "c": its activity changed
    QCOMPARE(changed.at(0).at(0).value<QModelIndex>().row(), 0);

    QVERIFY(selected.isValid());
    QCOMPARE(selected.row(), 2);
    QCOMPARE(selected.data(ConversationListModel::kKeyRole).toString(), QStringLiteral("b"));
  }

  void refresh_reversed_order_keeps_every_row() {
    ConversationListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.set_conversations(
        {conversation("a", 4), conversation("b", 3), conversation("c", 2), conversation("d", 1)});
    std::vector<QPersistentModelIndex> rows;
    for (int row = 0; row < 4; ++row) rows.emplace_back(model.index(row));
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);

    model.set_conversations(
        {conversation("a", 1), conversation("b", 2), conversation("c", 3), conversation("d", 4)});
    QCOMPARE(keys_of(model), (QStringList{"d", "c", "b", "a"}));
    QCOMPARE(reset.count(), 0);
    for (int row = 0; row < 4; ++row) {
      QVERIFY(rows[static_cast<std::size_t>(row)].isValid());
      QCOMPARE(rows[static_cast<std::size_t>(row)].row(), 3 - row);
    }
  }

  void refresh_inserts_and_removes() {
    ConversationListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.set_conversations(
        {conversation("a", 300), conversation("b", 200), conversation("c", 100)});
    const QPersistentModelIndex gone(model.index(0));  // "a"
    const QPersistentModelIndex kept(model.index(1));  // "b"
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy moved(&model, &QAbstractItemModel::rowsMoved);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);

    model.set_conversations({conversation("d", 500), conversation("b", 200)});
    QCOMPARE(keys_of(model), (QStringList{"d", "b"}));
    QCOMPARE(removed.count(), 2);
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(inserted.at(0).at(1).toInt(), 0);
    QCOMPARE(moved.count(), 0);
    QCOMPARE(reset.count(), 0);
    QVERIFY(!gone.isValid());
    QVERIFY(kept.isValid());
    QCOMPARE(kept.row(), 1);
    QCOMPARE(kept.data(Qt::DisplayRole).toString(), QStringLiteral("b"));

    model.set_conversations({});
    QCOMPARE(model.rowCount(), 0);
    QVERIFY(!kept.isValid());
  }

  void unchanged_refresh_emits_nothing() {
    ConversationListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.set_conversations({conversation("a", 3), conversation("b", 2)});
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy moved(&model, &QAbstractItemModel::rowsMoved);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    model.set_conversations({conversation("b", 2), conversation("a", 3)});
    QCOMPARE(changed.count() + moved.count() + inserted.count() + removed.count(), 0);

    ConversationItem renamed = conversation("b", 2);
    renamed.preview = QStringLiteral("new text");
    model.set_conversations({conversation("a", 3), renamed});
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).value<QModelIndex>().row(), 1);
    QCOMPARE(model.index(1).data(ConversationListModel::kPreviewRole).toString(),
             QStringLiteral("new text"));
    QCOMPARE(moved.count(), 0);
  }

  void note_message_moves_to_top_and_counts() {
    ConversationListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.set_conversations(
        {conversation("a", 300), conversation("b", 200), conversation("c", 100)});
    const QPersistentModelIndex selected(model.index(0));  // "a"
    QSignalSpy moved(&model, &QAbstractItemModel::rowsMoved);

    model.note_message(QStringLiteral("c"), QString(), false, QStringLiteral("hi\nthere"), 1000,
                       true);
    QCOMPARE(keys_of(model), (QStringList{"c", "a", "b"}));
    QCOMPARE(moved.count(), 1);
    QCOMPARE(moved.at(0).at(1).toInt(), 2);
    QCOMPARE(moved.at(0).at(4).toInt(), 0);
    QCOMPARE(model.item(0)->preview, QStringLiteral("hi there"));
    QCOMPARE(model.item(0)->unread, 1u);
    QCOMPARE(model.item(0)->last_activity_ms, std::int64_t{1000});
    QCOMPARE(model.item(0)->title, QStringLiteral("c"));  // an empty title keeps the old one
    QCOMPARE(selected.row(), 1);

    // Our own message (not unread) from the middle row.
    model.note_message(QStringLiteral("a"), QString(), false, QStringLiteral("me"), 2000, false);
    QCOMPARE(keys_of(model), (QStringList{"a", "c", "b"}));
    QCOMPARE(model.item(0)->unread, 0u);
    QCOMPARE(model.total_unread(), 1u);

    // A message with an old sender clock updates the preview but does not sink the row.
    model.note_message(QStringLiteral("a"), QString(), false, QStringLiteral("late"), 5, true);
    QCOMPARE(keys_of(model), (QStringList{"a", "c", "b"}));
    QCOMPARE(model.item(0)->last_activity_ms, std::int64_t{2000});
    QCOMPARE(model.item(0)->preview, QStringLiteral("late"));
    QCOMPARE(model.total_unread(), 2u);
  }

  void note_message_creates_new_conversation() {
    ConversationListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.set_conversations({conversation("a", 300)});
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    model.note_message(QStringLiteral("g1"), QStringLiteral("Friends"), true,
                       QStringLiteral("hello"), 400, true);
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(inserted.at(0).at(1).toInt(), 0);
    QCOMPARE(keys_of(model), (QStringList{"g1", "a"}));
    const ConversationItem* group = model.item(0);
    QCOMPARE(group->title, QStringLiteral("Friends"));
    QVERIFY(group->is_group);
    QCOMPARE(group->unread, 1u);
    QCOMPARE(group->preview, QStringLiteral("hello"));

    // Older than everything: inserted at the bottom; no title: the key.
    model.note_message(QStringLiteral("zed"), QString(), false, QStringLiteral("x"), 1, false);
    QCOMPARE(keys_of(model), (QStringList{"g1", "a", "zed"}));
    QCOMPARE(model.item(2)->title, QStringLiteral("zed"));
    QCOMPARE(model.item(2)->unread, 0u);
  }

  void mark_read_and_identity_changed() {
    ConversationListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    ConversationItem a = conversation("a", 2);
    a.unread = 4;
    ConversationItem b = conversation("b", 1);
    b.unread = 1;
    model.set_conversations({a, b});
    QCOMPARE(model.total_unread(), 5u);

    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.mark_read(QStringLiteral("a"));
    QCOMPARE(model.item(0)->unread, 0u);
    QCOMPARE(model.total_unread(), 1u);
    QCOMPARE(changed.count(), 1);
    model.mark_read(QStringLiteral("a"));        // already read: nothing
    model.mark_read(QStringLiteral("unknown"));  // absent: nothing
    QCOMPARE(changed.count(), 1);

    model.set_identity_changed(QStringLiteral("b"), true);
    QCOMPARE(changed.count(), 2);
    QCOMPARE(changed.at(1).at(0).value<QModelIndex>().row(), 1);
    QVERIFY(model.index(1).data(ConversationListModel::kIdentityChangedRole).toBool());
    model.set_identity_changed(QStringLiteral("b"), true);
    model.set_identity_changed(QStringLiteral("nobody"), true);
    QCOMPARE(changed.count(), 2);
  }

  void data_roles_and_lookups() {
    ConversationListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    ConversationItem group = conversation("g", 1234, "Group");
    group.is_group = true;
    group.preview = QStringLiteral("3 members");
    group.unread = 7;
    group.is_member = false;
    ConversationItem chat = conversation("alice", 10);
    chat.verified = true;
    model.set_conversations({group, chat});

    const QModelIndex g = model.index(0);
    QCOMPARE(g.data(Qt::DisplayRole).toString(), QStringLiteral("Group"));
    QCOMPARE(g.data(ConversationListModel::kTitleRole).toString(), QStringLiteral("Group"));
    QCOMPARE(g.data(ConversationListModel::kKeyRole).toString(), QStringLiteral("g"));
    QVERIFY(g.data(ConversationListModel::kIsGroupRole).toBool());
    QCOMPARE(g.data(ConversationListModel::kPreviewRole).toString(), QStringLiteral("3 members"));
    QCOMPARE(g.data(ConversationListModel::kLastActivityRole).toLongLong(), 1234);
    QCOMPARE(g.data(ConversationListModel::kUnreadRole).toUInt(), 7u);
    QVERIFY(!g.data(ConversationListModel::kIsMemberRole).toBool());
    QVERIFY(model.index(1).data(ConversationListModel::kVerifiedRole).toBool());
    QVERIFY(model.index(1).data(ConversationListModel::kIsMemberRole).toBool());

    QCOMPARE(model.row_of(QStringLiteral("alice")), 1);
    QCOMPARE(model.row_of(QStringLiteral("nobody")), -1);
    QVERIFY(model.item(-1) == nullptr);
    QVERIFY(model.item(2) == nullptr);
    QVERIFY(!model.data(model.index(5), Qt::DisplayRole).isValid());

    const QHash<int, QByteArray> names = model.roleNames();
    QCOMPARE(names.value(ConversationListModel::kKeyRole), QByteArray("key"));
    QCOMPARE(names.value(ConversationListModel::kUnreadRole), QByteArray("unread"));
    QCOMPARE(names.value(Qt::DisplayRole), QByteArray("display"));
  }
};

PARLEY_DESKTOP_TEST(ConversationListModelTest);

}  // namespace parley::desktop::test

#include "conversation_list_model_test.moc"
