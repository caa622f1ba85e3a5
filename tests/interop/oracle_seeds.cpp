// SPDX-License-Identifier: AGPL-3.0-or-later
// Adds libsignal-protocol-c's own encodings to the fuzz seed corpora (files `libsignal-<n>` in
// fuzz/corpus/<target>/), so Parley's parsers are fuzzed from the other implementation's bytes
// too. These messages belong to throwaway test sessions; they do not decrypt in the fuzz targets'
// fixed session (the `seed-<n>` files from parley_fuzz_seeds do).
//
//   parley_oracle_seeds <corpus-dir>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "libsignal_peer.h"

namespace fs = std::filesystem;
using parley::interop::LibsignalPeer;
using parley::interop::OracleBytes;

namespace {

class Corpus {
 public:
  explicit Corpus(fs::path root) : root_(std::move(root)) {}
  void add(const std::string& target, const OracleBytes& bytes) {
    fs::create_directories(root_ / target);
    std::ofstream out(root_ / target / ("libsignal-" + std::to_string(++count_[target])),
                      std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out.good()) std::abort();
  }

 private:
  fs::path root_;
  std::map<std::string, int> count_;
};

template <typename T>
T must(parley::interop::OracleResult<T> result) {
  if (!result.ok()) {
    (void)std::fprintf(stderr, "libsignal error %d\n", result.error);
    std::exit(1);  // NOLINT(concurrency-mt-unsafe): a one-thread tool
  }
  return std::move(result.value);
}

OracleBytes text(const std::string& s) {
  return OracleBytes(s.begin(), s.end());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    (void)std::fprintf(stderr, "usage: %s <corpus-dir>\n", argv[0]);
    return 2;
  }
  Corpus corpus(argv[1]);

  for (bool one_time : {true, false}) {
    auto alice = LibsignalPeer::create("alice", 1);
    auto bob = LibsignalPeer::create("bob", 2);
    auto bundle =
        must(bob->make_bundle(5, one_time ? std::optional<std::uint32_t>(6) : std::nullopt));
    if (alice->process_bundle(bob->address(), bundle) != 0) return 1;
    auto first = must(alice->encrypt(bob->address(), text("first message")));
    corpus.add("prekey_signal_message", first.bytes);
    must(bob->decrypt(alice->address(), first.type, first.bytes));
    for (std::size_t n : {0u, 16u, 150u}) {
      auto reply = must(bob->encrypt(alice->address(), OracleBytes(n, 0x42)));
      corpus.add("signal_message", reply.bytes);
    }
    corpus.add("public_key", alice->identity_public());
    OracleBytes signed_input = bundle.identity_key;
    signed_input.insert(signed_input.end(), bundle.signed_pre_key_signature.begin(),
                        bundle.signed_pre_key_signature.end());
    signed_input.insert(signed_input.end(), bundle.signed_pre_key_public.begin(),
                        bundle.signed_pre_key_public.end());
    corpus.add("public_key", signed_input);
  }

  auto sender = LibsignalPeer::create("sender", 1);
  corpus.add("sender_key_distribution", must(sender->sender_key_distribution("group")));
  for (std::size_t n : {0u, 33u, 100u}) {
    corpus.add("sender_key_message", must(sender->group_encrypt("group", OracleBytes(n, 0x17))));
  }
  corpus.add("sender_key_distribution", must(sender->sender_key_distribution("group")));
  std::printf("libsignal seeds written to %s\n", argv[1]);
  return 0;
}
