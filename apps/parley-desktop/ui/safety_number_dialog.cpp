// SPDX-License-Identifier: AGPL-3.0-or-later
#include "ui/safety_number_dialog.h"

#include <QByteArray>
#include <QDialogButtonBox>
#include <QFont>
#include <QFontDatabase>
#include <QLabel>
#include <QPixmap>
#include <QPushButton>
#include <QVBoxLayout>

#include "core/client_bridge.h"
#include "core/dialog_input.h"
#include "core/presentation.h"
#include "core/qr_image.h"

namespace parley::desktop {

struct SafetyNumberDialog::Ui {
  ClientBridge& bridge;
  std::string username;
  QLabel* warning = nullptr;
  QLabel* digits = nullptr;
  QLabel* qr = nullptr;
  QPushButton* verify = nullptr;
  QLabel* status = nullptr;

  Ui(ClientBridge& b, std::string name) : bridge(b), username(std::move(name)) {}
};

SafetyNumberDialog::SafetyNumberDialog(ClientBridge& bridge, const QString& username,
                                       bool identity_changed, QWidget* parent)
    : QDialog(parent), ui_(std::make_unique<Ui>(bridge, username.toStdString())) {
  setWindowTitle(tr("Verify %1").arg(username));
  setMinimumWidth(420);
  Ui& ui = *ui_;

  auto* intro = new QLabel(
      tr("Compare these numbers with the ones on %1's device, in person or over a call you "
         "trust, or scan one code with the other device. If they match, nobody is in between.")
          .arg(username));
  intro->setTextFormat(Qt::PlainText);
  intro->setWordWrap(true);

  // The caller knows from the conversation list whether the key changed since the last
  // verification; the dialog only says so.
  ui.warning = new QLabel(
      tr("%1's safety number has changed. This happens when they reinstall or change phones, "
         "but could also mean someone is in between. Compare again before you trust it.")
          .arg(username));
  ui.warning->setTextFormat(Qt::PlainText);
  ui.warning->setWordWrap(true);
  ui.warning->setStyleSheet(QStringLiteral("color: #b3261e; font-weight: bold;"));
  ui.warning->setVisible(identity_changed);

  ui.digits = new QLabel;
  ui.digits->setObjectName(QStringLiteral("digitsLabel"));
  QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
  mono.setPointSizeF(mono.pointSizeF() * 1.4);
  ui.digits->setFont(mono);
  ui.digits->setAlignment(Qt::AlignCenter);
  ui.digits->setTextInteractionFlags(Qt::TextSelectableByMouse);
  ui.digits->setTextFormat(Qt::PlainText);
  ui.qr = new QLabel(tr("Loading…"));
  ui.qr->setObjectName(QStringLiteral("qrLabel"));
  ui.qr->setAlignment(Qt::AlignCenter);

  ui.status = new QLabel;
  ui.status->setObjectName(QStringLiteral("statusLabel"));
  ui.status->setWordWrap(true);
  ui.status->setTextFormat(Qt::PlainText);
  ui.status->setAlignment(Qt::AlignCenter);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
  ui.verify = buttons->addButton(tr("Mark as verified"), QDialogButtonBox::ActionRole);
  ui.verify->setObjectName(QStringLiteral("verifyButton"));
  ui.verify->setEnabled(false);  // until the numbers are on screen
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(intro);
  layout->addWidget(ui.warning);
  layout->addWidget(ui.digits);
  layout->addWidget(ui.qr);
  layout->addWidget(ui.status);
  layout->addWidget(buttons);

  connect(ui.verify, &QPushButton::clicked, this, [this] {
    ui_->verify->setEnabled(false);
    ui_->bridge.call<Status>(
        this,
        [username = ui_->username](client::Client& client) {
          return client.mark_verified(username);
        },
        [this](Status status) {
          if (!status.ok()) {
            ui_->status->setText(error_sentence(status));
            ui_->verify->setEnabled(true);
            return;
          }
          ui_->warning->setVisible(false);  // mark_verified clears the change warning
          ui_->status->setText(tr("Verified"));
          emit verified();
        });
  });

  ui.bridge.call<Result<client::SafetyNumber>>(
      this,
      [username = ui.username](client::Client& client) { return client.safety_number(username); },
      [this](Result<client::SafetyNumber> number) {
        if (!number.ok()) {
          ui_->qr->clear();
          ui_->status->setText(error_sentence(number.status()));
          return;
        }
        ui_->digits->setText(safety_number_lines(number->digits));
        const QByteArray scannable(reinterpret_cast<const char*>(number->scannable.data()),
                                   static_cast<qsizetype>(number->scannable.size()));
        const QImage image = qr_image(scannable);
        if (image.isNull()) {
          ui_->qr->setText(tr("(No QR code: compare the numbers.)"));
        } else {
          ui_->qr->setPixmap(QPixmap::fromImage(image));
        }
        // Already verified (and unchanged since): nothing left to do but look.
        const bool done = number->verified && ui_->warning->isHidden();
        ui_->verify->setEnabled(!done);
        if (done) ui_->status->setText(tr("Verified"));
        emit loaded();
      });
}

SafetyNumberDialog::~SafetyNumberDialog() = default;

QString SafetyNumberDialog::digits() const {
  return ui_->digits->text();
}

}  // namespace parley::desktop
