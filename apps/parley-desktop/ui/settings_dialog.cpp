// SPDX-License-Identifier: AGPL-3.0-or-later
#include "ui/settings_dialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>
#include <vector>

#include "core/client_bridge.h"
#include "core/dialog_input.h"
#include "parley/net/relay_link.h"

namespace parley::desktop {

struct SettingsDialog::Ui {
  ClientBridge& bridge;
  // What the core had when the dialog opened: kept for what the form does not show (the DoH
  // resolver's trust) and for the proxy password, which the field never displays.
  client::NetworkSettings saved;
  bool loaded = false;
  std::vector<net::RelayLink> relays;  // one per row of relay_list, same order

  QWidget* network = nullptr;  // everything that needs the loaded settings
  QListWidget* relay_list = nullptr;
  QLineEdit* relay_link = nullptr;
  QPushButton* add_relay = nullptr;
  QPushButton* remove_relay = nullptr;
  QLineEdit* proxy = nullptr;
  QPlainTextEdit* endpoints = nullptr;
  QLineEdit* tls_name = nullptr;
  QLineEdit* doh = nullptr;
  QCheckBox* previews = nullptr;
  QPushButton* save = nullptr;
  QLabel* error = nullptr;

  explicit Ui(ClientBridge& b) : bridge(b) {}

  void show_settings(const client::NetworkSettings& settings) {
    saved = settings;
    relays = settings.relays;
    relay_list->clear();
    for (const auto& relay : relays) relay_list->addItem(relay_item_text(relay));
    proxy->setText(proxy_field_text(settings.proxy));
    QStringList lines;
    for (const auto& endpoint : settings.endpoints) lines << QString::fromStdString(endpoint);
    endpoints->setPlainText(lines.join(u'\n'));
    tls_name->setText(QString::fromStdString(settings.tls_name));
    doh->setText(QString::fromStdString(settings.doh_url));
  }

  void add_relay_link() {
    // Parsing a link is pure: done here for immediate feedback on a bad paste.
    auto link = net::parse_relay_link(relay_link->text().trimmed().toStdString());
    if (!link.ok()) {
      error->setText(error_sentence(link.status()));
      return;
    }
    const std::string text = net::format_relay_link(*link);
    for (const auto& relay : relays) {
      if (net::format_relay_link(relay) == text) {
        error->setText(QObject::tr("This relay is already in the list."));
        return;
      }
    }
    relay_list->addItem(relay_item_text(*link));
    relays.push_back(std::move(link).value());
    relay_link->clear();
    error->clear();
  }

  void remove_selected_relay() {
    const int row = relay_list->currentRow();
    if (row < 0 || row >= static_cast<int>(relays.size())) return;
    delete relay_list->takeItem(row);
    relays.erase(relays.begin() + row);
  }

