// SPDX-License-Identifier: AGPL-3.0-or-later
#include "core_impl.h"
#include "parley/crypto/keys.h"
#include "parley/crypto/xeddsa.h"

namespace parley::server {

Status verify_signature(ByteView public_key, ByteView message, ByteView signature) {
  PARLEY_ASSIGN_OR_RETURN(crypto::PublicKey key, crypto::PublicKey::parse(public_key));
  return crypto::xeddsa_verify(key, message, signature);
}

Result<store::DeviceAddress> require_device(const RequestContext& ctx) {
  if (!ctx.connection->device) {
    return Status::error(ErrorCode::kUnauthenticated, "authenticate this connection first");
  }
  return *ctx.connection->device;
}

Result<store::DeviceAddress> require_primary(const RequestContext& ctx) {
  PARLEY_ASSIGN_OR_RETURN(store::DeviceAddress device, require_device(ctx));
  if (device.device_id != store::kPrimaryDeviceId) {
    return Status::error(ErrorCode::kPermissionDenied, "only the primary device may do this");
  }
  return device;
}

}  // namespace parley::server
