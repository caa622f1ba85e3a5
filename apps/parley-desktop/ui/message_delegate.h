// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Draws one message of MessageListModel as a chat bubble: ours on the right, theirs on the left,
// notes centred without a bubble. Inside: the author (groups), the text, a file row with a
// progress bar while it moves, an inline thumbnail for finished pictures, and the time with the
// delivery ticks.

#include <QStyledItemDelegate>

class QListView;

namespace parley::desktop {

class MessageDelegate : public QStyledItemDelegate {
  Q_OBJECT

 public:
  // `view` gives the width bubbles wrap to.
  explicit MessageDelegate(QListView* view);

  void paint(QPainter* painter, const QStyleOptionViewItem& option,
             const QModelIndex& index) const override;
  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;

  static constexpr int kThumbnailMax = 240;  // pixels, either side

 private:
  struct Layout;
  Layout layout(const QStyleOptionViewItem& option, const QModelIndex& index) const;

  QListView* view_;
};

}  // namespace parley::desktop
