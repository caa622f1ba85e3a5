// SPDX-License-Identifier: AGPL-3.0-or-later
#include "ui/first_run_dialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QTabWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <string>

#include "core/client_bridge.h"
#include "core/dialog_input.h"

namespace parley::desktop {

namespace {

// How long join_device() waits for the primary to sign the new device list.
constexpr std::chrono::seconds kJoinTimeout{120};
// Proof-of-work progress arrives every 65,536 hashes (many times a second on a fast machine);
// the bar is updated at most this often so the UI thread's queue stays short.
constexpr std::chrono::milliseconds kProgressInterval{100};

}  // namespace

struct FirstRunDialog::Ui {
  FirstRunDialog* self = nullptr;
  ClientBridge& bridge;
  std::filesystem::path home;
  // The bridge's open() succeeded, so the store exists, encrypted with the passphrase given
  // then. open() may succeed only once per bridge: a retry after a failed sign-up or link reuses
  // it, and the passphrase fields stay locked.
  bool opened = false;

  QLineEdit* server = nullptr;
  QLineEdit* trust = nullptr;
  QLineEdit* passphrase = nullptr;
  QLineEdit* passphrase_repeat = nullptr;
  QLabel* passphrase_note = nullptr;
  QTabWidget* tabs = nullptr;
  QLineEdit* username = nullptr;
  QPushButton* create = nullptr;
  QLineEdit* link_code = nullptr;
  QPushButton* link = nullptr;
  QLabel* status = nullptr;
  QProgressBar* progress = nullptr;
  QLabel* error = nullptr;

  Ui(FirstRunDialog* dialog, ClientBridge& b, std::filesystem::path h)
      : self(dialog), bridge(b), home(std::move(h)) {}

  void build();
  void set_busy(bool busy, const QString& what = {});
  void fail(const Status& status);
  void show_pow_progress(std::uint64_t tried, std::uint32_t bits);
  // Checks the shared fields; fills `settings` or shows what is wrong and returns false.
  bool read_server(client::ServerSettings& settings);
  void with_open_bridge(std::function<void()> next);
  void start_create();
  void start_link();
};

void FirstRunDialog::Ui::build() {
  self->setWindowTitle(QObject::tr("Welcome to Parley"));
  self->setMinimumWidth(520);

  auto* intro = new QLabel(
      QObject::tr("Create a new account on a Parley server, or add this computer to an account "
                  "you already use on another device."));
  intro->setWordWrap(true);

  server = new QLineEdit;
  server->setObjectName(QStringLiteral("serverEdit"));
  server->setPlaceholderText(QStringLiteral("chat.example.org:443"));
  trust = new QLineEdit;
  trust->setObjectName(QStringLiteral("trustEdit"));
  trust->setPlaceholderText(QObject::tr("Empty: the system's certificates"));
  trust->setToolTip(
      QObject::tr("For a server with its own certificate: its SHA-256 fingerprint (64 hex digits, "
                  "as the server's operator gives it) or the path of its PEM certificate file."));
  passphrase = new QLineEdit;
  passphrase->setObjectName(QStringLiteral("passphraseEdit"));
  passphrase->setEchoMode(QLineEdit::Password);
  passphrase_repeat = new QLineEdit;
  passphrase_repeat->setObjectName(QStringLiteral("passphraseRepeatEdit"));
  passphrase_repeat->setEchoMode(QLineEdit::Password);
  // An empty passphrase is allowed on purpose (a machine with full-disk encryption may not need
  // one), but the trade-off is said plainly next to the field.
  passphrase_note = new QLabel(
      QObject::tr("The passphrase encrypts your messages on this computer. If you leave it empty, "
                  "the key is kept in a file in %1 instead, and anyone who can read your files "
                  "can read your messages.")
          .arg(QString::fromStdString(home.string())));
  passphrase_note->setWordWrap(true);
  passphrase_note->setTextFormat(Qt::PlainText);

  auto* form = new QFormLayout;
  form->addRow(QObject::tr("Server:"), server);
  form->addRow(QObject::tr("Certificate:"), trust);
  form->addRow(QObject::tr("Passphrase:"), passphrase);
  form->addRow(QObject::tr("Repeat passphrase:"), passphrase_repeat);
  form->addRow(QString(), passphrase_note);

  // Tab 0: a new account.
  auto* create_page = new QWidget;
  username = new QLineEdit;
  username->setObjectName(QStringLiteral("usernameEdit"));
  username->setPlaceholderText(QObject::tr("Optional: 3 to 32 of a-z, 0-9, _ and ."));
  create = new QPushButton(QObject::tr("Create account"));
  create->setObjectName(QStringLiteral("createButton"));
  auto* create_form = new QFormLayout(create_page);
  create_form->addRow(QObject::tr("Username:"), username);
  create_form->addRow(QString(), create);

  // Tab 1: this computer as another device of an existing account.
  auto* link_page = new QWidget;
  auto* link_help = new QLabel(
      QObject::tr("On your first device, choose \"Link a device\" and type or paste the code it "
                  "shows. That device must stay open until this one is linked."));
  link_help->setWordWrap(true);
  link_code = new QLineEdit;
  link_code->setObjectName(QStringLiteral("linkCodeEdit"));
  link_code->setPlaceholderText(QStringLiteral("abcd2345efgh6789-k3m5n7p9q2r4s6t8"));
  link = new QPushButton(QObject::tr("Link this computer"));
  link->setObjectName(QStringLiteral("linkButton"));
  auto* link_form = new QFormLayout(link_page);
  link_form->addRow(link_help);
  link_form->addRow(QObject::tr("Link code:"), link_code);
  link_form->addRow(QString(), link);

  tabs = new QTabWidget;
  tabs->setObjectName(QStringLiteral("modeTabs"));
  tabs->addTab(create_page, QObject::tr("Create an account"));
  tabs->addTab(link_page, QObject::tr("Link to an existing account"));

  status = new QLabel;
  status->setWordWrap(true);
  status->setTextFormat(Qt::PlainText);
  progress = new QProgressBar;
  progress->setObjectName(QStringLiteral("powProgress"));
  progress->setRange(0, 100);
  progress->setVisible(false);
  error = new QLabel;
  error->setObjectName(QStringLiteral("errorLabel"));
  error->setWordWrap(true);
  error->setTextFormat(Qt::PlainText);
  error->setTextInteractionFlags(Qt::TextSelectableByMouse);
  error->setStyleSheet(QStringLiteral("color: #b3261e;"));

  // Cancel works at any time. A job already running (opening the store, signing up, linking)
  // cannot be interrupted: it finishes on the bridge's worker and its result is dropped because
  // this dialog is gone. A sign-up that finishes after Cancel leaves an account in the home;
  // a failure after the account was saved (e.g. uploading prekeys) leaves it half set up, and the
  // core then answers kAlreadyExists to a second attempt. The app checks the home's state at
  // its next start rather than trusting what this dialog saw.
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel);
  QObject::connect(buttons, &QDialogButtonBox::rejected, self, &QDialog::reject);

