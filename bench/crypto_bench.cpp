// SPDX-License-Identifier: AGPL-3.0-or-later
// Parley's Signal-protocol code against libsignal-protocol-c, measured in the same process:
//   EncryptDecrypt200/SameChain  one 200-byte message encrypted and decrypted, one direction
//                                (symmetric ratchet only: HMAC chain step, HKDF, AES-CBC, MAC)
//   EncryptDecrypt200/PingPong   the direction flips every message, so every message also pays a
//                                DH ratchet step (X25519 + HKDF) on both sides
//   SessionSetup                 bob publishes a bundle (signed prekey + one-time prekey), alice
//                                verifies it and runs X3DH, sends a PreKeySignalMessage, bob runs
//                                X3DH and decrypts it
// Results and the command: bench/README.md.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>

#include "libsignal_peer.h"
#include "parley_peer.h"

namespace parley::interop {
namespace {

const Bytes& message_200() {
  static const Bytes bytes(200, 0x61);
  return bytes;
}

// --- Parley ---------------------------------------------------------------------------------

struct ParleyPair {
  ParleyPeer alice{"alice", 1};
  ParleyPeer bob{"bob", 1};
  ParleyPair() {
    auto bundle = bob.make_bundle(1, 1);
    if (!alice.process_bundle(bob.oracle_address(), bundle).ok()) std::abort();
    auto first = alice.encrypt(bob.oracle_address(), as_bytes("hi"));
    if (!first.ok()) std::abort();
    if (!bob.decrypt(alice.oracle_address(), static_cast<int>(first->type), first->bytes).ok()) {
      std::abort();
    }
    auto reply = bob.encrypt(alice.oracle_address(), as_bytes("hi"));
    if (!reply.ok()) std::abort();
    if (!alice.decrypt(bob.oracle_address(), static_cast<int>(reply->type), reply->bytes).ok()) {
      std::abort();
    }
  }
};

void send_parley(ParleyPeer& from, ParleyPeer& to, benchmark::State& state) {
  auto c = from.encrypt(to.oracle_address(), message_200());
  auto p = to.decrypt(from.oracle_address(), static_cast<int>(c->type), c->bytes);
  if (!p.ok()) state.SkipWithError(p.status().to_string().c_str());
  benchmark::DoNotOptimize(p);
}

void BM_Parley_EncryptDecrypt200_SameChain(benchmark::State& state) {
  ParleyPair pair;
  for (auto _ : state) send_parley(pair.alice, pair.bob, state);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 200);
}

void BM_Parley_EncryptDecrypt200_PingPong(benchmark::State& state) {
  ParleyPair pair;
  bool flip = false;
  for (auto _ : state) {
    if (flip) {
      send_parley(pair.bob, pair.alice, state);
    } else {
      send_parley(pair.alice, pair.bob, state);
    }
    flip = !flip;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 200);
}

void BM_Parley_SessionSetup(benchmark::State& state) {
  ParleyPeer alice("alice", 1);
  ParleyPeer bob("bob", 1);
  std::uint32_t n = 0;
  for (auto _ : state) {
    ++n;  // a new device address and new prekey ids each round: a brand-new session every time
    OracleAddress alice_device{"alice", static_cast<std::int32_t>(n)};
    OracleAddress bob_device{"bob", static_cast<std::int32_t>(n)};
    auto bundle = bob.make_bundle(n, n);
    if (!alice.process_bundle(bob_device, bundle).ok()) state.SkipWithError("process_bundle");
    auto c = alice.encrypt(bob_device, message_200());
    auto p = bob.decrypt(alice_device, static_cast<int>(c->type), c->bytes);
    if (!p.ok()) state.SkipWithError(p.status().to_string().c_str());
  }
}

// --- libsignal-protocol-c ---------------------------------------------------------------------

struct OraclePair {
  std::unique_ptr<LibsignalPeer> alice = LibsignalPeer::create("alice", 1);
  std::unique_ptr<LibsignalPeer> bob = LibsignalPeer::create("bob", 1);
  OraclePair() {
    auto bundle = bob->make_bundle(1, 1);
    if (alice->process_bundle(bob->address(), bundle.value) != kSgOk) std::abort();
    auto first = alice->encrypt(bob->address(), message_200());
    if (!bob->decrypt(alice->address(), first.value.type, first.value.bytes).ok()) std::abort();
    auto reply = bob->encrypt(alice->address(), message_200());
    if (!alice->decrypt(bob->address(), reply.value.type, reply.value.bytes).ok()) std::abort();
  }
};

void send_oracle(LibsignalPeer& from, LibsignalPeer& to, benchmark::State& state) {
  auto c = from.encrypt(to.address(), message_200());
  auto p = to.decrypt(from.address(), c.value.type, c.value.bytes);
  if (!p.ok()) state.SkipWithError("libsignal decrypt failed");
  benchmark::DoNotOptimize(p);
}

void BM_Libsignal_EncryptDecrypt200_SameChain(benchmark::State& state) {
  OraclePair pair;
  for (auto _ : state) send_oracle(*pair.alice, *pair.bob, state);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 200);
}

void BM_Libsignal_EncryptDecrypt200_PingPong(benchmark::State& state) {
  OraclePair pair;
  bool flip = false;
  for (auto _ : state) {
    if (flip) {
      send_oracle(*pair.bob, *pair.alice, state);
    } else {
      send_oracle(*pair.alice, *pair.bob, state);
    }
    flip = !flip;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 200);
}

void BM_Libsignal_SessionSetup(benchmark::State& state) {
  auto alice = LibsignalPeer::create("alice", 1);
  auto bob = LibsignalPeer::create("bob", 1);
  std::uint32_t n = 0;
  for (auto _ : state) {
    ++n;
    OracleAddress alice_device{"alice", static_cast<std::int32_t>(n)};
    OracleAddress bob_device{"bob", static_cast<std::int32_t>(n)};
    auto bundle = bob->make_bundle(n, n);
    if (alice->process_bundle(bob_device, bundle.value) != kSgOk) {
      state.SkipWithError("process_bundle");
    }
    auto c = alice->encrypt(bob_device, message_200());
    auto p = bob->decrypt(alice_device, c.value.type, c.value.bytes);
    if (!p.ok()) state.SkipWithError("libsignal decrypt failed");
  }
}

}  // namespace

BENCHMARK(BM_Parley_EncryptDecrypt200_SameChain);
BENCHMARK(BM_Libsignal_EncryptDecrypt200_SameChain);
BENCHMARK(BM_Parley_EncryptDecrypt200_PingPong);
BENCHMARK(BM_Libsignal_EncryptDecrypt200_PingPong);
BENCHMARK(BM_Parley_SessionSetup);
BENCHMARK(BM_Libsignal_SessionSetup);

}  // namespace parley::interop

BENCHMARK_MAIN();
