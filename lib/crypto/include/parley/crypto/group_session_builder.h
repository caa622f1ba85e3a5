// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Sets up Sender Key (group) sessions: the sender creates a distribution message (sent to each
// member over pairwise sessions); members process it.

#include "parley/crypto/address.h"
#include "parley/crypto/messages.h"
#include "parley/crypto/stores.h"
#include "parley/util/status.h"

namespace parley::crypto {

class GroupSessionBuilder {
 public:
  explicit GroupSessionBuilder(SenderKeyStore& store) : store_(store) {}

  // Receiver: adds the sender's chain from `message`.
  Status process(const SenderKeyName& name, const SenderKeyDistributionMessage& message);

  // Sender: creates our chain for `name` on first use (random 31-bit id, random chain key,
  // fresh signing key) and returns its distribution message at the current iteration.
  Result<SenderKeyDistributionMessage> create(const SenderKeyName& name);

 private:
  SenderKeyStore& store_;
};

}  // namespace parley::crypto
