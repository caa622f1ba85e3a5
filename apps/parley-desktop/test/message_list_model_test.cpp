// SPDX-License-Identifier: AGPL-3.0-or-later
// The open conversation's message model (core/message_list_model.h): mapping from the store,
// statuses that only move forward, transfer progress and attachments, matched by id+direction.

#include "core/message_list_model.h"

#include <QAbstractItemModelTester>
#include <QDateTime>
#include <QSignalSpy>
#include <QTest>

#include "desktop_tests.h"

namespace parley::desktop::test {

namespace {

using client::MessageStatus;
using FileState = MessageItem::FileState;

MessageItem message_item(const char* id, bool outgoing, const char* text = "hi",
                         MessageStatus status = MessageStatus::kPending) {
  MessageItem item;
  item.id = QString::fromUtf8(id);
  item.outgoing = outgoing;
  item.text = QString::fromUtf8(text);
  item.status = status;
  return item;
}

client::AttachmentView attachment(client::AttachmentView::State state, std::string name,
                                  std::string path, std::string error = {}) {
  client::AttachmentView file;
  file.file_name = std::move(name);
  file.local_path = std::move(path);
  file.size = 4096;
  file.state = state;
  file.error = std::move(error);
  return file;
}

// The one row a dataChanged emission covers (-1 when it spans several).
int changed_row(const QList<QVariant>& arguments) {
  const QModelIndex top_left = arguments.at(0).value<QModelIndex>();
  const QModelIndex bottom_right = arguments.at(1).value<QModelIndex>();
  return top_left.row() == bottom_right.row() ? top_left.row() : -1;
}

}  // namespace

class MessageListModelTest : public QObject {
  Q_OBJECT

 private slots:
  void from_record_maps_fields() {
    client::MessageRecord record;
    record.client_message_id = {0xde, 0xad, 0xbe, 0xef};
    record.direction = client::MessageDirection::kOutgoing;
    record.kind = client::MessageKind::kText;
    record.body = "hello there";
    record.sent_ms = 1111;
    record.received_ms = 2222;
    record.status = MessageStatus::kDelivered;

    const MessageItem item =
        MessageListModel::from_record(record, std::nullopt, QStringLiteral("alice"));
    QCOMPARE(item.id, QStringLiteral("deadbeef"));
    QVERIFY(item.outgoing);
    QVERIFY(!item.system);
    QCOMPARE(item.author, QStringLiteral("alice"));
    QCOMPARE(item.text, QStringLiteral("hello there"));
    QCOMPARE(item.sent_ms, std::int64_t{1111});
    QCOMPARE(item.received_ms, std::int64_t{2222});
    QCOMPARE(item.status, MessageStatus::kDelivered);
    QCOMPARE(item.file_state, FileState::kNone);

    record.direction = client::MessageDirection::kIncoming;
    record.kind = client::MessageKind::kSystem;
    const MessageItem note = MessageListModel::from_record(record, std::nullopt, QString());
    QVERIFY(!note.outgoing);
    QVERIFY(note.system);
    QCOMPARE(note.author, QString());
  }

  void from_record_maps_attachments() {
    client::MessageRecord record;
    record.client_message_id = {0x01};
    using State = client::AttachmentView::State;

    MessageItem pending = MessageListModel::from_record(
        record, attachment(State::kPending, "cat.png", ""), QString());
    QCOMPARE(pending.file_state, FileState::kTransferring);
    QCOMPARE(pending.file_name, QStringLiteral("cat.png"));
    QCOMPARE(pending.file_size, std::uint64_t{4096});
    QCOMPARE(pending.file_path, QString());

    MessageItem done = MessageListModel::from_record(
        record, attachment(State::kDone, "cat.png", "/tmp/cat.png"), QString());
    QCOMPARE(done.file_state, FileState::kDone);
    QCOMPARE(done.file_path, QStringLiteral("/tmp/cat.png"));
    QCOMPARE(done.file_error, QString());

    MessageItem failed = MessageListModel::from_record(
        record, attachment(State::kFailed, "cat.png", "", "the file was too large"), QString());
    QCOMPARE(failed.file_state, FileState::kFailed);
    QCOMPARE(failed.file_error, QStringLiteral("the file was too large"));
  }

