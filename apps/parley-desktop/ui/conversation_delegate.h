// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Draws one row of ConversationListModel: the title (a "#" before groups, a warning sign when a
// contact's key changed), the last message's preview, its time, and an unread badge.

#include <QStyledItemDelegate>

namespace parley::desktop {

class ConversationDelegate : public QStyledItemDelegate {
  Q_OBJECT

 public:
  using QStyledItemDelegate::QStyledItemDelegate;

  void paint(QPainter* painter, const QStyleOptionViewItem& option,
             const QModelIndex& index) const override;
  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};

}  // namespace parley::desktop
