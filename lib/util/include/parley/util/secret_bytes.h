// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// SecretBytes: key material and plaintext that wipe themselves.
//
// Every buffer SecretBytes ever owned is overwritten with zeros (sodium_memzero, which the
// compiler may not elide) before it is returned to the allocator: on destruction, when growing
// reallocates, and on move-assignment over an old value. A moved-from SecretBytes is empty.
// Copies are explicit (`clone()`) so secrets are not duplicated by accident, comparison is
// constant-time, and there is deliberately no operator<<: secrets must never reach a log.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "parley/util/bytes.h"

namespace parley {

// Overwrites `size` bytes at `data` with zeros in a way the optimiser cannot remove.
void secure_wipe(void* data, std::size_t size);

namespace detail {

// Test hook: called with each buffer right after it was wiped and before it is freed, so tests can
// check the wipe happened without reading freed memory. nullptr (the default) disables it.
using WipeObserver = void (*)(const std::uint8_t* data, std::size_t size);
void set_wipe_observer_for_testing(WipeObserver observer);
void notify_wipe_observer(const std::uint8_t* data, std::size_t size);

// An allocator that wipes memory before releasing it; std::vector's reallocation and destruction
// both go through deallocate(), so no old copy survives.
template <typename T>
struct WipingAllocator {
  using value_type = T;

  WipingAllocator() = default;
  template <typename U>
  WipingAllocator(const WipingAllocator<U>&) noexcept {}  // NOLINT: rebinding must be implicit

  T* allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept {
    secure_wipe(p, n * sizeof(T));
    notify_wipe_observer(reinterpret_cast<const std::uint8_t*>(p), n * sizeof(T));
    std::allocator<T>().deallocate(p, n);
  }

  template <typename U>
  bool operator==(const WipingAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace detail

class SecretBytes {
 public:
  SecretBytes() = default;
  // `size` zero bytes, to be filled in place (e.g. by a KDF).
  explicit SecretBytes(std::size_t size) : bytes_(size, 0) {}
  explicit SecretBytes(ByteView bytes) : bytes_(bytes.begin(), bytes.end()) {}

  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {
    other.bytes_.clear();
  }
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
      bytes_ = std::move(other.bytes_);  // the old buffer is released, and so wiped
      other.bytes_.clear();
    }
    return *this;
  }
  ~SecretBytes() = default;  // the allocator wipes

  SecretBytes clone() const { return SecretBytes(view()); }

  std::size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  std::uint8_t* data() { return bytes_.data(); }
  const std::uint8_t* data() const { return bytes_.data(); }
  std::uint8_t& operator[](std::size_t i) { return bytes_[i]; }
  std::uint8_t operator[](std::size_t i) const { return bytes_[i]; }

  ByteView view() const { return {bytes_.data(), bytes_.size()}; }
  std::span<std::uint8_t> mutable_view() { return {bytes_.data(), bytes_.size()}; }

  void append(ByteView more) { bytes_.insert(bytes_.end(), more.begin(), more.end()); }
  // Shrinking wipes the bytes given up at once, not only when the buffer is freed.
  void resize(std::size_t size);
  // Wipes and empties (capacity is kept, zeroed).
  void clear();

  // Constant-time for equal sizes; different sizes compare unequal.
  bool equals(ByteView other) const;
  friend bool operator==(const SecretBytes& a, const SecretBytes& b) { return a.equals(b.view()); }

 private:
  std::vector<std::uint8_t, detail::WipingAllocator<std::uint8_t>> bytes_;
};

}  // namespace parley
