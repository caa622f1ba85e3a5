// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Signed device lists: how a sender knows which devices really belong to an account without
// trusting the server. The primary device (holder of the account identity key) signs the list of
// (device id, device key); senders verify it against the identity key they pinned for the
// contact, and encrypt only to listed devices. Format in proto/parley/client/content.proto.

#include <cstdint>
#include <map>
#include <string>

#include "parley/crypto/keys.h"
#include "parley/util/bytes.h"
#include "parley/util/status.h"

namespace parley::client {

struct DeviceSet {
  Bytes account_id;
  std::uint64_t version = 0;
  std::int64_t timestamp_ms = 0;
  std::map<std::uint32_t, crypto::PublicKey> devices;  // device id -> device key
  std::string username;                                // normalized; may be empty
};

// Serializes and signs `devices` with the account identity key.
Bytes sign_device_list(const DeviceSet& devices, const crypto::PrivateKey& identity_key);

// Checks the signature with `identity_key`, that the list names `account_id`, that device 1 is
// the identity key itself, and that ids are unique and non-zero. kDeviceListInvalid with a
// sentence otherwise (kTooLarge over 4 KiB).
Result<DeviceSet> verify_device_list(ByteView signed_list, const crypto::PublicKey& identity_key,
                                     ByteView account_id);

}  // namespace parley::client
