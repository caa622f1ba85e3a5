// SPDX-License-Identifier: AGPL-3.0-or-later
#include "ui/conversation_delegate.h"

#include <QApplication>
#include <QDateTime>
#include <QPainter>

#include "core/conversation_list_model.h"
#include "core/presentation.h"

namespace parley::desktop {

namespace {

constexpr int kPadding = 8;
const QColor kBadge(0x1e, 0x88, 0xe5);
const QColor kWarning(0xc6, 0x28, 0x28);

}  // namespace

QSize ConversationDelegate::sizeHint(const QStyleOptionViewItem& option,
                                     const QModelIndex& /*index*/) const {
  const QFontMetrics metrics(option.font);
  return {220, 2 * metrics.height() + 3 * kPadding};
}

void ConversationDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option,
                                 const QModelIndex& index) const {
  painter->save();
  painter->setRenderHint(QPainter::Antialiasing);
  QStyleOptionViewItem background = option;
  initStyleOption(&background, index);
  background.text.clear();
  QApplication::style()->drawControl(QStyle::CE_ItemViewItem, &background, painter);

  const bool selected = option.state & QStyle::State_Selected;
  const QColor text_colour =
      option.palette.color(selected ? QPalette::HighlightedText : QPalette::Text);
  const QRect area = option.rect.adjusted(kPadding, kPadding, -kPadding, -kPadding);
  const QFontMetrics metrics(option.font);

  // Right column: time on top, unread badge below.
  const auto last = index.data(ConversationListModel::kLastActivityRole).toLongLong();
  const QString when = last > 0 ? time_label(last, QDateTime::currentMSecsSinceEpoch()) : QString();
  QFont small = option.font;
  small.setPointSizeF(small.pointSizeF() * 0.85);
  const int when_width = QFontMetrics(small).horizontalAdvance(when);
  painter->setFont(small);
  painter->setPen(text_colour);
  painter->drawText(QRect(area.right() - when_width, area.top(), when_width, metrics.height()),
                    Qt::AlignRight, when);
  const auto unread = index.data(ConversationListModel::kUnreadRole).toUInt();
  int badge_width = 0;
  if (unread > 0) {
    const QString count = unread > 99 ? QStringLiteral("99+") : QString::number(unread);
    QFont bold = small;
    bold.setBold(true);
    badge_width = std::max(metrics.height(), QFontMetrics(bold).horizontalAdvance(count) + 10);
    const QRect badge(area.right() - badge_width, area.bottom() - metrics.height() + 1, badge_width,
                      metrics.height());
    painter->setPen(Qt::NoPen);
    painter->setBrush(kBadge);
    painter->drawRoundedRect(badge, badge.height() / 2.0, badge.height() / 2.0);
    painter->setPen(Qt::white);
    painter->setFont(bold);
    painter->drawText(badge, Qt::AlignCenter, count);
  }

  // Left: title, then preview.
  QString title = index.data(ConversationListModel::kTitleRole).toString();
  if (index.data(ConversationListModel::kIsGroupRole).toBool()) title = "# " + title;
  const bool changed = index.data(ConversationListModel::kIdentityChangedRole).toBool();
  QFont bold = option.font;
  bold.setBold(true);
  painter->setFont(bold);
  painter->setPen(changed && !selected ? kWarning : text_colour);
  const int title_width = area.width() - when_width - kPadding;
  painter->drawText(
      QRect(area.left(), area.top(), title_width, metrics.height()), Qt::AlignLeft,
      QFontMetrics(bold).elidedText(changed ? "⚠ " + title : title, Qt::ElideRight, title_width));
  painter->setFont(option.font);
  painter->setPen(selected ? text_colour : option.palette.color(QPalette::PlaceholderText));
  const int preview_width = area.width() - badge_width - kPadding;
  painter->drawText(
      QRect(area.left(), area.bottom() - metrics.height() + 1, preview_width, metrics.height()),
      Qt::AlignLeft,
      metrics.elidedText(index.data(ConversationListModel::kPreviewRole).toString(), Qt::ElideRight,
                         preview_width));
  painter->restore();
}

}  // namespace parley::desktop
