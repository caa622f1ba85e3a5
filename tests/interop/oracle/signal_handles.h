// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Owning handles for libsignal-protocol-c objects, so every early return releases what it holds.
// Refcounted objects (keys, messages, records) drop one reference; plain buffers are wiped and
// freed.

#include <signal_protocol.h>

#include <cstdint>
#include <vector>

namespace parley::interop::detail {

// Holds one reference to a libsignal refcounted object (anything starting with signal_type_base).
template <typename T>
class Ref {
 public:
  Ref() = default;
  explicit Ref(T* adopted) : ptr_(adopted) {}
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  Ref(Ref&& other) noexcept : ptr_(other.ptr_) { other.ptr_ = nullptr; }
  Ref& operator=(Ref&& other) noexcept {
    if (this != &other) {
      reset();
      ptr_ = other.ptr_;
      other.ptr_ = nullptr;
    }
    return *this;
  }
  ~Ref() { reset(); }

  // Takes an extra reference to an object owned elsewhere (a getter's borrowed result).
  static Ref share(T* borrowed) {
    if (borrowed != nullptr) signal_type_ref(reinterpret_cast<signal_type_base*>(borrowed));
    return Ref(borrowed);
  }

  T* get() const { return ptr_; }
  explicit operator bool() const { return ptr_ != nullptr; }
  // For libsignal's `T** out` parameters; drops any object held before.
  T** out() {
    reset();
    return &ptr_;
  }
  void reset() {
    if (ptr_ != nullptr) signal_type_unref(reinterpret_cast<signal_type_base*>(ptr_));
    ptr_ = nullptr;
  }

 private:
  T* ptr_ = nullptr;
};

// Owns a signal_buffer; wipes it on release because buffers carry keys and plaintext.
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(signal_buffer* adopted) : buf_(adopted) {}
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& other) noexcept : buf_(other.buf_) { other.buf_ = nullptr; }
  Buffer& operator=(Buffer&& other) noexcept {
    if (this != &other) {
      reset();
      buf_ = other.buf_;
      other.buf_ = nullptr;
    }
    return *this;
  }
  ~Buffer() { reset(); }

  signal_buffer* get() const { return buf_; }
  signal_buffer** out() {
    reset();
    return &buf_;
  }
  signal_buffer* release() {
    signal_buffer* b = buf_;
    buf_ = nullptr;
    return b;
  }
  void reset() {
    if (buf_ != nullptr) signal_buffer_bzero_free(buf_);
    buf_ = nullptr;
  }
  std::vector<std::uint8_t> bytes() const {
    if (buf_ == nullptr) return {};
    const std::uint8_t* data = signal_buffer_const_data(buf_);
    return {data, data + signal_buffer_len(buf_)};
  }

 private:
  signal_buffer* buf_ = nullptr;
};

}  // namespace parley::interop::detail
