// SPDX-License-Identifier: AGPL-3.0-or-later
#include "ui/chat_panel.h"

#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QListView>
#include <QMenu>
#include <QPushButton>
#include <QScrollBar>
#include <QStackedLayout>
#include <QVBoxLayout>

#include "core/message_list_model.h"
#include "ui/composer.h"
#include "ui/message_delegate.h"

namespace parley::desktop {

ChatPanel::ChatPanel(MessageListModel& messages, QWidget* parent)
    : QWidget(parent), messages_(messages) {
  pages_ = new QStackedLayout(this);

  auto* empty = new QLabel(tr("Pick a conversation on the left, or start a new chat."));
  empty->setObjectName("emptyLabel");
  empty->setAlignment(Qt::AlignCenter);
  pages_->addWidget(empty);

  auto* chat = new QWidget;
  auto* column = new QVBoxLayout(chat);
  column->setContentsMargins(0, 0, 0, 0);

  auto* header = new QHBoxLayout;
  title_ = new QLabel;
  title_->setObjectName("chatTitle");
  QFont title_font = title_->font();
  title_font.setPointSizeF(title_font.pointSizeF() * 1.3);
  title_font.setBold(true);
  title_->setFont(title_font);
  safety_ = new QPushButton(tr("Safety number"));
  safety_->setObjectName("safetyButton");
  members_ = new QPushButton(tr("Members"));
  members_->setObjectName("membersButton");
  header->addWidget(title_, 1);
  header->addWidget(safety_);
  header->addWidget(members_);
  column->addLayout(header);

  banner_ = new QFrame;
  banner_->setObjectName("identityBanner");
  banner_->setStyleSheet(
      "#identityBanner { background: #fdecea; border: 1px solid #e57373; "
      "border-radius: 4px; }");
  auto* banner_row = new QHBoxLayout(banner_);
  banner_text_ = new QLabel;
  banner_text_->setWordWrap(true);
  auto* verify = new QPushButton(tr("Verify"));
  verify->setObjectName("verifyBannerButton");
  banner_row->addWidget(banner_text_, 1);
  banner_row->addWidget(verify);
  banner_->hide();
  column->addWidget(banner_);

  list_ = new QListView;
  list_->setObjectName("messageList");
  list_->setModel(&messages_);
  list_->setItemDelegate(new MessageDelegate(list_));
  list_->setSelectionMode(QAbstractItemView::SingleSelection);
  list_->setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
  list_->setResizeMode(QListView::Adjust);
  list_->setUniformItemSizes(false);
  list_->setContextMenuPolicy(Qt::CustomContextMenu);
  column->addWidget(list_, 1);

  typing_ = new QLabel;
  typing_->setObjectName("typingLabel");
  QFont italic = typing_->font();
  italic.setItalic(true);
  typing_->setFont(italic);
  typing_->hide();
  column->addWidget(typing_);

  auto* input = new QHBoxLayout;
  attach_ = new QPushButton(tr("Attach…"));
  attach_->setObjectName("attachButton");
  attach_->setToolTip(tr("Send a file (or drop files on the message box)"));
  composer_ = new Composer;
  // Four lines high at most: long messages scroll inside the box, the chat keeps the space.
  composer_->setFixedHeight(composer_->fontMetrics().lineSpacing() * 4 + 12);
  send_ = new QPushButton(tr("Send"));
  send_->setObjectName("sendButton");
  input->addWidget(attach_, 0, Qt::AlignBottom);
  input->addWidget(composer_, 1);
  input->addWidget(send_, 0, Qt::AlignBottom);
  column->addLayout(input);
  pages_->addWidget(chat);

  connect(composer_, &Composer::sendRequested, this, &ChatPanel::sendText);
  connect(composer_, &Composer::filesDropped, this, &ChatPanel::sendFiles);
  connect(composer_, &Composer::imagePasted, this, &ChatPanel::sendImage);
  connect(composer_, &Composer::typingChanged, this, &ChatPanel::typing);
  connect(send_, &QPushButton::clicked, composer_, &Composer::submit);
  connect(attach_, &QPushButton::clicked, this, &ChatPanel::attach);
  connect(safety_, &QPushButton::clicked, this, &ChatPanel::safetyNumberRequested);
  connect(verify, &QPushButton::clicked, this, &ChatPanel::safetyNumberRequested);
  connect(members_, &QPushButton::clicked, this, &ChatPanel::membersRequested);
  connect(list_, &QListView::customContextMenuRequested, this, &ChatPanel::on_message_menu);
  connect(list_, &QListView::doubleClicked, this, [this](const QModelIndex& index) {
    if (index.data(MessageListModel::kFileStateRole).toInt() ==
        static_cast<int>(MessageItem::FileState::kDone)) {
      emit openFileRequested(index.data(MessageListModel::kFilePathRole).toString());
    }
  });
  // New rows arrive at the end: follow them when the reader is already at the bottom.
  connect(&messages_, &QAbstractItemModel::rowsInserted, this, [this] {
    QScrollBar* bar = list_->verticalScrollBar();
    if (bar->value() >= bar->maximum() - 40) scroll_to_bottom();
  });
  connect(&messages_, &QAbstractItemModel::modelReset, this, &ChatPanel::scroll_to_bottom);
}

void ChatPanel::show_conversation(const QString& title, bool is_group, bool is_member) {
  if (title.isEmpty()) {
    pages_->setCurrentIndex(0);
    return;
  }
  pages_->setCurrentIndex(1);
  title_->setText(is_group ? "# " + title : title);
  safety_->setVisible(!is_group);
  members_->setVisible(is_group);
  composer_->setEnabled(is_member);
  attach_->setEnabled(is_member);
  send_->setEnabled(is_member);
  composer_->setPlaceholderText(
      is_member ? tr("Write a message — Enter sends, Shift+Enter for a new line")
                : tr("You are no longer a member of this group"));
  set_typing({});
  composer_->setFocus();
}

void ChatPanel::show_identity_warning(bool changed, const QString& name) {
  banner_text_->setText(
      tr("%1's safety number changed. They may have a new device — or someone may be "
         "intercepting. Compare the numbers before you trust it again.")
          .arg(name));
  banner_->setVisible(changed);
}

void ChatPanel::set_typing(const QString& text) {
  typing_->setText(text);
  typing_->setVisible(!text.isEmpty());
}

void ChatPanel::scroll_to_bottom() {
  // After layout, so the new rows' heights are known.
  QMetaObject::invokeMethod(list_, &QListView::scrollToBottom, Qt::QueuedConnection);
}

void ChatPanel::attach() {
  const QStringList paths = QFileDialog::getOpenFileNames(this, tr("Send files"));
  if (!paths.isEmpty()) emit sendFiles(paths);
}

void ChatPanel::on_message_menu(const QPoint& position) {
  const QModelIndex index = list_->indexAt(position);
  if (!index.isValid() || index.data(MessageListModel::kFileStateRole).toInt() !=
                              static_cast<int>(MessageItem::FileState::kDone)) {
    return;
  }
  const QString path = index.data(MessageListModel::kFilePathRole).toString();
  const QString name = index.data(MessageListModel::kFileNameRole).toString();
  QMenu menu(this);
  menu.addAction(tr("Open"), this, [this, path] { emit openFileRequested(path); });
  menu.addAction(tr("Save as…"), this, [this, path, name] { emit saveFileRequested(path, name); });
  menu.exec(list_->viewport()->mapToGlobal(position));
}

}  // namespace parley::desktop
