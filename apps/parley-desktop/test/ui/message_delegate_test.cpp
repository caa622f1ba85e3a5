// SPDX-License-Identifier: AGPL-3.0-or-later
// The chat bubbles (ui/message_delegate.h) on a real list view, offscreen: longer texts make
// taller rows, ours are painted on the right and theirs on the left, and a finished picture is
// shown inline at thumbnail size.

#include "ui/message_delegate.h"

#include <QImage>
#include <QListView>
#include <QStyleOptionViewItem>
#include <QTemporaryDir>
#include <QTest>

#include "core/message_list_model.h"
#include "desktop_tests.h"

namespace parley::desktop::test {

namespace {

using FileState = MessageItem::FileState;

constexpr std::int64_t kNowMs = 1'700'000'000'000;
const QColor kOurBubble(0xd7, 0xec, 0xfb);    // message_delegate.cpp's kOurs
const QColor kTheirBubble(0xee, 0xee, 0xee);  // and kTheirs
constexpr int kViewWidth = 600;

MessageItem text_item(const QString& id, bool outgoing, const QString& text) {
  MessageItem item;
  item.id = id;
  item.outgoing = outgoing;
  item.text = text;
  item.sent_ms = kNowMs - 60'000;
  item.status = client::MessageStatus::kDelivered;
  return item;
}

MessageItem picture_item(const QString& id, const QString& path, const QString& name) {
  MessageItem item = text_item(id, false, {});
  item.file_state = FileState::kDone;
  item.file_path = path;
  item.file_name = name;
  item.file_size = 4096;
  return item;
}

// A list view as ChatPanel sets it up, 600 pixels wide, shown offscreen.
struct ChatView {
  MessageListModel model;
  QListView view;
  MessageDelegate* delegate = nullptr;

  explicit ChatView(std::vector<MessageItem> items) {
    model.set_now_for_test(kNowMs);
    model.set_conversation("dave", false);
    model.set_messages(std::move(items));
    view.setModel(&model);
    delegate = new MessageDelegate(&view);
    view.setItemDelegate(delegate);
    view.setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    view.setResizeMode(QListView::Adjust);
    view.setUniformItemSizes(false);
    view.resize(kViewWidth, 900);
  }

  bool show() {
    view.show();
    return QTest::qWaitForWindowExposed(&view);
  }

  int height_of(int row) {
    QStyleOptionViewItem option;
    option.initFrom(&view);
    option.font = view.font();
    return delegate->sizeHint(option, model.index(row)).height();
  }

  // How many pixels of `colour` the row has left and right of the middle of the view.
  std::pair<int, int> count_colour(const QImage& image, int row, const QColor& colour) {
    const QRect rect = view.visualRect(model.index(row)).intersected(image.rect());
    const int middle = view.viewport()->width() / 2;
    int left = 0;
    int right = 0;
    for (int y = rect.top(); y <= rect.bottom(); ++y) {
      for (int x = rect.left(); x <= rect.right(); ++x) {
        if (QColor(image.pixel(x, y)).rgb() != colour.rgb()) continue;
        (x < middle ? left : right) += 1;
      }
    }
    return {left, right};
  }
};

QString write_picture(const QTemporaryDir& dir, const QString& name, QSize size) {
  QImage image(size, QImage::Format_RGB32);
  image.fill(Qt::red);
  const QString path = dir.filePath(name);
  return image.save(path, "PNG") ? path : QString();
}

}  // namespace

class MessageDelegateTest : public QObject {
  Q_OBJECT

 private slots:
  void longerTextMakesTallerRows();
  void oursAreOnTheRightAndTheirsOnTheLeft();
  void aFinishedPictureIsShownAtThumbnailSize();
};

void MessageDelegateTest::longerTextMakesTallerRows() {
  QString paragraph;
  for (int i = 0; i < 60; ++i) paragraph += QStringLiteral("word%1 ").arg(i);
  ChatView chat({text_item("1", false, "short"), text_item("2", false, "a\nb\nc"),
                 text_item("3", false, paragraph), text_item("4", true, paragraph)});
  QVERIFY(chat.show());
  const int one_line = chat.height_of(0);
  QVERIFY(one_line > 0);
  QVERIFY2(chat.height_of(1) > one_line, "three lines are taller than one");
  QVERIFY2(chat.height_of(2) > chat.height_of(1), "a long paragraph wraps to more lines");
  QCOMPARE(chat.height_of(3), chat.height_of(2));  // the side does not change the wrapping
  // The view lays rows out at those heights.
  QCOMPARE(chat.view.visualRect(chat.model.index(2)).height(), chat.height_of(2));
}

void MessageDelegateTest::oursAreOnTheRightAndTheirsOnTheLeft() {
  ChatView chat({text_item("1", false, "hello from dave"), text_item("2", true, "hi dave")});
  QVERIFY(chat.show());
  const QImage image = chat.view.viewport()->grab().toImage();

  const auto [theirs_left, theirs_right] = chat.count_colour(image, 0, kTheirBubble);
  QVERIFY2(theirs_left > 200, "their bubble is painted on the left");
  QCOMPARE(theirs_right, 0);
  QCOMPARE(chat.count_colour(image, 0, kOurBubble), std::make_pair(0, 0));

  const auto [ours_left, ours_right] = chat.count_colour(image, 1, kOurBubble);
  QVERIFY2(ours_right > 200, "our bubble is painted on the right");
  QCOMPARE(ours_left, 0);
  QCOMPARE(chat.count_colour(image, 1, kTheirBubble), std::make_pair(0, 0));
}

void MessageDelegateTest::aFinishedPictureIsShownAtThumbnailSize() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const QString wide = write_picture(dir, "wide.png", {400, 300});  // → 240 × 180
  const QString tall = write_picture(dir, "tall.png", {300, 600});  // → 120 × 240
  QVERIFY(!wide.isEmpty() && !tall.isEmpty());
  ChatView chat({picture_item("1", wide, "x.png"), picture_item("2", tall, "y.png"),
                 picture_item("3", dir.filePath("gone.png"), "gone.png"),
                 text_item("4", false, "just text")});
  QVERIFY(chat.show());

  const int wide_row = chat.height_of(0);
  const int tall_row = chat.height_of(1);
  const int gone_row = chat.height_of(2);
  QVERIFY2(wide_row >= 180, qPrintable(QString::number(wide_row)));
  QVERIFY2(tall_row >= MessageDelegate::kThumbnailMax, qPrintable(QString::number(tall_row)));
  QVERIFY2(tall_row < MessageDelegate::kThumbnailMax + 120, "bounded by the thumbnail size");
  // A picture whose file is gone shows its file line only.
  QVERIFY(gone_row < wide_row - 150);

  // The thumbnail itself is painted: 240 × 180 red pixels in the first row.
  const QImage image = chat.view.viewport()->grab().toImage();
  const auto [red_left, red_right] = chat.count_colour(image, 0, Qt::red);
  QCOMPARE(red_left + red_right, 240 * 180);
  QCOMPARE(chat.count_colour(image, 2, Qt::red), std::make_pair(0, 0));
}

PARLEY_DESKTOP_TEST(MessageDelegateTest);

}  // namespace parley::desktop::test

#include "message_delegate_test.moc"
