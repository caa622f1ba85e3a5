// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The messages of the open conversation as a Qt list model (oldest first): what the chat view's
// bubbles show. Filled from the core's history()/group_history() and attachment(), then kept
// current by events (new messages, receipts) and transfer progress, matched by client message id.

#include <QAbstractListModel>
#include <QString>
#include <cstdint>
#include <optional>
#include <vector>

#include "parley/client/client.h"

namespace parley::desktop {

struct MessageItem {
  QString id;  // the client message id (hex): unique within a conversation and direction
  bool outgoing = false;
  bool system = false;  // a note ("alice changed the timer"), shown centred without a bubble
  QString author;       // groups: who wrote it (username or short id); empty in direct chats
  QString text;
  std::int64_t sent_ms = 0;
  std::int64_t received_ms = 0;
  client::MessageStatus status = client::MessageStatus::kPending;

  enum class FileState { kNone, kTransferring, kDone, kFailed };
  FileState file_state = FileState::kNone;
  QString file_name;
  std::uint64_t file_size = 0;
  QString file_path;  // the local plaintext, once there
  QString file_error;
  std::uint64_t progress_done = 0;  // ciphertext bytes; progress_total 0 until reported
  std::uint64_t progress_total = 0;
};

class MessageListModel : public QAbstractListModel {
  Q_OBJECT

 public:
  enum Role {
    kIdRole = Qt::UserRole + 1,
    kOutgoingRole,
    kSystemRole,
    kAuthorRole,
    kTextRole,
    kSentRole,       // qint64 ms
    kStatusRole,     // int(client::MessageStatus)
    kTicksRole,      // status_ticks() for outgoing, "" for incoming
    kTimeTextRole,   // time_label(sent)
    kFileStateRole,  // int(MessageItem::FileState)
    kFileNameRole,
    kFileSizeRole,  // qulonglong
    kFilePathRole,
    kFileErrorRole,
    kProgressRole,  // double 0..1, -1 when unknown
    kIsImageRole,   // a finished file that looks_like_image()
  };

  explicit MessageListModel(QObject* parent = nullptr);

  // `author` is the sender's display name for group messages ("" in direct chats).
  static MessageItem from_record(const client::MessageRecord& record,
                                 const std::optional<client::AttachmentView>& file,
                                 const QString& author);

  // Which conversation this model shows; clears the messages when it changes.
  void set_conversation(const QString& key, bool is_group);
  const QString& conversation() const { return conversation_; }
  bool is_group() const { return is_group_; }

  void set_messages(std::vector<MessageItem> items);
  // Inserts at the end, or updates the row with the same id and direction (keeping its transfer
  // progress when `item` has none, as a record read back from the store never has).
  void upsert(const MessageItem& item);
  // Moves an outgoing message's status forward (never back; kFailed only from kPending).
  // False when no row has the id or nothing changed.
  bool advance_status(const QString& id, client::MessageStatus status);
  // Transfer progress: an upload updates the outgoing row, a download the incoming one (else the
  // outgoing one: a file we sent from another device). A row without a file starts transferring.
  // False when no row has the id or nothing changed. dataChanged for that row only.
  bool set_progress(const QString& id, bool upload, std::uint64_t done, std::uint64_t total);
  // The attachment as the store knows it (pending: transferring). False when absent/unchanged.
  bool set_file(const QString& id, bool outgoing, const client::AttachmentView& file);

  int row_of(const QString& id, bool outgoing) const;  // -1 when absent
  const MessageItem* item(int row) const;

  int rowCount(const QModelIndex& parent = QModelIndex()) const override;
  QVariant data(const QModelIndex& index, int role) const override;  // DisplayRole: text
  QHash<int, QByteArray> roleNames() const override;

  // For time labels; tests fix it. Default: the system clock.
  void set_now_for_test(std::int64_t now_ms) { now_for_test_ms_ = now_ms; }

 private:
  std::int64_t now_ms() const;

  QString conversation_;
  bool is_group_ = false;
  std::vector<MessageItem> items_;
  std::int64_t now_for_test_ms_ = 0;
};

}  // namespace parley::desktop
