// SPDX-License-Identifier: AGPL-3.0-or-later
#include "core/client_bridge.h"

#include <QMetaObject>
#include <utility>

#include "parley/net/backoff.h"

namespace parley::desktop {

namespace {

// While another process holds the home (a `parley listen` in a terminal), the bridge tries to
// take over this often, so the window goes online by itself when that process ends.
constexpr std::chrono::seconds kLockRetry{3};

}  // namespace

ClientBridge::ClientBridge(QObject* parent) : QObject(parent) {
  worker_ = std::thread([this] { worker_main(); });
}

ClientBridge::~ClientBridge() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    has_jobs_ = true;  // makes listen()'s keep_going return false within one tick
  }
  wake_.notify_all();
  worker_.join();
  // Results posted after this point cannot exist: the worker is gone. Results already posted
  // are queued events of this object, which Qt deletes with it.
}

void ClientBridge::open(BridgeOptions options, QObject* context,
                        std::function<void(const Status&)> done) {
  home_ = options.home;
  tick_ = options.tick;
  first_retry_ = options.first_retry;
  max_retry_ = options.max_retry;
  QPointer<QObject> guard(context);
  auto shared_options = std::make_shared<BridgeOptions>(std::move(options));
  auto shared_done = std::make_shared<std::function<void(const Status&)>>(std::move(done));
  std::lock_guard lock(mutex_);
  jobs_.emplace_back([this, guard, shared_options, shared_done] {
    Status status = open_on_worker(*shared_options);
    post(guard, [shared_done, status] { (*shared_done)(status); });
  });
  has_jobs_ = true;
  wake_.notify_all();
}

void ClientBridge::enqueue(Job job) {
  std::lock_guard lock(mutex_);
  jobs_.emplace_back([this, job = std::move(job)] {
    if (client_) job(*client_);
  });
  has_jobs_ = true;
  wake_.notify_all();
}

void ClientBridge::run(std::function<Status(client::Client&)> job, QString what) {
  call<Status>(this, std::move(job), [this, what = std::move(what)](const Status& status) {
    if (!status.ok()) emit jobFailed(what, QString::fromStdString(status.message()));
  });
}

void ClientBridge::post(const QPointer<QObject>& guard, std::function<void()> fn) {
  // Queued to the bridge itself, which lives on the UI thread and outlives the worker; the guard
  // is read there, on the thread that destroys windows, so the check cannot race the deletion.
  QMetaObject::invokeMethod(
      this,
      [guard, fn = std::move(fn)] {
        if (guard) fn();
      },
      Qt::QueuedConnection);
}

void ClientBridge::post_self(std::function<void()> fn) {
  // No guard needed: the bridge outlives the worker (the destructor joins it first).
  QMetaObject::invokeMethod(this, std::move(fn), Qt::QueuedConnection);
}

void ClientBridge::set_listening(bool on) {
  listening_ = on;
  wake_.notify_all();
}

Status ClientBridge::open_on_worker(const BridgeOptions& options) {
  if (client_) return Status::error(ErrorCode::kFailedPrecondition, "the account is already open");
  std::error_code error;
  std::filesystem::create_directories(options.home, error);
  if (error) {
    return Status::error(ErrorCode::kStorageIo,
                         "cannot create " + options.home.string() + ": " + error.message());
  }
  // The lock before the database, as the CLI does. Held elsewhere: open read-mostly (offline).
  auto lock = client::HomeLock::try_acquire(client::HomeLock::lock_file_in(options.home));
  const bool held_elsewhere = !lock.ok() && lock.status().code() == ErrorCode::kFailedPrecondition;
  if (!lock.ok() && !held_elsewhere) return lock.status();

  client::ClientOptions client_options;
  client_options.home = options.home;
  client_options.passphrase = options.passphrase;
  client_options.connector = options.connector;
  PARLEY_ASSIGN_OR_RETURN(auto client, client::Client::open(std::move(client_options)));
  client->set_event_handler([this](const client::Event& event) {
    post_self([this, event] { emit clientEvent(event); });
  });
  client->set_transfer_progress_handler([this](const client::TransferProgress& progress) {
    post_self([this, progress] { emit transferProgress(progress); });
  });
  if (!options.download_dir.empty()) client->set_download_dir(options.download_dir);
  client->set_offline(held_elsewhere);
  if (lock.ok()) lock_.emplace(std::move(lock).value());
  client_ = std::move(client);
  offline_mode_ = held_elsewhere;
  open_ = true;
  return Status();
}

bool ClientBridge::wait_for_work(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, timeout, [this] { return stopping_ || !jobs_.empty(); });
  return stopping_ || !jobs_.empty();
}

void ClientBridge::worker_main() {
  net::Backoff backoff(first_retry_, max_retry_);
  for (;;) {
    std::deque<std::function<void()>> jobs;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
      jobs.swap(jobs_);
      has_jobs_ = false;
    }
    for (auto& job : jobs) job();
    if (!jobs.empty()) continue;  // more may have come while these ran

    if (client_ && offline_mode_) {
      // Another process holds the home: try to take it over now and then.
      if (wait_for_work(kLockRetry)) continue;
      auto lock = client::HomeLock::try_acquire(client::HomeLock::lock_file_in(home_));
      if (lock.ok()) {
        lock_.emplace(std::move(lock).value());
        client_->set_offline(false);
        offline_mode_ = false;
      }
      continue;
    }
    if (!client_ || !listening_ || !client_->initialized()) {
      wait_for_work(std::chrono::seconds(1));
      continue;
    }
    Status status =
        client_->listen([this] { return !has_jobs_.load() && listening_.load(); }, tick_);
    if (status.ok()) {
      backoff.reset();
      continue;
    }
    const auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(backoff.next());
    QString why = QString::fromStdString(status.message());
    const int delay_ms = static_cast<int>(delay.count());
    post_self([this, why, delay_ms] { emit listenFailed(why, delay_ms); });
    // Jobs still run while we wait (they connect on demand, or fail fast offline).
    const auto until = std::chrono::steady_clock::now() + delay;
    while (std::chrono::steady_clock::now() < until) {
      if (!wait_for_work(std::chrono::duration_cast<std::chrono::milliseconds>(
              until - std::chrono::steady_clock::now()))) {
        break;
      }
      {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        jobs.swap(jobs_);
        has_jobs_ = false;
      }
      for (auto& job : jobs) job();
      jobs.clear();
    }
  }
  // Closes the connection and the store on the thread that used them.
  client_.reset();
  lock_.reset();
}

}  // namespace parley::desktop
