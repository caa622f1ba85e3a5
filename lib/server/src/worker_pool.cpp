// SPDX-License-Identifier: AGPL-3.0-or-later
#include "worker_pool.h"

namespace parley::server {

WorkerPool::WorkerPool(unsigned threads) : inline_(threads == 0) {
  threads_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

WorkerPool::~WorkerPool() {
  shutdown();
}

bool WorkerPool::post(std::function<void()> task) {
  if (inline_) {
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return false;
    }
    task();
    return true;
  }
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return false;
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
  return true;
}

void WorkerPool::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    // Leave only when stopping and nothing is queued or running: a running task may still post.
    wake_.wait(lock, [&] { return !tasks_.empty() || (stopping_ && active_ == 0); });
    if (tasks_.empty()) {
      wake_.notify_all();  // let the other idle workers see the same condition
      return;
    }
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    ++active_;
    lock.unlock();
    task();
    task = nullptr;  // release captures outside the lock
    lock.lock();
    --active_;
    if (stopping_ && active_ == 0 && tasks_.empty()) wake_.notify_all();
  }
}

void WorkerPool::shutdown() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  std::lock_guard lock(mutex_);
  stopped_ = true;
  tasks_.clear();
}

std::size_t WorkerPool::queued() const {
  std::lock_guard lock(mutex_);
  return tasks_.size();
}

}  // namespace parley::server
