// SPDX-License-Identifier: AGPL-3.0-or-later
// Writes the seed corpora in fuzz/corpus/<target>/: genuine messages and records made with the
// fixed test devices of fixed_world.h (no one's real keys), so every fuzz target starts from
// inputs that pass parsing, MAC and signature checks.
//
//   parley_fuzz_seeds <corpus-dir>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "fixed_world.h"
#include "parley/crypto/fingerprint.h"
#include "parley/crypto/group_cipher.h"
#include "parley/crypto/group_session_builder.h"
#include "parley/crypto/session_builder.h"
#include "parley/crypto/session_cipher.h"

using namespace parley;
namespace fs = std::filesystem;

namespace {

class Corpus {
 public:
  explicit Corpus(fs::path root) : root_(std::move(root)) {}

  void add(const std::string& target, ByteView bytes) {
    const fs::path dir = root_ / target;
    fs::create_directories(dir);
    const fs::path file = dir / ("seed-" + std::to_string(++count_[target]));
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    PARLEY_FUZZ_CHECK(out.good());
  }
  // Record seeds start with the selector byte record_fuzzer switches on.
  void add_record(std::uint8_t selector, ByteView bytes) {
    Bytes with_selector{selector};
    append(with_selector, bytes);
    add("record", with_selector);
  }

 private:
  fs::path root_;
  std::map<std::string, int> count_;
};

Bytes text_of_length(std::size_t n) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>('a' + i % 26);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus-dir>\n", argv[0]);
    return 2;
  }
  Corpus corpus(argv[1]);
  const fuzzing::FixedWorld& world = fuzzing::fixed_world();

  // SignalMessages alice → bob on the fixed session: lengths around the AES block boundaries.
  {
    auto alice = world.alice(false);
    crypto::SessionCipher cipher(alice->stores(), world.bob_address);
    for (std::size_t n : {0, 1, 15, 16, 17, 200}) {
      auto message = cipher.encrypt(text_of_length(n));
      PARLEY_FUZZ_CHECK(message.ok() && message->type == crypto::MessageType::kSignal);
      corpus.add("signal_message", message->bytes);
    }
  }
  // PreKeySignalMessages: on the fixed session (bob knows the base key) ...
  {
    auto alice = world.alice(true);
    crypto::SessionCipher cipher(alice->stores(), world.bob_address);
    for (std::size_t n : {0, 31, 120}) {
      auto message = cipher.encrypt(text_of_length(n));
      PARLEY_FUZZ_CHECK(message.ok() && message->type == crypto::MessageType::kPreKey);
      corpus.add("prekey_signal_message", message->bytes);
    }
  }
  // ... and from a real X3DH against bob's fixed bundle (a fresh base key), with and without the
  // one-time prekey.
  for (bool one_time : {true, false}) {
    crypto::InMemoryProtocolStore initiator(world.alice_identity().clone(), 1111);
    crypto::PreKeyBundle bundle = world.bob_bundle();
    if (!one_time) {
      bundle.pre_key_id.reset();
      bundle.pre_key.reset();
    }
    crypto::SessionBuilder builder(initiator.stores(), world.bob_address);
    PARLEY_FUZZ_CHECK(builder.process(bundle).ok());
    crypto::SessionCipher cipher(initiator.stores(), world.bob_address);
    auto message = cipher.encrypt(as_bytes("x3dh seed"));
    PARLEY_FUZZ_CHECK(message.ok() && message->type == crypto::MessageType::kPreKey);
    corpus.add("prekey_signal_message", message->bytes);
  }
  // Sender Key messages on alice's fixed chain, and its distribution message.
  {
    auto alice = world.alice(false);
    crypto::GroupCipher cipher(alice->sender_keys, world.group_sender);
    for (std::size_t n : {0, 16, 100}) {
      auto message = cipher.encrypt(text_of_length(n));
      PARLEY_FUZZ_CHECK(message.ok());
      corpus.add("sender_key_message", message->serialize());
    }
    crypto::GroupSessionBuilder builder(alice->sender_keys);
    auto distribution = builder.create(world.group_sender);
    PARLEY_FUZZ_CHECK(distribution.ok());
    corpus.add("sender_key_distribution", distribution->serialize());
  }
  // Keys: a bare public key, and key || signature || message for XEdDSA.
  {
    corpus.add("public_key", world.alice_identity().public_key.serialize());
    Bytes signed_input = world.bob_identity().public_key.serialize();
    const Bytes message = world.bob_bundle().signed_pre_key.serialize();
    append(signed_input, world.bob_bundle().signed_pre_key_signature);
    append(signed_input, message);
    corpus.add("public_key", signed_input);
  }
  // Records as stores keep them.
  {
    auto bob = world.bob();
    corpus.add_record(0,
                      bob->sessions.load_session(world.alice_address).value()->serialize().view());
    auto alice = world.alice(true);
    corpus.add_record(0,
                      alice->sessions.load_session(world.bob_address).value()->serialize().view());
    corpus.add_record(
        1, alice->sender_keys.load_sender_key(world.group_sender).value()->serialize().view());
    corpus.add_record(2, bob->pre_keys.load_pre_key(fuzzing::kOneTimePreKeyId)->serialize().view());
    corpus.add_record(
        3, bob->signed_pre_keys.load_signed_pre_key(fuzzing::kSignedPreKeyId)->serialize().view());
    auto fingerprint = crypto::Fingerprint::create("fuzz-alice", world.alice_identity().public_key,
                                                   "fuzz-bob", world.bob_identity().public_key);
    PARLEY_FUZZ_CHECK(fingerprint.ok());
    corpus.add_record(4, fingerprint->scannable().serialize());
  }
  std::printf("seeds written to %s\n", argv[1]);
  return 0;
}
