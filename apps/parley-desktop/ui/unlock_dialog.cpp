// SPDX-License-Identifier: AGPL-3.0-or-later
#include "ui/unlock_dialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include "core/client_bridge.h"
#include "core/dialog_input.h"
#include "parley/util/error_code.h"

namespace parley::desktop {

struct UnlockDialog::Ui {
  ClientBridge& bridge;
  std::filesystem::path home;
  QLineEdit* passphrase = nullptr;
  QPushButton* unlock = nullptr;
  QLabel* error = nullptr;

  Ui(ClientBridge& b, std::filesystem::path h) : bridge(b), home(std::move(h)) {}
};

UnlockDialog::UnlockDialog(ClientBridge& bridge, std::filesystem::path home, QWidget* parent)
    : QDialog(parent), ui_(std::make_unique<Ui>(bridge, std::move(home))) {
  setWindowTitle(tr("Unlock Parley"));
  setMinimumWidth(400);

  auto* intro = new QLabel(tr("Type the passphrase that protects your messages on this computer."));
  intro->setWordWrap(true);
  ui_->passphrase = new QLineEdit;
  ui_->passphrase->setObjectName(QStringLiteral("passphraseEdit"));
  ui_->passphrase->setEchoMode(QLineEdit::Password);
  ui_->error = new QLabel;
  ui_->error->setObjectName(QStringLiteral("errorLabel"));
  ui_->error->setWordWrap(true);
  ui_->error->setTextFormat(Qt::PlainText);
  ui_->error->setStyleSheet(QStringLiteral("color: #b3261e;"));

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel);
  ui_->unlock = buttons->addButton(tr("Unlock"), QDialogButtonBox::AcceptRole);
  ui_->unlock->setObjectName(QStringLiteral("unlockButton"));
  ui_->unlock->setDefault(true);
  // Only a successful open() accepts (below), so the box's accepted() stays unconnected.
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

  auto* form = new QFormLayout;
  form->addRow(tr("Passphrase:"), ui_->passphrase);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(intro);
  layout->addLayout(form);
  layout->addWidget(ui_->error);
  layout->addStretch();
  layout->addWidget(buttons);

  connect(ui_->unlock, &QPushButton::clicked, this, [this] {
    ui_->passphrase->setEnabled(false);
    ui_->unlock->setEnabled(false);
    ui_->error->setText(tr("Unlocking…"));
    BridgeOptions options;
    options.home = ui_->home;
    options.passphrase = ui_->passphrase->text().toStdString();
    // Deriving the key (Argon2id) takes a moment, so it runs on the worker like everything else.
    ui_->bridge.open(std::move(options), this, [this](const Status& status) {
      if (status.ok()) {
        ui_->passphrase->clear();
        accept();
        return;
      }
      // The bridge stays closed after a failed open, so another attempt is possible.
      ui_->error->setText(status.code() == ErrorCode::kWrongDatabaseKey
                              ? tr("Wrong passphrase. Try again.")
                              : error_sentence(status));
      ui_->passphrase->setEnabled(true);
      ui_->unlock->setEnabled(true);
      ui_->passphrase->selectAll();
      ui_->passphrase->setFocus();
    });
  });
}

UnlockDialog::~UnlockDialog() = default;

}  // namespace parley::desktop
