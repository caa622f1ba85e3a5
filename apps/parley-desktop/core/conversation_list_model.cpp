// SPDX-License-Identifier: AGPL-3.0-or-later
#include "core/conversation_list_model.h"

#include <algorithm>
#include <iterator>

#include "core/presentation.h"

namespace parley::desktop {

namespace {

constexpr int kShortIdDigits = 12;  // an account id shown before its username is known

// Newest first; ties by title (case-insensitive), then by key, so the order is total and a
// refresh with the same data never moves a row.
bool sorts_before(const ConversationItem& a, const ConversationItem& b) {
  if (a.last_activity_ms != b.last_activity_ms) return a.last_activity_ms > b.last_activity_ms;
  const int by_title = QString::compare(a.title, b.title, Qt::CaseInsensitive);
  if (by_title != 0) return by_title < 0;
  return a.key < b.key;
}

bool same_item(const ConversationItem& a, const ConversationItem& b) {
  return a.key == b.key && a.title == b.title && a.is_group == b.is_group &&
         a.preview == b.preview && a.last_activity_ms == b.last_activity_ms &&
         a.unread == b.unread && a.verified == b.verified &&
         a.identity_changed == b.identity_changed && a.is_member == b.is_member;
}

QString members_text(std::size_t count) {
  return count == 1 ? QStringLiteral("1 member") : QStringLiteral("%1 members").arg(count);
}

}  // namespace

ConversationListModel::ConversationListModel(QObject* parent) : QAbstractListModel(parent) {}

std::vector<ConversationItem> ConversationListModel::from_core(
    const std::vector<client::ChatSummary>& chats, const std::vector<client::GroupView>& groups) {
  std::vector<ConversationItem> items;
  items.reserve(chats.size() + groups.size());
  for (const client::ChatSummary& chat : chats) {
    ConversationItem item;
    // Keyed as conversation_key(event) keys the same chat's events: by username, else by the
    // whole account id (shown shortened).
    item.key = chat.contact.username.empty() ? QString::fromStdString(chat.contact.account_id_hex)
                                             : QString::fromStdString(chat.contact.username);
    item.title = chat.contact.username.empty() ? item.key.left(kShortIdDigits) : item.key;
    item.is_group = false;
    if (chat.last_message)
      item.preview = preview_text(QString::fromStdString(chat.last_message->body));
    item.last_activity_ms = chat.last_activity_ms;
    item.unread = chat.unread;
    item.verified = chat.contact.verified;
    item.identity_changed = chat.contact.identity_changed;
    items.push_back(std::move(item));
  }
  for (const client::GroupView& group : groups) {
    ConversationItem item;
    item.key = QString::fromStdString(group.group_id_hex);
    item.title = QString::fromStdString(group.name);
    item.is_group = true;
    // GroupView carries no last message: the member count says something useful instead.
    item.preview = members_text(group.members.size());
    item.last_activity_ms = group.last_activity_ms;
    item.unread = group.unread;
    item.is_member = group.is_member;
    items.push_back(std::move(item));
  }
  return items;
}

void ConversationListModel::set_conversations(std::vector<ConversationItem> items) {
  std::stable_sort(items.begin(), items.end(), sorts_before);
  // One row per key: the first (newest) wins.
  std::vector<ConversationItem> wanted;
  wanted.reserve(items.size());
  for (ConversationItem& item : items) {
    const bool seen = std::any_of(wanted.begin(), wanted.end(),
                                  [&](const ConversationItem& w) { return w.key == item.key; });
    if (!seen) wanted.push_back(std::move(item));
  }
  auto is_wanted = [&](const QString& key) {
    return std::any_of(wanted.begin(), wanted.end(),
                       [&](const ConversationItem& w) { return w.key == key; });
  };

  // 1. Remove the rows whose key is gone, bottom up so the row numbers above stay valid.
  for (int row = static_cast<int>(items_.size()) - 1; row >= 0; --row) {
    if (is_wanted(items_[static_cast<std::size_t>(row)].key)) continue;
    beginRemoveRows(QModelIndex(), row, row);
    items_.erase(items_.begin() + row);
    endRemoveRows();
  }

  // 2. Walk the wanted order: rows above `target` are final; the wanted key is either further
  // down (move it up) or new (insert it). Either way it keeps or gets its own row.
  for (std::size_t target = 0; target < wanted.size(); ++target) {
    const int to = static_cast<int>(target);
    const int from = row_of(wanted[target].key);
    if (from < 0) {
      beginInsertRows(QModelIndex(), to, to);
      items_.insert(items_.begin() + to, std::move(wanted[target]));
      endInsertRows();
      continue;
    }
    if (from != to) {  // from > to: everything above `to` is already placed
      beginMoveRows(QModelIndex(), from, from, QModelIndex(), to);
      ConversationItem moving = std::move(items_[static_cast<std::size_t>(from)]);
      items_.erase(items_.begin() + from);
      items_.insert(items_.begin() + to, std::move(moving));
      endMoveRows();
    }
    ConversationItem& current = items_[target];
    if (!same_item(current, wanted[target])) {
      current = std::move(wanted[target]);
      const QModelIndex changed = index(to);
      emit dataChanged(changed, changed);
    }
  }
}

void ConversationListModel::note_message(const QString& key, const QString& title, bool is_group,
                                         const QString& preview, std::int64_t when_ms,
                                         bool count_unread) {
  int row = row_of(key);
  if (row < 0) {
    ConversationItem item;
    item.key = key;
    item.title = title.isEmpty() ? key : title;
    item.is_group = is_group;
    item.preview = preview_text(preview);
    item.last_activity_ms = when_ms;
    item.unread = count_unread ? 1 : 0;
    const auto at = std::find_if(items_.begin(), items_.end(), [&](const ConversationItem& other) {
      return sorts_before(item, other);
    });
    row = static_cast<int>(std::distance(items_.begin(), at));
    beginInsertRows(QModelIndex(), row, row);
    items_.insert(at, std::move(item));
    endInsertRows();
    return;
  }

  ConversationItem& item = items_[static_cast<std::size_t>(row)];
  if (!title.isEmpty()) item.title = title;  // a group renamed, a username learned
  item.preview = preview_text(preview);
  // A late message with an old sender clock does not push the conversation back down.
  item.last_activity_ms = std::max(item.last_activity_ms, when_ms);
  if (count_unread) ++item.unread;
  const QModelIndex changed = index(row);
  emit dataChanged(changed, changed);

  // Its new place: after every other row that still sorts before it.
  int to = 0;
  for (int other = 0; other < static_cast<int>(items_.size()); ++other) {
    if (other != row && sorts_before(items_[static_cast<std::size_t>(other)], item)) ++to;
  }
  if (to == row) return;
  // Qt's destination is the row before which it lands, counted before the move.
  beginMoveRows(QModelIndex(), row, row, QModelIndex(), to < row ? to : to + 1);
  ConversationItem moving = std::move(items_[static_cast<std::size_t>(row)]);
  items_.erase(items_.begin() + row);
  items_.insert(items_.begin() + to, std::move(moving));
  endMoveRows();
}

void ConversationListModel::mark_read(const QString& key) {
  const int row = row_of(key);
  if (row < 0) return;
  ConversationItem& item = items_[static_cast<std::size_t>(row)];
  if (item.unread == 0) return;
  item.unread = 0;
  const QModelIndex changed = index(row);
  emit dataChanged(changed, changed, {kUnreadRole});
}

void ConversationListModel::set_identity_changed(const QString& key, bool changed) {
  const int row = row_of(key);
  if (row < 0) return;
  ConversationItem& item = items_[static_cast<std::size_t>(row)];
  if (item.identity_changed == changed) return;
  item.identity_changed = changed;
  const QModelIndex at = index(row);
  emit dataChanged(at, at, {kIdentityChangedRole});
}

int ConversationListModel::row_of(const QString& key) const {
  for (std::size_t row = 0; row < items_.size(); ++row) {
    if (items_[row].key == key) return static_cast<int>(row);
  }
  return -1;
}

const ConversationItem* ConversationListModel::item(int row) const {
  if (row < 0 || row >= static_cast<int>(items_.size())) return nullptr;
  return &items_[static_cast<std::size_t>(row)];
}

std::uint32_t ConversationListModel::total_unread() const {
  std::uint32_t total = 0;
  for (const ConversationItem& item : items_) total += item.unread;
  return total;
}

int ConversationListModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid()) return 0;  // a flat list: no children
  return static_cast<int>(items_.size());
}