  auto* layout = new QVBoxLayout(self);
  layout->addWidget(intro);
  layout->addLayout(form);
  layout->addWidget(tabs);
  layout->addWidget(status);
  layout->addWidget(progress);
  layout->addWidget(error);
  layout->addStretch();
  layout->addWidget(buttons);

  // Enter in any field starts what the visible tab offers.
  auto update_default = [this](int index) {
    create->setDefault(index == 0);
    link->setDefault(index == 1);
  };
  QObject::connect(tabs, &QTabWidget::currentChanged, self, update_default);
  update_default(0);
  QObject::connect(create, &QPushButton::clicked, self, [this] { start_create(); });
  QObject::connect(link, &QPushButton::clicked, self, [this] { start_link(); });
}

void FirstRunDialog::Ui::set_busy(bool busy, const QString& what) {
  for (QWidget* widget :
       {static_cast<QWidget*>(server), static_cast<QWidget*>(trust), static_cast<QWidget*>(tabs)}) {
    widget->setEnabled(!busy);
  }
  passphrase->setEnabled(!busy && !opened);
  passphrase_repeat->setEnabled(!busy && !opened);
  status->setText(what);
  progress->setVisible(busy);
  progress->setRange(0, 0);  // busy until the core reports how far it got
  if (busy) error->clear();
}

void FirstRunDialog::Ui::fail(const Status& result) {
  set_busy(false);
  error->setText(error_sentence(result));
}

void FirstRunDialog::Ui::show_pow_progress(std::uint64_t tried, std::uint32_t bits) {
  status->setText(QObject::tr("Solving the sign-up puzzle (it keeps bulk sign-ups away)…"));
  // On average 2^bits hashes find a solution; more is possible, so the bar stops short of full.
  if (bits == 0 || bits >= 63) {
    progress->setRange(0, 0);
    return;
  }
  const double expected = std::ldexp(1.0, static_cast<int>(bits));
  const int percent = std::min(99, static_cast<int>(100.0 * static_cast<double>(tried) / expected));
  progress->setRange(0, 100);
  progress->setValue(percent);
}

