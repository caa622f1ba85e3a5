// SPDX-License-Identifier: AGPL-3.0-or-later
#include "ui/desktop_app.h"

#include <QMessageBox>

#include "parley/client/database_key.h"
#include "ui/first_run_dialog.h"
#include "ui/main_window.h"
#include "ui/unlock_dialog.h"

namespace parley::desktop {

DesktopApp::DesktopApp(DesktopOptions options, QObject* parent)
    : QObject(parent), options_(std::move(options)), bridge_(std::make_unique<ClientBridge>()) {}

DesktopApp::~DesktopApp() {
  window_.reset();  // before the bridge it uses
  delete dialog_.data();
}

void DesktopApp::start() {
  const auto source = client::database_key_source(options_.home);
  if (!source) {
    show_first_run();
  } else if (*source == client::KeySource::kPassphrase) {
    show_unlock();
  } else {
    open_key_file_home();
  }
}

void DesktopApp::show_first_run() {
  auto* dialog = new FirstRunDialog(*bridge_, options_.home);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->set_server(options_.server, options_.trust);
  connect(dialog, &QDialog::accepted, this, &DesktopApp::show_main_window);
  connect(dialog, &QDialog::rejected, this, [this] { emit finished(0); });
  dialog_ = dialog;
  dialog->show();
}

void DesktopApp::show_unlock() {
  auto* dialog = new UnlockDialog(*bridge_, options_.home);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &QDialog::accepted, this, &DesktopApp::continue_after_open);
  connect(dialog, &QDialog::rejected, this, [this] { emit finished(0); });
  dialog_ = dialog;
  dialog->show();
}

void DesktopApp::open_key_file_home() {
  BridgeOptions options;
  options.home = options_.home;
  bridge_->open(options, this, [this](const Status& status) {
    if (!status.ok()) {
      fail(QString::fromStdString(status.message()));
      return;
    }
    continue_after_open();
  });
}

void DesktopApp::continue_after_open() {
  // A home whose account was never finished (its store exists): first run again, on that store.
  bridge_->call<bool>(
      this, [](client::Client& c) { return c.initialized(); },
      [this](bool initialized) { initialized ? show_main_window() : show_first_run(); });
}

void DesktopApp::show_main_window() {
  // Here rather than at open: first run and unlock open the store themselves.
  if (!options_.download_dir.empty()) {
    bridge_->run(
        [dir = options_.download_dir](client::Client& c) {
          c.set_download_dir(dir);
          return Status();
        },
        tr("Download folder"));
  }
  window_ = std::make_unique<MainWindow>(*bridge_);
  window_->show();
  emit mainWindowShown(window_.get());
}

void DesktopApp::fail(const QString& why) {
  QMessageBox::critical(nullptr, tr("Parley"),
                        tr("Cannot open the account in %1:\n%2")
                            .arg(QString::fromStdString(options_.home.string()), why));
  emit finished(1);
}

}  // namespace parley::desktop
