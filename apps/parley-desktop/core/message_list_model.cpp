// SPDX-License-Identifier: AGPL-3.0-or-later
#include "core/message_list_model.h"

#include <QDateTime>
#include <algorithm>

#include "core/presentation.h"
#include "parley/util/encoding.h"

namespace parley::desktop {

namespace {

using FileState = MessageItem::FileState;

// Mirrors the CLI (apps/parley/message_view.cpp add_file): a pending attachment is on its way
// (uploading or downloading), done has its plaintext at local_path, failed says why.
void apply_file(MessageItem& item, const client::AttachmentView& file) {
  switch (file.state) {
    case client::AttachmentView::State::kPending:
      item.file_state = FileState::kTransferring;
      break;
    case client::AttachmentView::State::kDone:
      item.file_state = FileState::kDone;
      break;
    case client::AttachmentView::State::kFailed:
      item.file_state = FileState::kFailed;
      break;
  }
  item.file_name = QString::fromStdString(file.file_name);
  item.file_size = file.size;
  item.file_path = QString::fromStdString(file.local_path);
  item.file_error = file.state == client::AttachmentView::State::kFailed
                        ? QString::fromStdString(file.error)
                        : QString();
}

bool same_file(const MessageItem& a, const MessageItem& b) {
  return a.file_state == b.file_state && a.file_name == b.file_name && a.file_size == b.file_size &&
         a.file_path == b.file_path && a.file_error == b.file_error;
}

// kPending < kSent < kDelivered < kRead; kFailed stands apart (only a pending message fails).
bool may_advance(client::MessageStatus from, client::MessageStatus to) {
  using client::MessageStatus;
  if (from == MessageStatus::kFailed) return false;  // terminal
  if (to == MessageStatus::kFailed) return from == MessageStatus::kPending;
  return static_cast<int>(to) > static_cast<int>(from);
}

}  // namespace

MessageListModel::MessageListModel(QObject* parent) : QAbstractListModel(parent) {}

MessageItem MessageListModel::from_record(const client::MessageRecord& record,
                                          const std::optional<client::AttachmentView>& file,
                                          const QString& author) {
  MessageItem item;
  item.id = QString::fromStdString(hex_encode(record.client_message_id));
  item.outgoing = record.direction == client::MessageDirection::kOutgoing;
  item.system = record.kind == client::MessageKind::kSystem;
  item.author = author;
  item.text = QString::fromStdString(record.body);
  item.sent_ms = record.sent_ms;
  item.received_ms = record.received_ms;
  item.status = record.status;
  if (file) apply_file(item, *file);
  return item;
}

void MessageListModel::set_conversation(const QString& key, bool is_group) {
  if (key == conversation_ && is_group == is_group_) return;
  beginResetModel();
  conversation_ = key;
  is_group_ = is_group;
  items_.clear();
  endResetModel();
}

void MessageListModel::set_messages(std::vector<MessageItem> items) {
  beginResetModel();
  items_ = std::move(items);
  endResetModel();
}

void MessageListModel::upsert(const MessageItem& item) {
  const int row = row_of(item.id, item.outgoing);
  if (row < 0) {
    const int at = static_cast<int>(items_.size());
    beginInsertRows(QModelIndex(), at, at);
    items_.push_back(item);
    endInsertRows();
    return;
  }
  MessageItem& current = items_[static_cast<std::size_t>(row)];
  MessageItem replacement = item;
  // A record read back from the store knows nothing of the live transfer: keep its progress.
  if (replacement.progress_total == 0) {
    replacement.progress_done = current.progress_done;
    replacement.progress_total = current.progress_total;
  }
  current = std::move(replacement);
  const QModelIndex changed = index(row);
  emit dataChanged(changed, changed);
}

bool MessageListModel::advance_status(const QString& id, client::MessageStatus status) {
  const int row = row_of(id, true);
  if (row < 0) return false;
  MessageItem& item = items_[static_cast<std::size_t>(row)];
  if (!may_advance(item.status, status)) return false;
  item.status = status;
  const QModelIndex changed = index(row);
  emit dataChanged(changed, changed, {kStatusRole, kTicksRole});
  return true;
}

bool MessageListModel::set_progress(const QString& id, bool upload, std::uint64_t done,
                                    std::uint64_t total) {
  // An upload belongs to a message we sent, a download to one we received, except a file we
  // sent from another device, which this device downloads: fall back to the other direction.
  int row = row_of(id, upload);
  if (row < 0) row = row_of(id, !upload);
  if (row < 0) return false;
  MessageItem& item = items_[static_cast<std::size_t>(row)];
  const bool starts = item.file_state == FileState::kNone;
  if (!starts && item.progress_done == done && item.progress_total == total) return false;
  item.progress_done = done;
  item.progress_total = total;
  if (starts) item.file_state = FileState::kTransferring;
  const QModelIndex changed = index(row);
  emit dataChanged(changed, changed,
                   starts ? QList<int>{kProgressRole, kFileStateRole} : QList<int>{kProgressRole});
  return true;
}

bool MessageListModel::set_file(const QString& id, bool outgoing,
                                const client::AttachmentView& file) {
  const int row = row_of(id, outgoing);
  if (row < 0) return false;
  MessageItem& item = items_[static_cast<std::size_t>(row)];
  MessageItem updated = item;
  apply_file(updated, file);
  if (same_file(item, updated)) return false;
  item = std::move(updated);
  const QModelIndex changed = index(row);
  emit dataChanged(changed, changed,
                   {kFileStateRole, kFileNameRole, kFileSizeRole, kFilePathRole, kFileErrorRole,
                    kProgressRole, kIsImageRole});
  return true;
}

int MessageListModel::row_of(const QString& id, bool outgoing) const {
  // Newest rows are the likely targets of receipts and progress: search from the end.
  for (std::size_t row = items_.size(); row-- > 0;) {
    if (items_[row].outgoing == outgoing && items_[row].id == id) return static_cast<int>(row);
  }
  return -1;
}

const MessageItem* MessageListModel::item(int row) const {
  if (row < 0 || row >= static_cast<int>(items_.size())) return nullptr;
  return &items_[static_cast<std::size_t>(row)];
}

int MessageListModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid()) return 0;  // a flat list: no children
  return static_cast<int>(items_.size());
}

