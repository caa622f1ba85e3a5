// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Network settings (Client::network_settings / set_network_settings): relays (paste a
// parley://relay link; listed by name and host, removable), a SOCKS5 or HTTP proxy
// ("socks5://…" or "http://…"), extra endpoints ("host:port", one per line), the TLS name and
// DNS over HTTPS. Save validates in the core and shows its sentence when something is wrong.
// Also the notification preference (show message text or only "New message").
//
// Object names: "relayList", "relayLinkEdit", "addRelayButton", "removeRelayButton",
// "proxyEdit", "endpointsEdit", "tlsNameEdit", "dohEdit", "previewsCheck", "saveButton",
// "errorLabel".

#include <QDialog>
#include <memory>

namespace parley::desktop {

class ClientBridge;

class SettingsDialog : public QDialog {
  Q_OBJECT

 public:
  SettingsDialog(ClientBridge& bridge, bool show_previews, QWidget* parent = nullptr);
  ~SettingsDialog() override;

  bool show_previews() const;  // the checkbox, read after the dialog is accepted

 private:
  struct Ui;
  std::unique_ptr<Ui> ui_;
};

}  // namespace parley::desktop
