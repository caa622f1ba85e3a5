// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Status and Result<T>: how protocol and storage code reports failure without exceptions.
//
//   Result<Bytes> decode(ByteView in) {
//     if (in.empty()) return Status::error(ErrorCode::kMalformedInput, "empty message");
//     PARLEY_ASSIGN_OR_RETURN(auto header, parse_header(in));
//     PARLEY_RETURN_IF_ERROR(check(header));
//     return header.body;
//   }
//
// Messages are for people and logs: they must never contain keys, plaintext or other user data.

#include <cassert>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "parley/util/error_code.h"

namespace parley {

class [[nodiscard]] Status {
 public:
  // The ok status.
  Status() = default;

  static Status ok_status() { return Status(); }
  static Status error(ErrorCode code, std::string message = {}) {
    return Status(code, std::move(message));
  }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "E301 bad_signature: signed prekey signature does not verify"
  std::string to_string() const;

  // Adds context in front of the message, keeping the code: "loading session: <message>".
  Status with_context(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// Holds either a T or an error Status. Never holds an ok Status.
template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cvref_t<T>, Status>, "use Status instead");
  static_assert(!std::is_reference_v<T>, "Result<T&> is not supported");

 public:
  // Implicit on purpose: `return value;` and `return Status::error(...);` both read naturally.
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}        // NOLINT
  Result(Status status) : state_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    // An ok Status carries no value: a programmer error, reported as kInternal rather than UB.
    assert(!std::get<1>(state_).ok() && "Result constructed from an ok Status");
    if (std::get<1>(state_).ok()) {
      state_.template emplace<1>(Status::error(ErrorCode::kInternal, "Result from ok Status"));
    }
  }
  // Any value T can be made from (`return "text";` for Result<std::string>). Result and Status
  // themselves are excluded, so this never hides the copy/move constructors.
  // NOLINTBEGIN(bugprone-forwarding-reference-overload, google-explicit-constructor)
  template <typename U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, T> &&
           !std::is_same_v<std::remove_cvref_t<U>, Status> &&
           !std::is_same_v<std::remove_cvref_t<U>, Result>) Result(U&& value)
      : state_(std::in_place_index<0>, T(std::forward<U>(value))) {}
  // NOLINTEND(bugprone-forwarding-reference-overload, google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }

  // The error, or an ok Status when a value is held.
  Status status() const& { return ok() ? Status() : std::get<1>(state_); }
  Status status() && { return ok() ? Status() : std::get<1>(std::move(state_)); }

  // Precondition: ok(). Checked in debug builds.
  T& value() & { return checked(); }
  const T& value() const& { return const_cast<Result*>(this)->checked(); }
  T&& value() && { return std::move(checked()); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T value_or(T fallback) const& { return ok() ? std::get<0>(state_) : std::move(fallback); }

 private:
  T& checked() {
    assert(ok() && "Result::value() on an error");
    return std::get<0>(state_);  // throws bad_variant_access in release: never silent UB
  }

  std::variant<T, Status> state_;
};

namespace detail {
inline const Status& to_status(const Status& status) {
  return status;
}
template <typename T>
Status to_status(const Result<T>& result) {
  return result.status();
}
}  // namespace detail

}  // namespace parley

#define PARLEY_CONCAT_INNER(a, b) a##b
#define PARLEY_CONCAT(a, b) PARLEY_CONCAT_INNER(a, b)

// Returns the error from the enclosing function if `expr` (a Status or Result) failed.
#define PARLEY_RETURN_IF_ERROR(expr)                                                     \
  do {                                                                                   \
    if (auto parley_status_ = ::parley::detail::to_status(expr); !parley_status_.ok()) { \
      return parley_status_;                                                             \
    }                                                                                    \
  } while (false)

// `PARLEY_ASSIGN_OR_RETURN(auto x, f());` declares x from f()'s value or returns f()'s error.
#define PARLEY_ASSIGN_OR_RETURN(lhs, expr) \
  PARLEY_ASSIGN_OR_RETURN_IMPL(PARLEY_CONCAT(parley_result_, __LINE__), lhs, expr)
#define PARLEY_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) {                                   \
    return std::move(tmp).status();                  \
  }                                                  \
  lhs = std::move(tmp).value()