  // The form as settings, or the first problem found before asking the core.
  Result<client::NetworkSettings> read_form() const {
    client::NetworkSettings settings = saved;
    settings.relays = relays;
    PARLEY_ASSIGN_OR_RETURN(settings.proxy, proxy_from_field(proxy->text(), saved.proxy));
    settings.endpoints = split_lines(endpoints->toPlainText());
    settings.tls_name = tls_name->text().trimmed().toStdString();
    settings.doh_url = doh->text().trimmed().toStdString();
    return settings;
  }
};

SettingsDialog::SettingsDialog(ClientBridge& bridge, bool show_previews, QWidget* parent)
    : QDialog(parent), ui_(std::make_unique<Ui>(bridge)) {
  setWindowTitle(tr("Settings"));
  setMinimumSize(520, 560);
  Ui& ui = *ui_;

  ui.relay_list = new QListWidget;
  ui.relay_list->setObjectName(QStringLiteral("relayList"));
  ui.relay_link = new QLineEdit;
  ui.relay_link->setObjectName(QStringLiteral("relayLinkEdit"));
  ui.relay_link->setPlaceholderText(tr("Paste a parley://relay?… link"));
  ui.add_relay = new QPushButton(tr("Add"));
  ui.add_relay->setObjectName(QStringLiteral("addRelayButton"));
  ui.remove_relay = new QPushButton(tr("Remove"));
  ui.remove_relay->setObjectName(QStringLiteral("removeRelayButton"));
  ui.remove_relay->setEnabled(false);
  auto* relay_row = new QHBoxLayout;
  relay_row->addWidget(ui.relay_link, 1);
  relay_row->addWidget(ui.add_relay);
  relay_row->addWidget(ui.remove_relay);
  auto* relay_help = new QLabel(
      tr("A relay is a server someone runs to get you past a block; its owner gives you a link."));
  relay_help->setWordWrap(true);
  auto* relay_box = new QGroupBox(tr("Relays"));
  auto* relay_layout = new QVBoxLayout(relay_box);
  relay_layout->addWidget(relay_help);
  relay_layout->addWidget(ui.relay_list);
  relay_layout->addLayout(relay_row);

  ui.proxy = new QLineEdit;
  ui.proxy->setObjectName(QStringLiteral("proxyEdit"));
  ui.proxy->setPlaceholderText(QStringLiteral("socks5://127.0.0.1:9050"));
  ui.proxy->setToolTip(
      tr("socks5://host:port or http://host:port, with user:password@ before the host if the "
         "proxy needs it. A saved password is shown as ***; leave it so to keep it. Empty: no "
         "proxy."));
  ui.endpoints = new QPlainTextEdit;
  ui.endpoints->setObjectName(QStringLiteral("endpointsEdit"));
  ui.endpoints->setPlaceholderText(tr("Other addresses of the same server, host:port, one a line"));
  ui.endpoints->setMaximumHeight(90);
  ui.tls_name = new QLineEdit;
  ui.tls_name->setObjectName(QStringLiteral("tlsNameEdit"));
  ui.tls_name->setPlaceholderText(tr("Only when those addresses are IP addresses"));
  ui.doh = new QLineEdit;
  ui.doh->setObjectName(QStringLiteral("dohEdit"));
  ui.doh->setPlaceholderText(QStringLiteral("https://dns.example/dns-query"));
  ui.doh->setToolTip(tr("DNS over HTTPS; empty: the system's resolver"));
  auto* connection_box = new QGroupBox(tr("Connection"));
  auto* form = new QFormLayout(connection_box);
  form->addRow(tr("Proxy:"), ui.proxy);
  form->addRow(tr("Extra addresses:"), ui.endpoints);
  form->addRow(tr("TLS name:"), ui.tls_name);
  form->addRow(tr("DNS over HTTPS:"), ui.doh);

  ui.network = new QWidget;
  auto* network_layout = new QVBoxLayout(ui.network);
  network_layout->setContentsMargins(0, 0, 0, 0);
  network_layout->addWidget(relay_box, 1);
  network_layout->addWidget(connection_box);
  ui.network->setEnabled(false);  // until the core's settings are loaded

  ui.previews = new QCheckBox(tr("Show message text in notifications"));
  ui.previews->setObjectName(QStringLiteral("previewsCheck"));
  ui.previews->setChecked(show_previews);

  ui.error = new QLabel(tr("Loading…"));
  ui.error->setObjectName(QStringLiteral("errorLabel"));
  ui.error->setWordWrap(true);
  ui.error->setTextFormat(Qt::PlainText);
  ui.error->setStyleSheet(QStringLiteral("color: #b3261e;"));

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel);
  ui.save = buttons->addButton(tr("Save"), QDialogButtonBox::AcceptRole);
  ui.save->setObjectName(QStringLiteral("saveButton"));
  ui.save->setEnabled(false);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(ui.network, 1);
  layout->addWidget(ui.previews);
  layout->addWidget(ui.error);
  layout->addWidget(buttons);

  connect(ui.add_relay, &QPushButton::clicked, this, [this] { ui_->add_relay_link(); });
  connect(ui.relay_link, &QLineEdit::returnPressed, this, [this] { ui_->add_relay_link(); });
  connect(ui.remove_relay, &QPushButton::clicked, this, [this] { ui_->remove_selected_relay(); });
  connect(ui.relay_list, &QListWidget::currentRowChanged, this,
          [this](int row) { ui_->remove_relay->setEnabled(row >= 0); });

  connect(ui.save, &QPushButton::clicked, this, [this] {
    // Without the core's settings there is nothing to save but the preference; the network
    // fields stayed disabled, so nothing typed is lost.
    if (!ui_->loaded) {
      accept();
      return;
    }
    auto settings = ui_->read_form();
    if (!settings.ok()) {
      ui_->error->setText(error_sentence(settings.status()));
      return;
    }
    ui_->save->setEnabled(false);
    ui_->error->clear();
    ui_->bridge.call<Status>(
        this,
        [settings = std::move(settings).value()](client::Client& client) {
          return client.set_network_settings(settings);
        },
        [this](Status status) {
          ui_->save->setEnabled(true);
          if (!status.ok()) {
            ui_->error->setText(error_sentence(status));
            return;
          }
          accept();
        });
  });

  ui.bridge.call<Result<client::NetworkSettings>>(
      this, [](client::Client& client) { return client.network_settings(); },
      [this](Result<client::NetworkSettings> settings) {
        ui_->save->setEnabled(true);
        if (!settings.ok()) {
          ui_->error->setText(tr("The network settings could not be read: %1")
                                  .arg(error_sentence(settings.status())));
          return;
        }
        ui_->show_settings(*settings);
        ui_->loaded = true;
        ui_->network->setEnabled(true);
        ui_->error->clear();
      });
}

SettingsDialog::~SettingsDialog() = default;

bool SettingsDialog::show_previews() const {
  return ui_->previews->isChecked();
}

}  // namespace parley::desktop
