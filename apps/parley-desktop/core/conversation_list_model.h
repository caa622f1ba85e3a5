// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The conversation list (direct chats and groups, newest first) as a Qt list model. Filled from
// the core's chats() and groups(), and bumped locally as messages arrive so the list moves
// without a round trip to the worker.

#include <QAbstractListModel>
#include <QString>
#include <cstdint>
#include <vector>

#include "parley/client/client.h"

namespace parley::desktop {

struct ConversationItem {
  QString key;    // a direct chat's username, or a group's id (hex)
  QString title;  // the username or the group's name
  bool is_group = false;
  QString preview;  // the last message, one line (preview_text)
  std::int64_t last_activity_ms = 0;
  std::uint32_t unread = 0;
  bool verified = false;          // direct chats: the safety number was verified
  bool identity_changed = false;  // direct chats: the contact's key changed since
  bool is_member = true;          // groups: false after we left or were removed
};

class ConversationListModel : public QAbstractListModel {
  Q_OBJECT

 public:
  enum Role {
    kKeyRole = Qt::UserRole + 1,
    kTitleRole,
    kIsGroupRole,
    kPreviewRole,
    kLastActivityRole,
    kUnreadRole,
    kVerifiedRole,
    kIdentityChangedRole,
    kIsMemberRole,
  };

  explicit ConversationListModel(QObject* parent = nullptr);

  // Direct chats without a username (not looked up yet) are keyed by the whole account id, as
  // conversation_key() keys their events, and shown by its first 12 hex digits; previews come
  // from the last message's text. Groups carry no last message, so their preview is the member
  // count ("3 members").
  static std::vector<ConversationItem> from_core(const std::vector<client::ChatSummary>& chats,
                                                 const std::vector<client::GroupView>& groups);

  // Replaces the list (sorted newest first, ties by title). Rows whose key stays keep their
  // identity: the model moves, inserts and removes rows instead of resetting, so a selection
  // survives a refresh.
  void set_conversations(std::vector<ConversationItem> items);

  // A message arrived or was sent in `key` (created if new): updates its preview (the raw text;
  // preview_text() is applied here), title (when non-empty) and activity (never backwards), adds
  // one unread when `count_unread`, and moves it to its sorted place: the top for a new message.
  void note_message(const QString& key, const QString& title, bool is_group, const QString& preview,
                    std::int64_t when_ms, bool count_unread);
  void mark_read(const QString& key);
  void set_identity_changed(const QString& key, bool changed);

  int row_of(const QString& key) const;  // -1 when absent
  const ConversationItem* item(int row) const;
  std::uint32_t total_unread() const;

  int rowCount(const QModelIndex& parent = QModelIndex()) const override;
  QVariant data(const QModelIndex& index, int role) const override;  // Qt::DisplayRole: title
  QHash<int, QByteArray> roleNames() const override;

 private:
  std::vector<ConversationItem> items_;
};

}  // namespace parley::desktop
