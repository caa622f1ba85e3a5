// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// First run: a new account on a server (with proof-of-work progress) or this computer as a new
// device of an existing account (a link code from the primary, typed or pasted), and the
// passphrase that encrypts the local store. Accepted once the account exists and the bridge is
// open on it; the network work runs on the bridge's worker, so the dialog stays responsive and
// can be cancelled.
//
// Object names (for tests and accessibility): "serverEdit", "trustEdit" (certificate pin, 64 hex
// digits, or a CA file path; empty: the system's trust store), "usernameEdit", "passphraseEdit",
// "passphraseRepeatEdit", "modeTabs" (tab 0 create, tab 1 link), "linkCodeEdit", "createButton",
// "linkButton", "powProgress" (QProgressBar), "errorLabel".

#include <QDialog>
#include <filesystem>
#include <memory>

namespace parley::desktop {

class ClientBridge;

class FirstRunDialog : public QDialog {
  Q_OBJECT

 public:
  FirstRunDialog(ClientBridge& bridge, std::filesystem::path home, QWidget* parent = nullptr);
  ~FirstRunDialog() override;

  // Prefills the server field ("host:port") and trust field, e.g. from --server/--ca.
  void set_server(const QString& server, const QString& trust);

 private:
  struct Ui;
  std::unique_ptr<Ui> ui_;
};

}  // namespace parley::desktop