QVariant ConversationListModel::data(const QModelIndex& index, int role) const {
  const ConversationItem* entry = index.isValid() ? item(index.row()) : nullptr;
  if (entry == nullptr) return QVariant();
  switch (role) {
    case Qt::DisplayRole:
    case kTitleRole:
      return entry->title;
    case kKeyRole:
      return entry->key;
    case kIsGroupRole:
      return entry->is_group;
    case kPreviewRole:
      return entry->preview;
    case kLastActivityRole:
      return QVariant::fromValue<qint64>(entry->last_activity_ms);
    case kUnreadRole:
      return QVariant::fromValue<uint>(entry->unread);
    case kVerifiedRole:
      return entry->verified;
    case kIdentityChangedRole:
      return entry->identity_changed;
    case kIsMemberRole:
      return entry->is_member;
    default:
      return QVariant();
  }
}

QHash<int, QByteArray> ConversationListModel::roleNames() const {
  QHash<int, QByteArray> names = QAbstractListModel::roleNames();
  names.insert(kKeyRole, "key");
  names.insert(kTitleRole, "title");
  names.insert(kIsGroupRole, "isGroup");
  names.insert(kPreviewRole, "preview");
  names.insert(kLastActivityRole, "lastActivity");
  names.insert(kUnreadRole, "unread");
  names.insert(kVerifiedRole, "verified");
  names.insert(kIdentityChangedRole, "identityChanged");
  names.insert(kIsMemberRole, "isMember");
  return names;
}

}  // namespace parley::desktop
