// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// A fixed pool of threads for the core's blocking work (store calls). With 0 threads every task
// runs inline on the poster's thread, which makes tests and fuzzing deterministic.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace parley::server {

class WorkerPool {
 public:
  explicit WorkerPool(unsigned threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs `task` on a worker (or inline). False once shutdown() has finished: the task is dropped.
  // Tasks may post further tasks, also while shutdown() is draining.
  bool post(std::function<void()> task);

  // Runs every queued task, including tasks those post, then joins the threads. Idempotent.
  void shutdown();

  bool inline_mode() const { return inline_; }
  std::size_t queued() const;

 private:
  void run();

  const bool inline_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  std::size_t active_ = 0;
  bool stopping_ = false;
  bool stopped_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace parley::server
