// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Groups: creating one (a name and the members' usernames), and the members dialog (the list with
// admins marked; add and remove members when we are an admin; leave). Changes go through the
// core, which queues them like messages (Client::create_group and friends).
//
// NewGroupDialog object names: "nameEdit", "membersEdit" (usernames separated by commas, spaces
// or new lines), "createButton", "errorLabel".
// GroupMembersDialog object names: "memberList", "addEdit", "addButton", "removeButton",
// "leaveButton", "errorLabel".

#include <QDialog>
#include <memory>

namespace parley::desktop {

class ClientBridge;

class NewGroupDialog : public QDialog {
  Q_OBJECT

 public:
  explicit NewGroupDialog(ClientBridge& bridge, QWidget* parent = nullptr);
  ~NewGroupDialog() override;

 signals:
  void created(const QString& group_id_hex, const QString& name);  // then the dialog accepts

 private:
  struct Ui;
  std::unique_ptr<Ui> ui_;
};

class GroupMembersDialog : public QDialog {
  Q_OBJECT

 public:
  GroupMembersDialog(ClientBridge& bridge, const QString& group_id_hex, QWidget* parent = nullptr);
  ~GroupMembersDialog() override;

 signals:
  void changed();  // members were added or removed, or we left

 private:
  struct Ui;
  std::unique_ptr<Ui> ui_;
};

}  // namespace parley::desktop