  void set_conversation_clears_only_on_change() {
    MessageListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.set_conversation(QStringLiteral("alice"), false);
    model.set_messages({message_item("01", true), message_item("02", false)});
    QCOMPARE(model.rowCount(), 2);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);

    model.set_conversation(QStringLiteral("alice"), false);  // the same: kept
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(reset.count(), 0);

    model.set_conversation(QStringLiteral("bob"), false);
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.conversation(), QStringLiteral("bob"));
    QVERIFY(!model.is_group());
    QCOMPARE(reset.count(), 1);

    model.set_messages({message_item("03", true)});
    model.set_conversation(QStringLiteral("bob"), true);  // the same key as a group: another one
    QCOMPARE(model.rowCount(), 0);
    QVERIFY(model.is_group());
  }

  void upsert_inserts_and_updates_by_id_and_direction() {
    MessageListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

    model.upsert(message_item("aa", true, "mine"));
    model.upsert(message_item("aa", false, "theirs"));  // same id, other direction: another row
    model.upsert(message_item("bb", false, "later"));
    QCOMPARE(inserted.count(), 3);
    QCOMPARE(inserted.at(2).at(1).toInt(), 2);  // at the end
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.row_of(QStringLiteral("aa"), true), 0);
    QCOMPARE(model.row_of(QStringLiteral("aa"), false), 1);
    QCOMPARE(model.row_of(QStringLiteral("cc"), false), -1);
    QCOMPARE(changed.count(), 0);

    model.upsert(message_item("aa", false, "edited"));
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(inserted.count(), 3);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed_row(changed.at(0)), 1);
    QCOMPARE(model.item(1)->text, QStringLiteral("edited"));
    QCOMPARE(model.item(0)->text, QStringLiteral("mine"));
  }

  void upsert_keeps_live_progress() {
    MessageListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    MessageItem sending = message_item("f1", true, "");
    sending.file_state = FileState::kTransferring;
    model.upsert(sending);
    QVERIFY(model.set_progress(QStringLiteral("f1"), true, 50, 200));
    model.upsert(sending);  // read back from the store: no progress in it
    QCOMPARE(model.item(0)->progress_done, std::uint64_t{50});
    QCOMPARE(model.item(0)->progress_total, std::uint64_t{200});
  }

  void advance_status_only_forward() {
    MessageListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.set_messages({message_item("m1", true), message_item("m2", true),
                        message_item("m1", false, "incoming, same id", MessageStatus::kSent)});
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

    QVERIFY(model.advance_status(QStringLiteral("m1"), MessageStatus::kSent));
    QCOMPARE(model.item(0)->status, MessageStatus::kSent);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed_row(changed.at(0)), 0);
    const QList<int> roles = changed.at(0).at(2).value<QList<int>>();
    QVERIFY(roles.contains(MessageListModel::kStatusRole));
    QVERIFY(roles.contains(MessageListModel::kTicksRole));

    QVERIFY(!model.advance_status(QStringLiteral("m1"), MessageStatus::kSent));     // unchanged
    QVERIFY(!model.advance_status(QStringLiteral("m1"), MessageStatus::kPending));  // backwards
    QVERIFY(!model.advance_status(QStringLiteral("m1"), MessageStatus::kFailed));   // not pending
    QVERIFY(model.advance_status(QStringLiteral("m1"), MessageStatus::kRead));  // skips delivered
    QVERIFY(!model.advance_status(QStringLiteral("m1"), MessageStatus::kDelivered));
    QCOMPARE(model.item(0)->status, MessageStatus::kRead);
    QVERIFY(!model.advance_status(QStringLiteral("nope"), MessageStatus::kSent));
    QCOMPARE(changed.count(), 2);

    // Receipts are for our messages: the incoming "m1" is untouched.
    QCOMPARE(model.item(2)->status, MessageStatus::kSent);

    QVERIFY(model.advance_status(QStringLiteral("m2"), MessageStatus::kFailed));
    QCOMPARE(model.item(1)->status, MessageStatus::kFailed);
    QVERIFY(!model.advance_status(QStringLiteral("m2"), MessageStatus::kSent));  // terminal
    QVERIFY(!model.advance_status(QStringLiteral("m2"), MessageStatus::kFailed));
    QCOMPARE(model.item(1)->status, MessageStatus::kFailed);
  }

  void set_progress_changes_one_row() {
    MessageListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    MessageItem up = message_item("up", true, "");
    up.file_state = FileState::kTransferring;
    MessageItem down = message_item("down", false, "");
    down.file_state = FileState::kTransferring;
    model.set_messages({message_item("x", false), up, down});
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

    QCOMPARE(model.index(1).data(MessageListModel::kProgressRole).toDouble(), -1.0);
    QVERIFY(model.set_progress(QStringLiteral("up"), true, 25, 100));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed_row(changed.at(0)), 1);
    QCOMPARE(model.index(1).data(MessageListModel::kProgressRole).toDouble(), 0.25);
    QCOMPARE(model.item(1)->progress_done, std::uint64_t{25});
    QCOMPARE(model.item(1)->progress_total, std::uint64_t{100});

    QVERIFY(!model.set_progress(QStringLiteral("up"), true, 25, 100));  // unchanged
    QVERIFY(!model.set_progress(QStringLiteral("nope"), true, 1, 2));
    QCOMPARE(changed.count(), 1);

    QVERIFY(model.set_progress(QStringLiteral("down"), false, 300, 300));
    QCOMPARE(changed_row(changed.at(1)), 2);
    QCOMPARE(model.index(2).data(MessageListModel::kProgressRole).toDouble(), 1.0);
    QCOMPARE(model.item(1)->progress_done, std::uint64_t{25});  // the upload row is untouched

    // A message sent from our other device is downloaded here: the outgoing row gets it.
    QVERIFY(model.set_progress(QStringLiteral("up"), false, 50, 100));
    QCOMPARE(model.item(1)->progress_done, std::uint64_t{50});

    // A row without a file starts transferring; total 0 is still "unknown".
    QVERIFY(model.set_progress(QStringLiteral("x"), false, 0, 0));
    QCOMPARE(model.item(0)->file_state, FileState::kTransferring);
    QCOMPARE(model.index(0).data(MessageListModel::kProgressRole).toDouble(), -1.0);
  }

  void set_file_maps_attachment_states() {
    MessageListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.set_messages({message_item("f", false, ""), message_item("g", true, "")});
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    using State = client::AttachmentView::State;
    const QModelIndex row = model.index(0);

    QVERIFY(model.set_file(QStringLiteral("f"), false, attachment(State::kPending, "cat.png", "")));
    QCOMPARE(row.data(MessageListModel::kFileStateRole).toInt(),
             static_cast<int>(FileState::kTransferring));
    QVERIFY(!row.data(MessageListModel::kIsImageRole).toBool());
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed_row(changed.at(0)), 0);
    QVERIFY(
        !model.set_file(QStringLiteral("f"), false, attachment(State::kPending, "cat.png", "")));
    QCOMPARE(changed.count(), 1);

    QVERIFY(model.set_file(QStringLiteral("f"), false,
                           attachment(State::kDone, "cat.png", "/home/a/downloads/cat.png")));
    QCOMPARE(row.data(MessageListModel::kFileStateRole).toInt(),
             static_cast<int>(FileState::kDone));
    QCOMPARE(row.data(MessageListModel::kFilePathRole).toString(),
             QStringLiteral("/home/a/downloads/cat.png"));
    QCOMPARE(row.data(MessageListModel::kFileNameRole).toString(), QStringLiteral("cat.png"));
    QCOMPARE(row.data(MessageListModel::kFileSizeRole).toULongLong(), 4096ULL);
    QVERIFY(row.data(MessageListModel::kIsImageRole).toBool());

    // Done but not an image, or an image without a local file: no thumbnail.
    QVERIFY(model.set_file(QStringLiteral("f"), false,
                           attachment(State::kDone, "report.pdf", "/home/a/report.pdf")));
    QVERIFY(!row.data(MessageListModel::kIsImageRole).toBool());
    QVERIFY(model.set_file(QStringLiteral("f"), false, attachment(State::kDone, "cat.png", "")));
    QVERIFY(!row.data(MessageListModel::kIsImageRole).toBool());

    QVERIFY(model.set_file(QStringLiteral("f"), false,
                           attachment(State::kFailed, "cat.png", "", "the sender cancelled")));
    QCOMPARE(row.data(MessageListModel::kFileStateRole).toInt(),
             static_cast<int>(FileState::kFailed));
    QCOMPARE(row.data(MessageListModel::kFileErrorRole).toString(),
             QStringLiteral("the sender cancelled"));

    // Matched by direction too: "f" is incoming, "g" is outgoing.
    QVERIFY(!model.set_file(QStringLiteral("f"), true, attachment(State::kDone, "a.png", "/a")));
    QVERIFY(!model.set_file(QStringLiteral("g"), false, attachment(State::kDone, "a.png", "/a")));
    QVERIFY(!model.set_file(QStringLiteral("zz"), false, attachment(State::kDone, "a.png", "/a")));
    QVERIFY(model.set_file(QStringLiteral("g"), true, attachment(State::kDone, "a.png", "/a")));
    QCOMPARE(model.item(1)->file_state, FileState::kDone);
  }

  void data_roles() {
    MessageListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    const std::int64_t now =
        QDateTime(QDate(2026, 11, 20), QTime(14, 30), Qt::LocalTime).toMSecsSinceEpoch();
    const std::int64_t sent =
        QDateTime(QDate(2026, 11, 20), QTime(9, 7), Qt::LocalTime).toMSecsSinceEpoch();
    model.set_now_for_test(now);

    MessageItem mine = message_item("01", true, "mine", MessageStatus::kSent);
    mine.sent_ms = sent;
    MessageItem theirs = message_item("02", false, "theirs", MessageStatus::kRead);
    theirs.author = QStringLiteral("bob");
    theirs.system = true;
    model.set_messages({mine, theirs});

    const QModelIndex a = model.index(0);
    QCOMPARE(a.data(Qt::DisplayRole).toString(), QStringLiteral("mine"));
    QCOMPARE(a.data(MessageListModel::kTextRole).toString(), QStringLiteral("mine"));
    QCOMPARE(a.data(MessageListModel::kIdRole).toString(), QStringLiteral("01"));
    QVERIFY(a.data(MessageListModel::kOutgoingRole).toBool());
    QCOMPARE(a.data(MessageListModel::kSentRole).toLongLong(), sent);
    QCOMPARE(a.data(MessageListModel::kStatusRole).toInt(), static_cast<int>(MessageStatus::kSent));
    QCOMPARE(a.data(MessageListModel::kTicksRole).toString(), QStringLiteral("✓"));
    QCOMPARE(a.data(MessageListModel::kTimeTextRole).toString(), QStringLiteral("09:07"));
    QCOMPARE(a.data(MessageListModel::kFileStateRole).toInt(), static_cast<int>(FileState::kNone));
    QCOMPARE(a.data(MessageListModel::kProgressRole).toDouble(), -1.0);

    const QModelIndex b = model.index(1);
    QCOMPARE(b.data(MessageListModel::kTicksRole).toString(), QString());  // incoming: no ticks
    QCOMPARE(b.data(MessageListModel::kAuthorRole).toString(), QStringLiteral("bob"));
    QVERIFY(b.data(MessageListModel::kSystemRole).toBool());

    QVERIFY(model.item(2) == nullptr);
    QVERIFY(model.item(-1) == nullptr);
    QVERIFY(!model.data(model.index(2), Qt::DisplayRole).isValid());
    const QHash<int, QByteArray> names = model.roleNames();
    QCOMPARE(names.value(MessageListModel::kProgressRole), QByteArray("progress"));
    QCOMPARE(names.value(MessageListModel::kIsImageRole), QByteArray("isImage"));
  }
};

PARLEY_DESKTOP_TEST(MessageListModelTest);

}  // namespace parley::desktop::test

#include "message_list_model_test.moc"