bool FirstRunDialog::Ui::read_server(client::ServerSettings& settings) {
  if (Status checked = check_server_address(server->text()); !checked.ok()) {
    error->setText(error_sentence(checked));
    server->setFocus();
    return false;
  }
  auto parsed_trust = parse_trust_input(trust->text());
  if (!parsed_trust.ok()) {
    error->setText(error_sentence(parsed_trust.status()));
    trust->setFocus();
    return false;
  }
  if (!opened && passphrase->text() != passphrase_repeat->text()) {
    error->setText(QObject::tr("The two passphrases are different."));
    passphrase_repeat->setFocus();
    return false;
  }
  settings.server = server->text().trimmed().toStdString();
  settings.trust = std::move(parsed_trust).value();
  return true;
}

void FirstRunDialog::Ui::with_open_bridge(std::function<void()> next) {
  if (opened || bridge.is_open()) {
    next();
    return;
  }
  BridgeOptions options;
  options.home = home;
  if (!passphrase->text().isEmpty()) options.passphrase = passphrase->text().toStdString();
  bridge.open(std::move(options), self, [this, next = std::move(next)](const Status& result) {
    if (!result.ok()) {
      fail(result);
      return;
    }
    opened = true;
    passphrase_note->setText(
        QObject::tr("The local store is created; the passphrase can no longer be changed here."));
    next();
  });
}

void FirstRunDialog::Ui::start_create() {
  client::ServerSettings settings;
  if (!read_server(settings)) return;
  const std::string name = username->text().trimmed().toStdString();
  set_busy(true, QObject::tr("Connecting to the server…"));
  with_open_bridge([this, settings, name] {
    // Progress is reported on the worker: posted through a guard made here, on the UI thread,
    // so a report that arrives after the dialog closed is dropped instead of touching it.
    QPointer<QObject> guard(self);
    ClientBridge* bridge_ptr = &bridge;  // outlives its worker, hence every job
    Ui* ui = this;                       // used only inside posts that checked `guard`
    auto last_report = std::make_shared<std::chrono::steady_clock::time_point>();
    bridge.call<Status>(
        self,
        [settings, name, guard, bridge_ptr, ui, last_report](client::Client& client) {
          return client.create_account(
              settings, name, [&](std::uint64_t tried, std::uint32_t bits) {
                const auto now = std::chrono::steady_clock::now();
                if (now - *last_report < kProgressInterval) return;
                *last_report = now;
                bridge_ptr->post(guard, [ui, tried, bits] { ui->show_pow_progress(tried, bits); });
              });
        },
        [this](Status result) {
          if (!result.ok()) {
            fail(result);
            return;
          }
          self->accept();
        });
  });
}

void FirstRunDialog::Ui::start_link() {
  client::ServerSettings settings;
  if (!read_server(settings)) return;
  const std::string code = link_code->text().trimmed().toStdString();
  if (code.empty()) {
    error->setText(QObject::tr("Type or paste the link code your other device shows."));
    link_code->setFocus();
    return;
  }
  set_busy(true, QObject::tr("Linking… keep your other device open (this can take up to two "
                             "minutes)."));
  with_open_bridge([this, settings, code] {
    bridge.call<Status>(
        self,
        [settings, code](client::Client& client) {
          return client.join_device(settings, code, kJoinTimeout);
        },
        [this](Status result) {
          if (!result.ok()) {
            fail(result);
            return;
          }
          self->accept();
        });
  });
}

FirstRunDialog::FirstRunDialog(ClientBridge& bridge, std::filesystem::path home, QWidget* parent)
    : QDialog(parent), ui_(std::make_unique<Ui>(this, bridge, std::move(home))) {
  ui_->build();
  if (bridge.is_open()) {
    // A home whose store exists but whose account was never finished (the app opened it to
    // look): the passphrase choice was made back then.
    ui_->opened = true;
    ui_->set_busy(false);
    ui_->passphrase_note->setText(
        tr("This computer's store already exists; its passphrase stays as it was."));
  }
}

FirstRunDialog::~FirstRunDialog() = default;

void FirstRunDialog::set_server(const QString& server, const QString& trust) {
  ui_->server->setText(server);
  ui_->trust->setText(trust);
}

}  // namespace parley::desktop
