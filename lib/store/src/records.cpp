// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/store/records.h"

#include <algorithm>

#include "parley/util/encoding.h"

namespace parley::store {

Result<AccountId> account_id_from_bytes(ByteView bytes) {
  if (bytes.size() != kAccountIdSize) {
    return Status::error(ErrorCode::kInvalidArgument, "account id must be 16 bytes");
  }
  AccountId id{};
  std::copy(bytes.begin(), bytes.end(), id.begin());
  return id;
}

std::string to_string(const DeviceAddress& address) {
  return "device " + std::to_string(address.device_id) + " of account " +
         hex_encode(address.account_id);
}

}  // namespace parley::store
