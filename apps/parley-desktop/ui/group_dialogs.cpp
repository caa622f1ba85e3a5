// SPDX-License-Identifier: AGPL-3.0-or-later
#include "ui/group_dialogs.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>
#include <functional>
#include <string>

#include "core/client_bridge.h"
#include "core/dialog_input.h"

namespace parley::desktop {

namespace {

QLabel* make_error_label() {
  auto* label = new QLabel;
  label->setObjectName(QStringLiteral("errorLabel"));
  label->setWordWrap(true);
  label->setTextFormat(Qt::PlainText);
  label->setStyleSheet(QStringLiteral("color: #b3261e;"));
  return label;
}

// "alice (admin)"; a member without a username by the start of their account id.
QString member_text(const client::GroupMemberView& member) {
  QString text = member.username.empty()
                     ? QObject::tr("account %1…")
                           .arg(QString::fromStdString(member.account_id_hex.substr(0, 12)))
                     : QString::fromStdString(member.username);
  if (member.admin) text += QObject::tr(" (admin)");
  return text;
}

}  // namespace

// ---- NewGroupDialog
// ------------------------------------------------------------------------------

struct NewGroupDialog::Ui {
  ClientBridge& bridge;
  QLineEdit* name = nullptr;
  QPlainTextEdit* members = nullptr;
  QPushButton* create = nullptr;
  QLabel* error = nullptr;

  explicit Ui(ClientBridge& b) : bridge(b) {}
};

NewGroupDialog::NewGroupDialog(ClientBridge& bridge, QWidget* parent)
    : QDialog(parent), ui_(std::make_unique<Ui>(bridge)) {
  setWindowTitle(tr("New group"));
  setMinimumWidth(420);
  Ui& ui = *ui_;

  ui.name = new QLineEdit;
  ui.name->setObjectName(QStringLiteral("nameEdit"));
  ui.members = new QPlainTextEdit;
  ui.members->setObjectName(QStringLiteral("membersEdit"));
  ui.members->setPlaceholderText(tr("Usernames, separated by commas, spaces or new lines"));
  ui.members->setTabChangesFocus(true);
  ui.error = make_error_label();

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel);
  ui.create = buttons->addButton(tr("Create group"), QDialogButtonBox::AcceptRole);
  ui.create->setObjectName(QStringLiteral("createButton"));
  ui.create->setDefault(true);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

  auto* form = new QFormLayout;
  form->addRow(tr("Name:"), ui.name);
  form->addRow(tr("Members:"), ui.members);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(ui.error);
  layout->addWidget(buttons);

  connect(ui.create, &QPushButton::clicked, this, [this] {
    // The core checks the name and every username; their sentences are shown as they come.
    const std::string name = ui_->name->text().trimmed().toStdString();
    const std::vector<std::string> usernames = split_usernames(ui_->members->toPlainText());
    ui_->create->setEnabled(false);
    ui_->error->clear();
    ui_->bridge.call<Result<client::GroupView>>(
        this,
        [name, usernames](client::Client& client) { return client.create_group(name, usernames); },
        [this](Result<client::GroupView> group) {
          if (!group.ok()) {
            ui_->error->setText(error_sentence(group.status()));
            ui_->create->setEnabled(true);
            return;
          }
          emit created(QString::fromStdString(group->group_id_hex),
                       QString::fromStdString(group->name));
          accept();
        });
  });
}

NewGroupDialog::~NewGroupDialog() = default;

// ---- GroupMembersDialog
// --------------------------------------------------------------------------

struct GroupMembersDialog::Ui {
  ClientBridge& bridge;
  std::string group_id;
  QString group_name;
  bool is_admin = false;   // from the last group_info(); the core still checks every change
  bool is_member = false;  //
  bool busy = true;        // loading or changing: no second change meanwhile

  QListWidget* members = nullptr;
  QLineEdit* add_edit = nullptr;
  QPushButton* add = nullptr;
  QPushButton* remove = nullptr;
  QPushButton* leave = nullptr;
  QLabel* error = nullptr;

  Ui(ClientBridge& b, std::string id) : bridge(b), group_id(std::move(id)) {}

  void update_buttons() {
    add_edit->setEnabled(!busy && is_admin);
    add->setEnabled(!busy && is_admin);
    remove->setEnabled(!busy && is_admin && members->currentRow() >= 0);
    leave->setEnabled(!busy && is_member);
  }
};

