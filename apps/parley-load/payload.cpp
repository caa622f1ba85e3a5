// SPDX-License-Identifier: AGPL-3.0-or-later
// The payload format all drivers share: 8 bytes send time, 8 bytes number (little endian), then
// filler, so a receiver of any protocol can compute latency and spot duplicates.

#include <chrono>
#include <cstring>

#include "drivers.h"

namespace parley::load {
namespace {

constexpr std::size_t kStampBytes = 16;

void put_u64(char* out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xff);
}

std::uint64_t get_u64(const char* in) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(in[i]);
  return value;
}

}  // namespace

std::uint64_t steady_now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

std::string make_payload(std::size_t size, std::uint64_t send_time_ns, std::uint64_t number) {
  std::string payload(std::max(size, kStampBytes), 'x');
  put_u64(payload.data(), send_time_ns);
  put_u64(payload.data() + 8, number);
  return payload;
}

Result<PayloadStamp> read_payload(std::string_view payload) {
  if (payload.size() < kStampBytes) {
    return Status::error(ErrorCode::kMalformedInput, "load payload shorter than its stamp");
  }
  PayloadStamp stamp;
  stamp.send_time_ns = get_u64(payload.data());
  stamp.number = get_u64(payload.data() + 8);
  return stamp;
}

}  // namespace parley::load
