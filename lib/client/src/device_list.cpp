// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/client/device_list.h"

#include <string>

#include "parley/client/content.pb.h"
#include "parley/crypto/xeddsa.h"

namespace parley::client {

namespace {

constexpr std::string_view kDomain = "parley-device-list-v1";
constexpr std::size_t kMaxSignedListBytes = 4096;  // the server's limit for the opaque blob

Bytes signed_bytes(ByteView list) {
  return concat({as_bytes(kDomain), list});
}

Status invalid(const std::string& why) {
  return Status::error(ErrorCode::kDeviceListInvalid, "device list: " + why);
}

}  // namespace

Bytes sign_device_list(const DeviceSet& devices, const crypto::PrivateKey& identity_key) {
  content::DeviceList list;
  list.set_account_id(devices.account_id.data(), devices.account_id.size());
  list.set_version(devices.version);
  list.set_timestamp_ms(devices.timestamp_ms);
  list.set_username(devices.username);
  for (const auto& [id, key] : devices.devices) {
    auto* device = list.add_devices();
    device->set_device_id(id);
    Bytes serialized = key.serialize();
    device->set_device_key(serialized.data(), serialized.size());
  }
  std::string body = list.SerializeAsString();
  Bytes signature = crypto::xeddsa_sign(identity_key, signed_bytes(as_bytes(body)));
  content::SignedDeviceList signed_list;
  signed_list.set_device_list(body);
  signed_list.set_signature(signature.data(), signature.size());
  return to_bytes(signed_list.SerializeAsString());
}

Result<DeviceSet> verify_device_list(ByteView signed_list, const crypto::PublicKey& identity_key,
                                     ByteView account_id) {
  if (signed_list.size() > kMaxSignedListBytes) {
    return Status::error(ErrorCode::kTooLarge, "device list: larger than 4 KiB");
  }
  content::SignedDeviceList outer;
  if (signed_list.empty() ||
      !outer.ParseFromArray(signed_list.data(), static_cast<int>(signed_list.size()))) {
    return invalid("not a signed device list (the account has not published one yet?)");
  }
  if (!crypto::xeddsa_verify(identity_key, signed_bytes(as_bytes(outer.device_list())),
                             as_bytes(outer.signature()))
           .ok()) {
    return invalid("the signature does not match the account's identity key");
  }
  content::DeviceList list;
  if (!list.ParseFromString(outer.device_list())) return invalid("the signed body does not parse");
  if (as_bytes(list.account_id()).size() != account_id.size() ||
      as_string_view(account_id) != list.account_id()) {
    return invalid("the list was signed for another account");
  }
  DeviceSet set;
  set.account_id = Bytes(account_id.begin(), account_id.end());
  set.version = list.version();
  set.timestamp_ms = list.timestamp_ms();
  set.username = list.username();
  for (const auto& device : list.devices()) {
    if (device.device_id() == 0) return invalid("device id 0");
    auto key = crypto::PublicKey::parse(as_bytes(device.device_key()));
    if (!key.ok()) return invalid("a device key is malformed");
    if (!set.devices.emplace(device.device_id(), *key).second) return invalid("duplicate device");
  }
  auto primary = set.devices.find(1);
  if (primary == set.devices.end() || primary->second != identity_key) {
    return invalid("device 1 is not the identity key");
  }
  return set;
}

}  // namespace parley::client