QVariant MessageListModel::data(const QModelIndex& index, int role) const {
  const MessageItem* entry = index.isValid() ? item(index.row()) : nullptr;
  if (entry == nullptr) return QVariant();
  switch (role) {
    case Qt::DisplayRole:
    case kTextRole:
      return entry->text;
    case kIdRole:
      return entry->id;
    case kOutgoingRole:
      return entry->outgoing;
    case kSystemRole:
      return entry->system;
    case kAuthorRole:
      return entry->author;
    case kSentRole:
      return QVariant::fromValue<qint64>(entry->sent_ms);
    case kStatusRole:
      return static_cast<int>(entry->status);
    case kTicksRole:
      return entry->outgoing ? status_ticks(entry->status) : QString();
    case kTimeTextRole:
      return time_label(entry->sent_ms, now_ms());
    case kFileStateRole:
      return static_cast<int>(entry->file_state);
    case kFileNameRole:
      return entry->file_name;
    case kFileSizeRole:
      return QVariant::fromValue<qulonglong>(entry->file_size);
    case kFilePathRole:
      return entry->file_path;
    case kFileErrorRole:
      return entry->file_error;
    case kProgressRole:
      if (entry->progress_total == 0) return -1.0;
      return std::min(1.0, static_cast<double>(entry->progress_done) /
                               static_cast<double>(entry->progress_total));
    case kIsImageRole:
      return entry->file_state == FileState::kDone && !entry->file_path.isEmpty() &&
             looks_like_image(entry->file_name);
    default:
      return QVariant();
  }
}

QHash<int, QByteArray> MessageListModel::roleNames() const {
  QHash<int, QByteArray> names = QAbstractListModel::roleNames();
  names.insert(kIdRole, "id");
  names.insert(kOutgoingRole, "outgoing");
  names.insert(kSystemRole, "system");
  names.insert(kAuthorRole, "author");
  names.insert(kTextRole, "text");
  names.insert(kSentRole, "sent");
  names.insert(kStatusRole, "status");
  names.insert(kTicksRole, "ticks");
  names.insert(kTimeTextRole, "timeText");
  names.insert(kFileStateRole, "fileState");
  names.insert(kFileNameRole, "fileName");
  names.insert(kFileSizeRole, "fileSize");
  names.insert(kFilePathRole, "filePath");
  names.insert(kFileErrorRole, "fileError");
  names.insert(kProgressRole, "progress");
  names.insert(kIsImageRole, "isImage");
  return names;
}

std::int64_t MessageListModel::now_ms() const {
  return now_for_test_ms_ != 0 ? now_for_test_ms_ : QDateTime::currentMSecsSinceEpoch();
}

}  // namespace parley::desktop