GroupMembersDialog::GroupMembersDialog(ClientBridge& bridge, const QString& group_id_hex,
                                       QWidget* parent)
    : QDialog(parent), ui_(std::make_unique<Ui>(bridge, group_id_hex.toStdString())) {
  setWindowTitle(tr("Group members"));
  setMinimumSize(380, 420);
  Ui& ui = *ui_;

  ui.members = new QListWidget;
  ui.members->setObjectName(QStringLiteral("memberList"));
  ui.add_edit = new QLineEdit;
  ui.add_edit->setObjectName(QStringLiteral("addEdit"));
  ui.add_edit->setPlaceholderText(tr("Usernames to add, separated by commas"));
  ui.add = new QPushButton(tr("Add"));
  ui.add->setObjectName(QStringLiteral("addButton"));
  ui.remove = new QPushButton(tr("Remove selected"));
  ui.remove->setObjectName(QStringLiteral("removeButton"));
  ui.leave = new QPushButton(tr("Leave group"));
  ui.leave->setObjectName(QStringLiteral("leaveButton"));
  ui.error = make_error_label();
  ui.update_buttons();

  auto* add_row = new QHBoxLayout;
  add_row->addWidget(ui.add_edit, 1);
  add_row->addWidget(ui.add);
  auto* action_row = new QHBoxLayout;
  action_row->addWidget(ui.remove);
  action_row->addStretch();
  action_row->addWidget(ui.leave);
  auto* note = new QLabel(tr("Only admins add and remove members, from their first device."));
  note->setWordWrap(true);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(ui.members, 1);
  layout->addLayout(add_row);
  layout->addLayout(action_row);
  layout->addWidget(note);
  layout->addWidget(ui.error);
  layout->addWidget(buttons);

  // Loads (again) what the core knows about the group and shows it.
  auto reload = std::make_shared<std::function<void()>>();
  *reload = [this] {
    ui_->busy = true;
    ui_->update_buttons();
    ui_->bridge.call<Result<client::GroupView>>(
        this, [id = ui_->group_id](client::Client& client) { return client.group_info(id); },
        [this](Result<client::GroupView> group) {
          ui_->busy = false;
          if (!group.ok()) {
            ui_->is_admin = ui_->is_member = false;
            ui_->error->setText(error_sentence(group.status()));
            ui_->update_buttons();
            return;
          }
          ui_->group_name = QString::fromStdString(group->name);
          setWindowTitle(tr("Members of %1").arg(ui_->group_name));
          ui_->is_admin = group->is_admin;
          ui_->is_member = group->is_member;
          ui_->members->clear();
          for (const auto& member : group->members) {
            auto* item = new QListWidgetItem(member_text(member));
            // remove_group_member() takes a username, or the account id for a member without.
            item->setData(Qt::UserRole,
                          QString::fromStdString(member.username.empty() ? member.account_id_hex
                                                                         : member.username));
            ui_->members->addItem(item);
          }
          if (!group->is_member) ui_->error->setText(tr("You are no longer in this group."));
          ui_->update_buttons();
        });
  };

  // Every change: one core call, then changed() and a fresh list; on failure the core's sentence.
  auto change = [this, reload](std::function<Status(client::Client&)> job) {
    ui_->busy = true;
    ui_->error->clear();
    ui_->update_buttons();
    ui_->bridge.call<Status>(this, std::move(job), [this, reload](Status status) {
      if (!status.ok()) {
        ui_->busy = false;
        ui_->error->setText(error_sentence(status));
        ui_->update_buttons();
        return;
      }
      emit changed();
      (*reload)();
    });
  };

  connect(ui.members, &QListWidget::currentRowChanged, this, [this] { ui_->update_buttons(); });
  auto add_members = [this, change] {
    const std::vector<std::string> usernames = split_usernames(ui_->add_edit->text());
    if (usernames.empty()) return;
    ui_->add_edit->clear();
    change([id = ui_->group_id, usernames](client::Client& client) {
      return client.add_group_members(id, usernames);
    });
  };
  connect(ui.add, &QPushButton::clicked, this, add_members);
  connect(ui.add_edit, &QLineEdit::returnPressed, this, add_members);
  connect(ui.remove, &QPushButton::clicked, this, [this, change] {
    QListWidgetItem* item = ui_->members->currentItem();
    if (!item) return;
    const std::string who = item->data(Qt::UserRole).toString().toStdString();
    change([id = ui_->group_id, who](client::Client& client) {
      return client.remove_group_member(id, who);
    });
  });
  connect(ui.leave, &QPushButton::clicked, this, [this, change] {
    // Plain text: the name was chosen by another member and must not be read as markup.
    QMessageBox confirm(
        QMessageBox::Question, tr("Leave group"),
        tr("Leave %1? You will no longer get its messages, and only an admin can add you again.")
            .arg(ui_->group_name),
        QMessageBox::Yes | QMessageBox::No, this);
    confirm.setTextFormat(Qt::PlainText);
    confirm.setDefaultButton(QMessageBox::No);
    if (confirm.exec() != QMessageBox::Yes) return;
    change([id = ui_->group_id](client::Client& client) { return client.leave_group(id); });
  });

  (*reload)();
}

GroupMembersDialog::~GroupMembersDialog() = default;

}  // namespace parley::desktop
