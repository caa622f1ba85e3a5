// SPDX-License-Identifier: AGPL-3.0-or-later
#include "outbound_queue.h"

#include <utility>

namespace parley::gateway {

OutboundQueue::OutboundQueue(Limits limits, std::function<void()> wake)
    : limits_(limits), wake_(std::move(wake)) {}

bool OutboundQueue::send(std::shared_ptr<const Bytes> frame) {
  if (!frame) return false;
  std::function<void()> wake;
  bool accepted = false;
  {
    std::lock_guard lock(mutex_);
    if (shut_down_ || close_requested_ || overflowed_) return false;
    if (frames_.size() + 1 > limits_.max_frames || bytes_ + frame->size() > limits_.max_bytes) {
      // A slow consumer: never buffer without bound. The writer drops the connection.
      overflowed_ = true;
      frames_.clear();
      bytes_ = 0;
      wake = wake_;
    } else {
      // Only an empty queue can have a sleeping writer; otherwise it is already busy with us.
      if (frames_.empty()) wake = wake_;
      bytes_ += frame->size();
      frames_.push_back(std::move(frame));
      accepted = true;
    }
  }
  if (wake) wake();
  return accepted;
}

void OutboundQueue::close(ErrorCode reason) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mutex_);
    if (shut_down_ || close_requested_) return;
    close_requested_ = true;
    close_reason_ = reason;
    wake = wake_;
  }
  if (wake) wake();
}

std::shared_ptr<const Bytes> OutboundQueue::pop() {
  std::lock_guard lock(mutex_);
  if (frames_.empty()) return nullptr;
  auto frame = std::move(frames_.front());
  frames_.pop_front();
  bytes_ -= frame->size();
  return frame;
}

bool OutboundQueue::overflowed() const {
  std::lock_guard lock(mutex_);
  return overflowed_;
}

bool OutboundQueue::close_requested(ErrorCode* reason) const {
  std::lock_guard lock(mutex_);
  if (reason != nullptr) *reason = close_reason_;
  return close_requested_;
}

void OutboundQueue::shutdown() {
  std::function<void()> wake;
  {
    std::lock_guard lock(mutex_);
    shut_down_ = true;
    frames_.clear();
    bytes_ = 0;
    wake.swap(wake_);  // destroyed outside the lock: it may hold the last reference to a session
  }
}

bool OutboundQueue::is_shut_down() const {
  std::lock_guard lock(mutex_);
  return shut_down_;
}

std::size_t OutboundQueue::queued_frames() const {
  std::lock_guard lock(mutex_);
  return frames_.size();
}

std::size_t OutboundQueue::queued_bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace parley::gateway
