// SPDX-License-Identifier: AGPL-3.0-or-later
#include "connection_state.h"

#include "worker_pool.h"

namespace parley::server {
namespace {
// Tasks one connection runs before letting other connections' runners go first.
constexpr int kTasksPerTurn = 16;
}  // namespace

Connection::Connection(std::shared_ptr<ConnectionSink> sink, WorkerPool& pool,
                       std::uint32_t max_pending)
    : sink_(std::move(sink)), pool_(pool), max_pending_(max_pending) {}

bool Connection::send(std::shared_ptr<const Bytes> frame) {
  std::lock_guard lock(sink_mutex_);
  if (closed_ || close_requested_) return false;
  return sink_->send(std::move(frame));
}

void Connection::close(ErrorCode reason) {
  std::lock_guard lock(sink_mutex_);
  if (closed_ || close_requested_) return;
  close_requested_ = true;
  sink_->close(reason);
}

void Connection::mark_closed() {
  {
    std::lock_guard lock(sink_mutex_);
    closed_ = true;
  }
  std::lock_guard lock(queue_mutex_);
  refusing_ = true;
  // Queued requests cannot be answered any more; the one running (if any) finishes.
  tasks_.clear();
  task_is_request_.clear();
  pending_requests_ = 0;
}

bool Connection::closed() const {
  std::lock_guard lock(sink_mutex_);
  return closed_ || close_requested_;
}

bool Connection::refusing() const {
  std::lock_guard lock(queue_mutex_);
  return refusing_;
}

void Connection::set_refusing() {
  std::lock_guard lock(queue_mutex_);
  refusing_ = true;
}

Connection::Enqueued Connection::enqueue(std::function<void()> task, bool internal) {
  {
    std::lock_guard lock(queue_mutex_);
    if (closed()) return Enqueued::kClosed;
    if (!internal && pending_requests_ >= max_pending_) return Enqueued::kTooMany;
    tasks_.push_back(std::move(task));
    task_is_request_.push_back(!internal);
    if (!internal) ++pending_requests_;
    if (running_) return Enqueued::kYes;
    running_ = true;
  }
  schedule_runner();
  return Enqueued::kYes;
}

void Connection::schedule_runner() {
  if (!pool_.post([self = shared_from_this()] { self->run_some(); })) {
    std::lock_guard lock(queue_mutex_);  // the pool has stopped: nothing will run these
    tasks_.clear();
    task_is_request_.clear();
    pending_requests_ = 0;
    running_ = false;
  }
}

void Connection::run_some() {
  for (int n = 0;; ++n) {
    std::function<void()> task;
    {
      std::lock_guard lock(queue_mutex_);
      if (tasks_.empty()) {
        running_ = false;
        return;
      }
      if (n == kTasksPerTurn && !pool_.inline_mode()) {
        // Yield: re-post so one busy connection cannot starve the others on a small pool.
        // running_ stays true, so no second runner starts meanwhile.
      } else {
        task = std::move(tasks_.front());
        tasks_.pop_front();
        if (task_is_request_.front()) --pending_requests_;
        task_is_request_.pop_front();
      }
    }
    if (!task) {
      schedule_runner();
      return;
    }
    task();
  }
}

}  // namespace parley::server
