// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/util/secret_bytes.h"

#include <sodium.h>

#include <atomic>

namespace parley {

void secure_wipe(void* data, std::size_t size) {
  if (data != nullptr && size > 0) sodium_memzero(data, size);
}

namespace detail {

namespace {
std::atomic<WipeObserver> g_wipe_observer{nullptr};
}  // namespace

void set_wipe_observer_for_testing(WipeObserver observer) {
  g_wipe_observer.store(observer);
}

void notify_wipe_observer(const std::uint8_t* data, std::size_t size) {
  if (WipeObserver observer = g_wipe_observer.load(std::memory_order_relaxed)) {
    observer(data, size);
  }
}

}  // namespace detail

void SecretBytes::resize(std::size_t size) {
  if (size < bytes_.size()) secure_wipe(bytes_.data() + size, bytes_.size() - size);
  bytes_.resize(size, 0);
}

void SecretBytes::clear() {
  secure_wipe(bytes_.data(), bytes_.size());
  bytes_.clear();
}

bool SecretBytes::equals(ByteView other) const {
  if (other.size() != bytes_.size()) return false;
  if (bytes_.empty()) return true;
  return sodium_memcmp(bytes_.data(), other.data(), bytes_.size()) == 0;
}

}  // namespace parley
