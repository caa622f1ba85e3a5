// SPDX-License-Identifier: AGPL-3.0-or-later
#include "ui/link_device_dialog.h"

#include <QClipboard>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QFont>
#include <QFontDatabase>
#include <QGuiApplication>
#include <QLabel>
#include <QLocale>
#include <QPixmap>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>

#include "core/client_bridge.h"
#include "core/dialog_input.h"
#include "core/qr_image.h"

namespace parley::desktop {

namespace {

// The dialog stops offering a code after this long even if the server would accept it longer.
constexpr qint64 kMaxShownMs = 10 * 60 * 1000;

}  // namespace

struct LinkDeviceDialog::Ui {
  ClientBridge& bridge;
  bool waiting = false;  // a code is on screen and no device has joined with it yet
  QLabel* code = nullptr;
  QLabel* qr = nullptr;
  QLabel* status = nullptr;
  QPushButton* copy = nullptr;
  QTimer expiry;

  explicit Ui(ClientBridge& b) : bridge(b) {}

  void stop_showing_code(const QString& why) {
    waiting = false;
    expiry.stop();
    code->clear();
    qr->clear();
    copy->setEnabled(false);
    status->setText(why);
  }
};

LinkDeviceDialog::LinkDeviceDialog(ClientBridge& bridge, QWidget* parent)
    : QDialog(parent), ui_(std::make_unique<Ui>(bridge)) {
  setWindowTitle(tr("Link a device"));
  setMinimumWidth(440);
  Ui& ui = *ui_;

  auto* intro = new QLabel(
      tr("On the new computer, choose \"Link to an existing account\" and type this code, or "
         "scan the QR code. Anyone with the code can join your account until it expires: show "
         "it to nobody else."));
  intro->setWordWrap(true);

  ui.code = new QLabel;
  ui.code->setObjectName(QStringLiteral("codeLabel"));
  QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
  mono.setPointSizeF(mono.pointSizeF() * 1.6);
  ui.code->setFont(mono);
  ui.code->setAlignment(Qt::AlignCenter);
  ui.code->setTextFormat(Qt::PlainText);
  ui.code->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
  ui.qr = new QLabel;
  ui.qr->setObjectName(QStringLiteral("qrLabel"));
  ui.qr->setAlignment(Qt::AlignCenter);
  ui.status = new QLabel(tr("Asking the server for a code…"));
  ui.status->setObjectName(QStringLiteral("statusLabel"));
  ui.status->setTextFormat(Qt::PlainText);
  ui.status->setWordWrap(true);
  ui.status->setAlignment(Qt::AlignCenter);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
  ui.copy = buttons->addButton(tr("Copy code"), QDialogButtonBox::ActionRole);
  ui.copy->setEnabled(false);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(ui.copy, &QPushButton::clicked, this,
          [this] { QGuiApplication::clipboard()->setText(ui_->code->text()); });

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(intro);
  layout->addWidget(ui.code);
  layout->addWidget(ui.qr);
  layout->addWidget(ui.status);
  layout->addWidget(buttons);

  ui.expiry.setSingleShot(true);
  connect(&ui.expiry, &QTimer::timeout, this, [this] {
    ui_->stop_showing_code(
        tr("The code expired. Close this window and open it again for a new "
           "one."));
  });

  // The new device's proof arrives as a message. We do not call Client::wait_for_link(): it
  // would hold the bridge's only worker for up to ten minutes, and every other job (sending,
  // loading a chat) would wait behind it. create_link_code() leaves the core expecting the
  // proof, and the bridge's listen() between jobs handles it like wait_for_link() would (checks
  // the secret, signs the new device list) and reports kDeviceLinked. The main window keeps the
  // bridge listening; a device that joins after this dialog closed is still linked, and the main
  // window sees the same event.
  connect(&bridge, &ClientBridge::clientEvent, this, [this](const client::Event& event) {
    if (event.kind != client::Event::Kind::kDeviceLinked || !ui_->waiting) return;
    const quint32 device = event.device_id;
    ui_->stop_showing_code(tr("Device %1 linked").arg(device));
    emit linked(device);
  });

  bridge.call<Result<client::LinkCode>>(
      this, [](client::Client& client) { return client.create_link_code(); },
      [this](Result<client::LinkCode> code) {
        if (!code.ok()) {
          ui_->status->setText(error_sentence(code.status()));
          return;
        }
        const QString text = QString::fromStdString(code->text);
        ui_->code->setText(text);
        const QImage image = qr_image(text.toUtf8());
        if (!image.isNull()) ui_->qr->setPixmap(QPixmap::fromImage(image));
        ui_->copy->setEnabled(true);
        ui_->waiting = true;
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        const qint64 shown_ms = std::clamp<qint64>(code->expires_ms - now, 0, kMaxShownMs);
        ui_->expiry.start(static_cast<int>(shown_ms));
        ui_->status->setText(
            tr("Waiting for the new device… The code works until %1.")
                .arg(QLocale().toString(QDateTime::currentDateTime().addMSecs(shown_ms).time(),
                                        QLocale::ShortFormat)));
      });
}

LinkDeviceDialog::~LinkDeviceDialog() = default;

}  // namespace parley::desktop
