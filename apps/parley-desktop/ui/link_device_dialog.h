// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// On the primary: "Link a device". Shows a link code (text and QR code) from
// Client::create_link_code() until it expires, and says which device id the new device got when
// the core reports kDeviceLinked. The proof from the new device is handled by the bridge's
// listen() (the main window keeps it listening), not by a blocking wait_for_link() that would
// hold the worker; closing the dialog only stops showing the code.
//
// Object names: "codeLabel", "qrLabel", "statusLabel".

#include <QDialog>
#include <memory>

namespace parley::desktop {

class ClientBridge;

class LinkDeviceDialog : public QDialog {
  Q_OBJECT

 public:
  explicit LinkDeviceDialog(ClientBridge& bridge, QWidget* parent = nullptr);
  ~LinkDeviceDialog() override;

 signals:
  void linked(quint32 device_id);

 private:
  struct Ui;
  std::unique_ptr<Ui> ui_;
};

}  // namespace parley::desktop
