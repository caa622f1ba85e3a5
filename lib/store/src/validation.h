// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Argument checks every backend applies the same way, so the conformance tests see the same
// errors from each.

#include <span>

#include "parley/store/blob_store.h"
#include "parley/store/records.h"
#include "parley/util/status.h"

namespace parley::store {

Status validate_new_account(const Account& account);
Status validate_username(std::string_view username);
Status validate_new_device(const Device& device);
Status validate_signed_prekey(const SignedPrekey& prekey);
Status validate_one_time_prekeys(std::span<const OneTimePrekey> prekeys);
Status validate_append(const AppendRequest& request);

// The errors for a recipient that does not exist and a mailbox that is full, naming the device.
// A new blob's own arguments: not empty, not already expired, not over the size limit.
Status validate_new_blob(std::uint64_t size, std::int64_t now_ms, std::int64_t expires_ms,
                         const BlobLimits& limits);
// Whether the owner may start one more blob of `size`, given the bytes its unexpired blobs
// declare (`used`) and how many of them are unfinished (`incomplete`).
Status admit_new_blob(std::uint64_t used, std::uint64_t incomplete, std::uint64_t size,
                      const BlobLimits& limits);

Status unknown_device_error(const DeviceAddress& address);
Status queue_full_error(const DeviceAddress& address, std::uint64_t cap);

}  // namespace parley::store
