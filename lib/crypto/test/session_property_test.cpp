// SPDX-License-Identifier: AGPL-3.0-or-later
// Randomised conversations between two in-memory parties: reordering, drops, replays and both
// directions interleaved, driven by a seeded generator so every run is the same.
#include <gtest/gtest.h>

#include <deque>
#include <random>

#include "party.h"

namespace parley::crypto {
namespace {

using testing::Party;

struct InFlight {
  CiphertextMessage message;
  std::string plaintext;
  int sent_at = 0;
};

struct Direction {
  Party* from;
  Party* to;
  std::deque<InFlight> in_flight;
  std::vector<InFlight> delivered;  // recent deliveries, for replays
  int sent = 0;
  int received = 0;
  int dropped = 0;
  int replays_rejected = 0;
};

void run_conversation(std::uint32_t seed, int total_messages) {
  std::mt19937 rng(seed);
  Party alice("alice"), bob("bob");
  ASSERT_TRUE(alice.builder_for(bob).process(bob.bundle(seed % 2 == 0)).ok());
  Direction a_to_b{&alice, &bob, {}, {}};
  Direction b_to_a{&bob, &alice, {}, {}};
  bool bob_has_session = false;
  std::uniform_int_distribution<int> percent(0, 99);

  int step = 0;
  while (a_to_b.sent + b_to_a.sent < total_messages || !a_to_b.in_flight.empty() ||
         !b_to_a.in_flight.empty()) {
    ++step;
    const bool sending_phase = a_to_b.sent + b_to_a.sent < total_messages;
    // Bob can only answer once a message from Alice has created his session.
    Direction& d = (!bob_has_session || percent(rng) < 50) ? a_to_b : b_to_a;
    const int roll = percent(rng);
    if (sending_phase && roll < 45) {
      std::string plaintext = "msg " + std::to_string(d.sent) + " seed " + std::to_string(seed);
      Result<CiphertextMessage> c = d.from->cipher_for(*d.to).encrypt(as_bytes(plaintext));
      ASSERT_TRUE(c.ok()) << c.status().to_string();
      d.in_flight.push_back({std::move(*c), plaintext, step});
      ++d.sent;
      continue;
    }
    if (d.in_flight.empty()) continue;
    if (roll < 50 && d.in_flight.size() > 1) {
      // Drop one, never the last in flight, so the conversation keeps moving. (Until Bob replies,
      // every message from Alice carries the X3DH data, so any of them can start his session.)
      const auto victim = static_cast<std::ptrdiff_t>(
          std::uniform_int_distribution<std::size_t>(0, d.in_flight.size() - 1)(rng));
      d.in_flight.erase(d.in_flight.begin() + victim);
      ++d.dropped;
      continue;
    }
    if (roll < 58 && !d.delivered.empty()) {
      // Replay something delivered recently.
      const InFlight& again =
          d.delivered[std::uniform_int_distribution<std::size_t>(0, d.delivered.size() - 1)(rng)];
      Result<SecretBytes> p =
          d.to->cipher_for(*d.from).decrypt(again.message.type, again.message.bytes);
      ASSERT_FALSE(p.ok()) << "replay accepted";
      EXPECT_EQ(p.status().code(), ErrorCode::kDuplicateMessage) << p.status().to_string();
      ++d.replays_rejected;
      continue;
    }
    // Deliver one of the oldest few (bounded reordering), or the oldest if it waited too long:
    // a receiver keeps only the newest few receiving chains, as libsignal does.
    std::size_t index = 0;
    if (step - d.in_flight.front().sent_at < 12) {
      index = std::uniform_int_distribution<std::size_t>(
          0, std::min<std::size_t>(3, d.in_flight.size() - 1))(rng);
    }
    InFlight item = std::move(d.in_flight[index]);
    d.in_flight.erase(d.in_flight.begin() + static_cast<std::ptrdiff_t>(index));
    Result<SecretBytes> p =
        d.to->cipher_for(*d.from).decrypt(item.message.type, item.message.bytes);
    ASSERT_TRUE(p.ok()) << "seed " << seed << " step " << step << ": " << p.status().to_string();
    EXPECT_EQ(std::string(as_string_view(p->view())), item.plaintext);
    ++d.received;
    if (&d == &a_to_b) bob_has_session = true;
    d.delivered.push_back(std::move(item));
    if (d.delivered.size() > 4) d.delivered.erase(d.delivered.begin());
  }
  EXPECT_EQ(a_to_b.sent + b_to_a.sent, total_messages);
  EXPECT_EQ(a_to_b.received + a_to_b.dropped, a_to_b.sent);
  EXPECT_EQ(b_to_a.received + b_to_a.dropped, b_to_a.sent);
  // The generator really exercised every path.
  EXPECT_GT(a_to_b.dropped + b_to_a.dropped, 0);
  EXPECT_GT(a_to_b.replays_rejected + b_to_a.replays_rejected, 0);
  EXPECT_GT(b_to_a.received, 0);
}

TEST(SessionProperty, RandomOrderDropsReplaysBothDirections) {
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    run_conversation(seed, 1000);
  }
}

}  // namespace
}  // namespace parley::crypto
