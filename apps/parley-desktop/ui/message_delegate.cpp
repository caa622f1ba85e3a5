// SPDX-License-Identifier: AGPL-3.0-or-later
#include "ui/message_delegate.h"

#include <QApplication>
#include <QListView>
#include <QPainter>
#include <QPainterPath>
#include <QPixmapCache>

#include "core/message_list_model.h"
#include "core/presentation.h"

namespace parley::desktop {

namespace {

constexpr int kMargin = 6;   // around a bubble
constexpr int kPadding = 8;  // inside a bubble
constexpr int kRadius = 10;
constexpr int kProgressHeight = 6;
constexpr double kMaxBubbleShare = 0.72;  // of the view's width

const QColor kOurs(0xd7, 0xec, 0xfb);
const QColor kTheirs(0xee, 0xee, 0xee);
const QColor kReadTicks(0x1e, 0x88, 0xe5);

// A finished picture, scaled once and kept in Qt's pixmap cache by path.
QPixmap thumbnail(const QString& path) {
  QPixmap pixmap;
  const QString key = "parley-thumb:" + path;
  if (QPixmapCache::find(key, &pixmap)) return pixmap;
  QImage image(path);
  if (image.isNull()) return {};
  pixmap = QPixmap::fromImage(image.scaled(MessageDelegate::kThumbnailMax,
                                           MessageDelegate::kThumbnailMax, Qt::KeepAspectRatio,
                                           Qt::SmoothTransformation));
  QPixmapCache::insert(key, pixmap);
  return pixmap;
}

QString file_line(const QModelIndex& index) {
  const QString name = index.data(MessageListModel::kFileNameRole).toString();
  const auto size = index.data(MessageListModel::kFileSizeRole).toULongLong();
  const auto state =
      static_cast<MessageItem::FileState>(index.data(MessageListModel::kFileStateRole).toInt());
  QString line = name + "  ·  " + size_label(size);
  if (state == MessageItem::FileState::kFailed) {
    line += "  ·  " +
            QObject::tr("failed: %1").arg(index.data(MessageListModel::kFileErrorRole).toString());
  }
  return line;
}

}  // namespace

struct MessageDelegate::Layout {
  bool system = false;
  bool outgoing = false;
  QRect bubble;  // in item coordinates (origin 0,0)
  QRect author;
  QRect text;
  QRect file;       // the file's line
  QRect progress;   // the progress bar, when transferring
  QRect thumbnail;  // a picture
  QRect footer;     // time and ticks
  QPixmap picture;
  int height = 0;
};

MessageDelegate::MessageDelegate(QListView* view) : QStyledItemDelegate(view), view_(view) {}

MessageDelegate::Layout MessageDelegate::layout(const QStyleOptionViewItem& option,
                                                const QModelIndex& index) const {
  Layout out;
  const int view_width = std::max(200, view_->viewport()->width());
  const QFontMetrics metrics(option.font);
  out.system = index.data(MessageListModel::kSystemRole).toBool();
  out.outgoing = index.data(MessageListModel::kOutgoingRole).toBool();
  const QString text = index.data(MessageListModel::kTextRole).toString();

  if (out.system) {
    const QRect bounds = metrics.boundingRect(QRect(0, 0, view_width - 4 * kMargin, 10000),
                                              Qt::AlignHCenter | Qt::TextWordWrap, text);
    out.text = QRect(2 * kMargin, kMargin, view_width - 4 * kMargin, bounds.height());
    out.height = bounds.height() + 2 * kMargin;
    return out;
  }

  const int max_inner = static_cast<int>(view_width * kMaxBubbleShare) - 2 * kPadding;
  int inner_width = 0;
  int y = kPadding;
  const QString author = index.data(MessageListModel::kAuthorRole).toString();
  if (!author.isEmpty() && !out.outgoing) {
    out.author = QRect(kPadding, y, metrics.horizontalAdvance(author), metrics.height());
    inner_width = std::max(inner_width, out.author.width());
    y += metrics.height() + 2;
  }
  const auto file_state =
      static_cast<MessageItem::FileState>(index.data(MessageListModel::kFileStateRole).toInt());
  if (file_state != MessageItem::FileState::kNone) {
    if (index.data(MessageListModel::kIsImageRole).toBool()) {
      out.picture = thumbnail(index.data(MessageListModel::kFilePathRole).toString());
    }
    if (!out.picture.isNull()) {
      out.thumbnail = QRect(QPoint(kPadding, y), out.picture.size());
      inner_width = std::max(inner_width, out.picture.width());
      y += out.picture.height() + 4;
    }
    const QRect line =
        metrics.boundingRect(QRect(0, 0, max_inner, 10000), Qt::TextWordWrap, file_line(index));
    out.file = QRect(kPadding, y, std::min(max_inner, line.width()), line.height());
    inner_width = std::max(inner_width, out.file.width());
    y += line.height() + 2;
    if (file_state == MessageItem::FileState::kTransferring) {
      out.progress = QRect(kPadding, y + 2, 0, kProgressHeight);
      inner_width = std::max(inner_width, 160);
      y += kProgressHeight + 6;
    }
  }
  if (!text.isEmpty()) {
    const QRect bounds =
        metrics.boundingRect(QRect(0, 0, max_inner, 100000), Qt::TextWordWrap, text);
    out.text = QRect(kPadding, y, std::min(max_inner, bounds.width()), bounds.height());
    inner_width = std::max(inner_width, out.text.width());
    y += bounds.height() + 2;
  }
  QFont small = option.font;
  small.setPointSizeF(small.pointSizeF() * 0.8);
  const QFontMetrics small_metrics(small);
  const QString footer = index.data(MessageListModel::kTimeTextRole).toString() + "  " +
                         index.data(MessageListModel::kTicksRole).toString();
  const int footer_width = small_metrics.horizontalAdvance(footer);
  inner_width = std::max(inner_width, footer_width);
  out.footer =
      QRect(kPadding + inner_width - footer_width, y, footer_width, small_metrics.height());
  y += small_metrics.height() + kPadding;
  if (!out.progress.isNull()) out.progress.setWidth(inner_width);

  const int bubble_width = inner_width + 2 * kPadding;
  const int x = out.outgoing ? view_width - kMargin - bubble_width : kMargin;
  out.bubble = QRect(x, kMargin, bubble_width, y);
  const QPoint shift(x, kMargin);
  for (QRect* rect :
       {&out.author, &out.text, &out.file, &out.progress, &out.thumbnail, &out.footer}) {
    if (!rect->isNull()) rect->translate(shift);
  }
  out.height = y + 2 * kMargin;
  return out;
}

QSize MessageDelegate::sizeHint(const QStyleOptionViewItem& option,
                                const QModelIndex& index) const {
  return {view_->viewport()->width(), layout(option, index).height};
}

void MessageDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option,
                            const QModelIndex& index) const {
  const Layout l = layout(option, index);
  painter->save();
  painter->setRenderHint(QPainter::Antialiasing);
  painter->translate(option.rect.topLeft());
  const QString text = index.data(MessageListModel::kTextRole).toString();
  if (l.system) {
    painter->setPen(option.palette.color(QPalette::PlaceholderText));
    QFont italic = option.font;
    italic.setItalic(true);
    painter->setFont(italic);
    painter->drawText(l.text, Qt::AlignHCenter | Qt::TextWordWrap, text);
    painter->restore();
    return;
  }
  QPainterPath path;
  path.addRoundedRect(l.bubble, kRadius, kRadius);
  painter->fillPath(path, l.outgoing ? kOurs : kTheirs);
  if (option.state & QStyle::State_Selected) {
    painter->setPen(QPen(option.palette.highlight(), 2));
    painter->drawPath(path);
  }
  painter->setPen(Qt::black);
  painter->setFont(option.font);
  if (!l.author.isNull()) {
    QFont bold = option.font;
    bold.setBold(true);
    painter->setFont(bold);
    painter->drawText(l.author, Qt::AlignLeft,
                      index.data(MessageListModel::kAuthorRole).toString());
    painter->setFont(option.font);
  }
  if (!l.thumbnail.isNull()) painter->drawPixmap(l.thumbnail.topLeft(), l.picture);
  if (!l.file.isNull()) {
    painter->drawText(l.file, Qt::TextWordWrap, file_line(index));
  }
  if (!l.progress.isNull()) {
    const double share = index.data(MessageListModel::kProgressRole).toDouble();
    painter->fillRect(l.progress, QColor(0xcc, 0xcc, 0xcc));
    if (share > 0) {
      QRect done = l.progress;
      done.setWidth(static_cast<int>(l.progress.width() * std::min(1.0, share)));
      painter->fillRect(done, kReadTicks);
    }
  }
  if (!l.text.isNull()) painter->drawText(l.text, Qt::TextWordWrap, text);
  QFont small = option.font;
  small.setPointSizeF(small.pointSizeF() * 0.8);
  painter->setFont(small);
  const auto status =
      static_cast<client::MessageStatus>(index.data(MessageListModel::kStatusRole).toInt());
  painter->setPen(l.outgoing && status == client::MessageStatus::kRead ? kReadTicks
                                                                       : QColor(0x66, 0x66, 0x66));
  painter->drawText(l.footer, Qt::AlignRight,
                    index.data(MessageListModel::kTimeTextRole).toString() + "  " +
                        index.data(MessageListModel::kTicksRole).toString());
  painter->restore();
}

}  // namespace parley::desktop
