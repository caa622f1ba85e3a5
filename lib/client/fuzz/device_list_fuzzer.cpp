// SPDX-License-Identifier: AGPL-3.0-or-later
// libFuzzer target: verify_device_list(), the check every sender runs on the opaque signed
// device list the server hands out, against the fixed identity key of alice (client_fixtures.h).
// The first input byte selects how the rest is used:
//   even: the rest is a SignedDeviceList as the server would serve it (mostly stops at the
//         signature, as it must);
//   odd:  the rest is a DeviceList body, which the fuzzer signs with alice's key first, so the
//         checks behind the signature (account id, device ids, keys, device 1) are reached.
// Whatever verifies must name alice's account, list device 1 as her identity key, have no device
// id 0, fail under another identity key, and survive sign → verify unchanged.
#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "client_fixtures.h"
#include "parley/client/content.pb.h"
#include "parley/client/device_list.h"
#include "parley/util/error_code.h"

using namespace parley;
using namespace parley::client;

namespace {

void check_set(const DeviceSet& set, const fuzzing::FixedAccount& owner) {
  PARLEY_FUZZ_CHECK(set.account_id == owner.account_id);
  PARLEY_FUZZ_CHECK(!set.devices.empty());
  PARLEY_FUZZ_CHECK(set.devices.count(0) == 0);
  auto primary = set.devices.find(1);
  PARLEY_FUZZ_CHECK(primary != set.devices.end() && primary->second == owner.identity.public_key);
}

}  // namespace

// Protobuf logs every proto3 string with invalid UTF-8 it refuses; quiet, the fuzzer runs faster.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const fuzzing::FixedAccounts& accounts = fuzzing::fixed_accounts();
  const fuzzing::FixedAccount& alice = accounts[0];
  const fuzzing::FixedAccount& bob = accounts[1];
  const ByteView rest(data + 1, size - 1);

  Bytes signed_list;
  if ((data[0] & 1) == 0) {
    signed_list.assign(rest.begin(), rest.end());
  } else {
    const Bytes body_signed = concat({as_bytes("parley-device-list-v1"), rest});
    const Bytes signature = fuzzing::fixed_sign(alice.identity.private_key, body_signed);
    content::SignedDeviceList outer;
    outer.set_device_list(rest.data(), rest.size());
    outer.set_signature(signature.data(), signature.size());
    signed_list = to_bytes(outer.SerializeAsString());
  }

  auto verified = verify_device_list(signed_list, alice.identity.public_key, alice.account_id);
  if (!verified.ok()) {
    PARLEY_FUZZ_CHECK(verified.status().code() == ErrorCode::kDeviceListInvalid ||
                      verified.status().code() == ErrorCode::kTooLarge);
    return 0;
  }
  check_set(*verified, alice);

  // Signed by alice, so it verifies under no one else's key, nor for another account.
  PARLEY_FUZZ_CHECK(
      !verify_device_list(signed_list, bob.identity.public_key, alice.account_id).ok());
  PARLEY_FUZZ_CHECK(
      !verify_device_list(signed_list, alice.identity.public_key, bob.account_id).ok());

  // What we understood, signed again, reads back as the same set (nothing was dropped that the
  // signature covered but the parser ignored in a way that changes meaning).
  const Bytes again = sign_device_list(*verified, alice.identity.private_key);
  auto reread = verify_device_list(again, alice.identity.public_key, alice.account_id);
  if (!reread.ok()) {
    // Only a size difference may refuse it: a re-encoding can be longer than a packed input.
    PARLEY_FUZZ_CHECK(reread.status().code() == ErrorCode::kTooLarge);
    return 0;
  }
  check_set(*reread, alice);
  PARLEY_FUZZ_CHECK(reread->version == verified->version);
  PARLEY_FUZZ_CHECK(reread->timestamp_ms == verified->timestamp_ms);
  PARLEY_FUZZ_CHECK(reread->username == verified->username);
  PARLEY_FUZZ_CHECK(reread->devices == verified->devices);
  return 0;
}
