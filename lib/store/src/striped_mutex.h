// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// A fixed array of mutexes indexed by a hash of a key: the locking of one account, device or
// unique name without a mutex per key and without one global lock. Several stripes are always
// locked in increasing index order, and callers take whole StripedMutex levels in one fixed order,
// so two callers can never wait on each other in a cycle.

#include <algorithm>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string_view>
#include <vector>

namespace parley::store {

class StripedMutex {
 public:
  explicit StripedMutex(std::size_t stripes = 1024) : mutexes_(stripes) {}

  std::size_t stripe_of(std::string_view key) const {
    return std::hash<std::string_view>{}(key) % mutexes_.size();
  }

  // Holds the locked stripes until destroyed.
  class Guard {
   public:
    Guard() = default;
    Guard(Guard&&) = default;
    Guard& operator=(Guard&&) = default;

   private:
    friend class StripedMutex;
    std::vector<std::unique_lock<std::mutex>> locks_;
  };

  // Locks the stripes of all `keys` (each stripe once, in increasing order).
  Guard lock(const std::vector<std::string_view>& keys) {
    std::vector<std::size_t> stripes;
    stripes.reserve(keys.size());
    for (std::string_view key : keys) stripes.push_back(stripe_of(key));
    std::sort(stripes.begin(), stripes.end());
    stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
    Guard guard;
    guard.locks_.reserve(stripes.size());
    for (std::size_t stripe : stripes) guard.locks_.emplace_back(mutexes_[stripe]);
    return guard;
  }
  Guard lock(std::string_view key) { return lock(std::vector<std::string_view>{key}); }

 private:
  std::vector<std::mutex> mutexes_;
};

}  // namespace parley::store
