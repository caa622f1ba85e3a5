// SPDX-License-Identifier: AGPL-3.0-or-later
// Stored records (first byte selects which): parse, then serialize is stable under re-parsing.
// A parsed session record is also used: whatever state a corrupted store hands back, encrypting
// and decrypting with it must fail cleanly or work, never crash.
#include <cstddef>
#include <cstdint>

#include "fixed_world.h"
#include "parley/crypto/fingerprint.h"
#include "parley/crypto/prekeys.h"
#include "parley/crypto/sender_key_record.h"
#include "parley/crypto/session_cipher.h"
#include "parley/crypto/session_record.h"

using namespace parley;

namespace {

// serialize(parse(x)) is a fixed point of parse∘serialize.
template <typename Record>
void check_stable(ByteView in) {
  auto record = Record::parse(in);
  if (!record.ok()) return;
  const auto first = record->serialize();
  auto again = Record::parse(first.view());
  PARLEY_FUZZ_CHECK(again.ok());
  PARLEY_FUZZ_CHECK(again->serialize() == first);
}

void session_record(ByteView in) {
  check_stable<crypto::SessionRecord>(in);
  auto record = crypto::SessionRecord::parse(in);
  if (!record.ok()) return;
  const fuzzing::FixedWorld& world = fuzzing::fixed_world();
  auto bob = world.bob();
  PARLEY_FUZZ_CHECK(bob->sessions.store_session(world.alice_address, *record).ok());
  crypto::SessionCipher cipher(bob->stores(), world.alice_address);
  (void)cipher.encrypt(as_bytes("hello"));
  (void)cipher.remote_registration_id();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const ByteView in(data + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      session_record(in);
      break;
    case 1:
      check_stable<crypto::SenderKeyRecord>(in);
      break;
    case 2:
      check_stable<crypto::PreKeyRecord>(in);
      break;
    case 3:
      check_stable<crypto::SignedPreKeyRecord>(in);
      break;
    default: {
      auto scannable = crypto::ScannableFingerprint::parse(in);
      if (scannable.ok()) {
        auto again = crypto::ScannableFingerprint::parse(scannable->serialize());
        PARLEY_FUZZ_CHECK(again.ok() && again->local() == scannable->local() &&
                          again->remote() == scannable->remote());
      }
      break;
    }
  }
  return 0;
}
