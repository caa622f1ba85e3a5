// SPDX-License-Identifier: AGPL-3.0-or-later
// parley-desktop: the Parley desktop client. Everything but flags lives in parley_desktop_ui.

#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>
#include <QTextStream>

#include "parley/client/home_path.h"
#include "ui/desktop_app.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName("parley-desktop");
  QApplication::setApplicationDisplayName("Parley");
  QApplication::setApplicationVersion(PARLEY_VERSION);
  QApplication::setDesktopFileName("parley-desktop");
  QApplication::setWindowIcon(QIcon(":/parley/parley.svg"));
  // Closing the main window quits; a dialog closing alone (before the window exists) does not.
  QApplication::setQuitOnLastWindowClosed(false);

  QCommandLineParser parser;
  parser.setApplicationDescription(
      "Parley, a private messenger: end-to-end encrypted messages, groups and files.\n"
      "The account lives in a home directory shared with the `parley` command-line client;\n"
      "only one of them is connected at a time.");
  parser.addHelpOption();
  parser.addVersionOption();
  QCommandLineOption home_option(
      "home",
      "The account's directory (default: $PARLEY_HOME, else $XDG_DATA_HOME/parley, else "
      "~/.local/share/parley).",
      "dir");
  QCommandLineOption server_option("server", "Prefill the server (host:port) on first run.",
                                   "host:port");
  QCommandLineOption trust_option(
      "trust", "Prefill the server's certificate pin (SHA-256 hex) or CA file on first run.",
      "pin-or-file");
  QCommandLineOption downloads_option(
      "download-dir", "Where received files go (default: <home>/downloads).", "dir");
  parser.addOptions({home_option, server_option, trust_option, downloads_option});
  parser.process(app);

  std::optional<std::string> home_flag;
  if (parser.isSet(home_option)) home_flag = parser.value(home_option).toStdString();
  auto home = parley::client::resolve_home(home_flag, parley::client::process_env());
  if (!home.ok()) {
    QTextStream(stderr) << "parley-desktop: " << QString::fromStdString(home.status().message())
                        << "\n";
    return 2;
  }

  parley::desktop::DesktopOptions options;
  options.home = *home;
  options.server = parser.value(server_option);
  options.trust = parser.value(trust_option);
  if (parser.isSet(downloads_option)) {
    options.download_dir = parser.value(downloads_option).toStdString();
  }
  parley::desktop::DesktopApp desktop(options);
  QObject::connect(&desktop, &parley::desktop::DesktopApp::finished, &app, &QApplication::exit);
  QObject::connect(&desktop, &parley::desktop::DesktopApp::mainWindowShown, &app,
                   [] { QApplication::setQuitOnLastWindowClosed(true); });
  desktop.start();
  return QApplication::exec();
}
