// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Asks for the passphrase of a home that has one and opens the bridge with it. A wrong
// passphrase says so and asks again; accepted once the store is open.
//
// Object names: "passphraseEdit", "unlockButton", "errorLabel".

#include <QDialog>
#include <filesystem>
#include <memory>

namespace parley::desktop {

class ClientBridge;

class UnlockDialog : public QDialog {
  Q_OBJECT

 public:
  UnlockDialog(ClientBridge& bridge, std::filesystem::path home, QWidget* parent = nullptr);
  ~UnlockDialog() override;

 private:
  struct Ui;
  std::unique_ptr<Ui> ui_;
};

}  // namespace parley::desktop
