// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// A scripted conversation between two Signal-protocol endpoints, whatever implements them.
// Each side is a pair of callbacks (encrypt to the other side, decrypt from it); the driver picks
// directions, lengths, contents, delivery order and losses from a seeded RNG, checks every
// delivered plaintext, and reports the first failure with the seed and step so it can be replayed.

#include <cstdint>
#include <deque>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace parley::interop {

using WireBytes = std::vector<std::uint8_t>;

struct WireMessage {
  int type = 0;  // 2 = SignalMessage, 3 = PreKeySignalMessage (libsignal's numbering)
  WireBytes bytes;
};

// `error` is empty on success.
template <typename T>
struct Step {
  T value{};
  std::string error;
  bool ok() const { return error.empty(); }
};

struct Endpoint {
  std::string label;
  std::function<Step<WireMessage>(const WireBytes& plaintext)> encrypt;
  std::function<Step<WireBytes>(const WireMessage& message)> decrypt;
};

struct ConversationOptions {
  std::uint32_t seed = 1;
  int messages = 1000;
  // Chance a sent message is held back and delivered later, out of order.
  double reorder = 0.0;
  // Chance a sent message is lost for good.
  double drop = 0.0;
  // A held-back message is delivered at the latest this many sends later, so gaps stay within
  // what both implementations keep (each keeps at least a few old chains and 1000+ skipped keys).
  int max_delay = 12;
  int max_length = 300;
};

struct ConversationStats {
  int sent = 0;
  int delivered = 0;
  int delivered_late = 0;
  int dropped = 0;
  int a_to_b = 0;
  int b_to_a = 0;
  int ratchet_turns = 0;  // direction changes, each forcing a DH ratchet step
};

// Runs the conversation; returns an empty string when every delivered message decrypted to what
// was sent, else a description of the first failure. Precondition: both sides already hold a
// session (the handshake happened), so either may send first.
inline std::string run_conversation(Endpoint& a, Endpoint& b, const ConversationOptions& options,
                                    ConversationStats* stats_out = nullptr) {
  std::mt19937 rng(options.seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::uniform_int_distribution<int> length(0, options.max_length);
  std::uniform_int_distribution<int> byte(0, 255);
  ConversationStats stats;

  struct InFlight {
    WireMessage message;
    WireBytes plaintext;
    int due = 0;  // send index by which it must be delivered
    int index = 0;
  };
  std::deque<InFlight> to_b;  // held back on the way to b
  std::deque<InFlight> to_a;

  auto describe = [&](int step, const std::string& what) {
    std::ostringstream out;
    out << "seed " << options.seed << ", message " << step << ": " << what;
    return out.str();
  };
  auto deliver = [&](Endpoint& to, const InFlight& item, bool late) -> std::string {
    Step<WireBytes> got = to.decrypt(item.message);
    if (!got.ok()) {
      return describe(item.index, to.label + " failed to decrypt (type " +
                                      std::to_string(item.message.type) + "): " + got.error);
    }
    if (got.value != item.plaintext) {
      return describe(item.index, to.label + " decrypted different bytes");
    }
    ++stats.delivered;
    if (late) ++stats.delivered_late;
    return {};
  };
  // Delivers every held-back message that is due, plus a random extra one sometimes.
  auto flush = [&](Endpoint& to, std::deque<InFlight>& queue, int now, bool all) -> std::string {
    while (!queue.empty()) {
      std::size_t pick = queue.size();
      for (std::size_t i = 0; i < queue.size(); ++i) {
        if (all || queue[i].due <= now) {
          pick = i;
          break;
        }
      }
      if (pick == queue.size() && unit(rng) < 0.3) {
        pick = std::uniform_int_distribution<std::size_t>(0, queue.size() - 1)(rng);
      }
      if (pick == queue.size()) return {};
      InFlight item = std::move(queue[pick]);
      queue.erase(queue.begin() + static_cast<std::ptrdiff_t>(pick));
      if (std::string err = deliver(to, item, true); !err.empty()) return err;
    }
    return {};
  };

  bool last_a = true;
  for (int i = 0; i < options.messages; ++i) {
    const bool from_a = unit(rng) < 0.5;
    if (i > 0 && from_a != last_a) ++stats.ratchet_turns;
    last_a = from_a;
    Endpoint& sender = from_a ? a : b;
    Endpoint& receiver = from_a ? b : a;
    auto& queue = from_a ? to_b : to_a;
    (from_a ? stats.a_to_b : stats.b_to_a)++;

    InFlight item;
    item.index = i;
    item.plaintext.resize(static_cast<std::size_t>(length(rng)));
    for (auto& c : item.plaintext) c = static_cast<std::uint8_t>(byte(rng));
    Step<WireMessage> sent = sender.encrypt(item.plaintext);
    if (!sent.ok()) return describe(i, sender.label + " failed to encrypt: " + sent.error);
    item.message = std::move(sent.value);
    ++stats.sent;

    const double roll = unit(rng);
    if (roll < options.drop) {
      ++stats.dropped;
    } else if (roll < options.drop + options.reorder) {
      item.due = i + 1 + std::uniform_int_distribution<int>(0, options.max_delay)(rng);
      queue.push_back(std::move(item));
    } else if (std::string err = deliver(receiver, item, false); !err.empty()) {
      return err;
    }
    if (std::string err = flush(b, to_b, i, false); !err.empty()) return err;
    if (std::string err = flush(a, to_a, i, false); !err.empty()) return err;
  }
  if (std::string err = flush(b, to_b, options.messages, true); !err.empty()) return err;
  if (std::string err = flush(a, to_a, options.messages, true); !err.empty()) return err;
  if (stats_out != nullptr) *stats_out = stats;
  return {};
}

}  // namespace parley::interop
