// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Reconnect delays for clients: exponential from 1 s to 60 s with jitter, so many clients
// cut off by the same outage do not all come back in the same second.

#include <chrono>
#include <cstdint>
#include <random>

namespace parley::net {

class Backoff {
 public:
  using Duration = std::chrono::milliseconds;

  Backoff(Duration initial = std::chrono::seconds(1), Duration maximum = std::chrono::seconds(60),
          std::uint64_t seed = std::random_device{}());

  // The next delay: uniformly random in [ceiling / 2, ceiling], where the ceiling starts at
  // `initial` and doubles after each call up to `maximum`.
  Duration next();
  // After a connection that held: start again from `initial`.
  void reset();

  Duration ceiling() const { return ceiling_; }

 private:
  Duration initial_;
  Duration maximum_;
  Duration ceiling_;
  std::mt19937_64 random_;
};

}  // namespace parley::net
