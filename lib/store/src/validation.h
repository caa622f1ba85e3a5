// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Argument checks every backend applies the same way, so the conformance tests see the same
// errors from each.

#include <span>

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
Status unknown_device_error(const DeviceAddress& address);
Status queue_full_error(const DeviceAddress& address, std::uint64_t cap);

}  // namespace parley::store
