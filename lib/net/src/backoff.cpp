// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/net/backoff.h"

#include <algorithm>

namespace parley::net {

Backoff::Backoff(Duration initial, Duration maximum, std::uint64_t seed)
    : initial_(std::max(initial, Duration(1))),
      maximum_(std::max(maximum, initial_)),
      ceiling_(initial_),
      random_(seed) {}

Backoff::Duration Backoff::next() {
  std::uniform_int_distribution<Duration::rep> pick(ceiling_.count() / 2, ceiling_.count());
  Duration delay(pick(random_));
  ceiling_ = std::min(ceiling_ * 2, maximum_);
  return delay;
}

void Backoff::reset() {
  ceiling_ = initial_;
}

}  // namespace parley::net
