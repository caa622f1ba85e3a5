// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// What happens from launch to the main window: a home without an account gets the first-run
// dialog, a home with a passphrase the unlock dialog, a home with a key file opens directly;
// then the main window. The e2e test runs this in-process, as main() does.

#include <QDialog>
#include <QObject>
#include <QPointer>
#include <filesystem>
#include <memory>

#include "core/client_bridge.h"
#include "ui/main_window.h"  // complete for the signal's metatype

namespace parley::desktop {

struct DesktopOptions {
  std::filesystem::path home;
  QString server;                      // prefills first run ("host:port")
  QString trust;                       // prefills first run (pin or CA file)
  std::filesystem::path download_dir;  // empty: the core's default
};

class DesktopApp : public QObject {
  Q_OBJECT

 public:
  explicit DesktopApp(DesktopOptions options, QObject* parent = nullptr);
  ~DesktopApp() override;

  void start();

  ClientBridge& bridge() { return *bridge_; }
  MainWindow* main_window() const { return window_.get(); }
  QDialog* dialog() const { return dialog_; }  // first run or unlock, while shown

 signals:
  void mainWindowShown(parley::desktop::MainWindow* window);
  // First run or unlock was cancelled, or the home cannot be opened: the app should quit.
  void finished(int exit_code);

 private:
  void show_first_run();
  void show_unlock();
  void open_key_file_home();
  void continue_after_open();  // the store is open: main window, or first run if no account yet
  void show_main_window();
  void fail(const QString& why);

  DesktopOptions options_;
  // Declared before the window so that it is destroyed after it: windows hold references to it.
  std::unique_ptr<ClientBridge> bridge_;
  std::unique_ptr<MainWindow> window_;
  QPointer<QDialog> dialog_;
};

}  // namespace parley::desktop
