// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The one way the desktop UI reaches the client core. parley::client::Client is used from one
// thread and blocks on the network, so the bridge owns it on a worker thread of its own:
//
//   UI thread                     worker thread
//   call(context, job, done) ───▶ job(client)      (queued, run in order)
//   done(result)  ◀─────────────  (posted back; dropped if `context` was destroyed meanwhile)
//   clientEvent() ◀─────────────  events the core reports while any job or listen() runs
//
// Between jobs the worker stays connected with Client::listen(), returning to take the next job
// within one tick, and reconnects with jittered backoff after a failure. Every signal is emitted
// on the UI thread, and a result whose window has closed is dropped there, so a closed window
// never receives a late callback. The destructor stops the worker and joins it.

#include <QObject>
#include <QPointer>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "parley/client/client.h"
#include "parley/client/events.h"
#include "parley/client/home_lock.h"
#include "parley/util/status.h"

namespace parley::desktop {

struct BridgeOptions {
  std::filesystem::path home;
  std::optional<std::string> passphrase;  // none: the home's key file
  std::filesystem::path download_dir;     // empty: the core's default (<home>/downloads)
  std::chrono::milliseconds tick{100};    // how long a job may wait for listen() to return
  std::chrono::milliseconds first_retry{1000};
  std::chrono::milliseconds max_retry{30000};
  // Tests: how the client reaches the server (empty: TLS WebSocket).
  client::Connector connector;
};

class ClientBridge : public QObject {
  Q_OBJECT

 public:
  explicit ClientBridge(QObject* parent = nullptr);
  ~ClientBridge() override;  // stops listening, finishes the running job, joins the worker
  ClientBridge(const ClientBridge&) = delete;
  ClientBridge& operator=(const ClientBridge&) = delete;

  // Opens (or creates) the home's store on the worker: takes the home lock, and when another
  // process (a `parley listen`) holds it, opens in offline mode (offline_mode() is then true and
  // nothing connects). done(status) runs on the UI thread. A wrong passphrase gives
  // kWrongDatabaseKey and leaves the bridge closed, so open() may be called again.
  void open(BridgeOptions options, QObject* context, std::function<void(const Status&)> done);

  // Runs job(client) on the worker, in call order, then done(result) on the UI thread if
  // `context` still exists. Jobs queued while no client is open are dropped unanswered.
  // Call from the UI thread (the guard on `context` is made here).
  template <typename T>
  void call(QObject* context, std::function<T(client::Client&)> job, std::function<void(T)> done) {
    QPointer<QObject> guard(context);
    auto shared_done = std::make_shared<std::function<void(T)>>(std::move(done));
    enqueue([this, guard, job = std::move(job), shared_done](client::Client& client) {
      auto result = std::make_shared<T>(job(client));
      post(guard, [shared_done, result] { (*shared_done)(std::move(*result)); });
    });
  }
  // The same for jobs whose result nobody waits for (a failure is reported by jobFailed()).
  void run(std::function<Status(client::Client&)> job, QString what);

  // Runs `fn` on the UI thread soon, if `context` still exists then. Safe from any thread, as
  // long as `guard` was made on the UI thread (progress callbacks inside jobs use this).
  void post(const QPointer<QObject>& guard, std::function<void()> fn);

  // Stay connected between jobs (after sign-in); off: disconnect and only run jobs.
  void set_listening(bool on);
  bool is_open() const { return open_.load(); }
  bool offline_mode() const { return offline_mode_.load(); }
  const std::filesystem::path& home() const { return home_; }

 signals:
  // Every event the core reports (messages, receipts, typing, transport changes, ...).
  void clientEvent(const parley::client::Event& event);
  void transferProgress(const parley::client::TransferProgress& progress);
  // listen() failed; the worker retries after `retry_in`. `why` is the core's sentence.
  void listenFailed(const QString& why, int retry_in_ms);
  // A job started with run() failed.
  void jobFailed(const QString& what, const QString& why);

 private:
  using Job = std::function<void(client::Client&)>;
  void enqueue(Job job);
  void worker_main();
  bool wait_for_work(std::chrono::milliseconds timeout);  // true: a job or stop is pending
  Status open_on_worker(const BridgeOptions& options);
  void post_self(std::function<void()> fn);  // emits from the worker go through here

  std::filesystem::path home_;
  std::unique_ptr<client::Client> client_;  // worker thread only
  std::optional<client::HomeLock> lock_;    // worker thread only
  std::chrono::milliseconds tick_{100};
  std::chrono::milliseconds first_retry_{1000};
  std::chrono::milliseconds max_retry_{30000};

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;  // guarded by mutex_; run on the worker
  bool stopping_ = false;                   // guarded by mutex_
  std::atomic<bool> has_jobs_{false};
  std::atomic<bool> listening_{false};
  std::atomic<bool> open_{false};
  std::atomic<bool> offline_mode_{false};
  std::thread worker_;
};

}  // namespace parley::desktop
