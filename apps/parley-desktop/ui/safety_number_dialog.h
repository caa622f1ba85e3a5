// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Verifying a contact: the 60-digit safety number (12 groups of 5) and its QR code, the same on
// both devices, with "Mark as verified" (Client::mark_verified). Says when the contact is
// already verified, and warns when their key changed since the last verification.
//
// Object names: "digitsLabel", "qrLabel", "verifyButton", "statusLabel".

#include <QDialog>
#include <memory>

namespace parley::desktop {

class ClientBridge;

class SafetyNumberDialog : public QDialog {
  Q_OBJECT

 public:
  SafetyNumberDialog(ClientBridge& bridge, const QString& username, bool identity_changed,
                     QWidget* parent = nullptr);
  ~SafetyNumberDialog() override;

  QString digits() const;  // the digits as shown (empty until loaded)

 signals:
  void loaded();    // the digits and QR code are on screen
  void verified();  // the contact was marked verified

 private:
  struct Ui;
  std::unique_ptr<Ui> ui_;
};

}  // namespace parley::desktop
