// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The malformed-input corpus: hand-made bad frames and requests, each with the exact numbered
// status docs/protocol.md promises and whether the server closes the connection after it. The
// runner (malformed_test.cpp) sends every case over its own TLS WebSocket connection to one real
// parleyd. README.md explains how to add a case.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "parley/proto/frame.h"
#include "parley/util/error_code.h"
#include "proto_client.h"

namespace parley::testing {

// The server settings the corpus is written against (the runner starts parleyd with them).
inline constexpr std::uint32_t kPowBits = 8;                      // small, but a real proof of work
inline constexpr std::uint64_t kMaxAttachmentBytes = 1u << 20;    // max_attachment_mb = 1
inline constexpr std::uint64_t kAttachmentQuotaBytes = 2u << 20;  // attachment_quota_mb = 2
inline constexpr std::uint32_t kMaxPendingUploads = 4;

// What the connection has done before the case's frame is sent.
enum class State {
  kFresh,          // connected, nothing sent
  kRegistration,   // a registration challenge was requested (ctx.challenge)
  kAuthChallenge,  // an auth challenge was requested (ctx.challenge), as nobody yet
  kSignedIn,       // a brand-new account, signed in as its primary device (ctx.self)
  kSignedInLinked  // a brand-new account's second (linked) device is signed in (ctx.self)
};

// What the server does after the case's frame.
enum class After {
  kOpen,          // answers with the status and keeps the connection (a ping still works)
  kClose,         // answers with the status, then closes (WebSocket 1008, or 1009 for 201)
  kCloseNoAnswer  // closes without an answer: the status travels as the WebSocket close code
};

// Built once per run, shared by every case: a second account ("bob") with one device and a
// username, and attachments it owns.
struct World {
  TestAccount bob;
  std::string bob_username;         // set on bob's account
  Bytes bob_incomplete_attachment;  // created by bob, 100 bytes declared, 10 uploaded
  Bytes bob_complete_attachment;    // created by bob, 10 bytes, complete
  std::uint16_t port = 0;
};

// Handed to a case's build function.
struct CaseContext {
  CaseContext(const World& w, ProtoClient& c) : world(w), client(c) {}

  const World& world;
  ProtoClient& client;           // the case's connection, already in the case's State
  std::string challenge;         // kRegistration / kAuthChallenge: this connection's challenge
  std::uint32_t difficulty = 0;  // kRegistration: the server's proof-of-work bits
  TestAccount self;              // kSignedIn / kSignedInLinked: who this connection is
  std::vector<std::unique_ptr<ProtoClient>> helpers;  // extra connections a case opened

  // A new connection to the same server (kept open until the case ends).
  ProtoClient& open();
  // A new connection with a brand-new account signed in as its primary device.
  ProtoClient& open_signed_in(TestAccount* account);
};

struct Case {
  std::string name;
  State state = State::kFresh;
  // Returns the exact bytes of one WebSocket message. May first make valid calls (on
  // ctx.client or helper connections) to reach the situation the case needs.
  std::function<Bytes(CaseContext&)> build;
  ErrorCode expected = ErrorCode::kOk;
  After after = After::kOpen;
};

// Encodes `request` (with id 77 unless set) in a version-1 Frame.
Bytes frame_of(wire::Request request);

// A create_account request that passes every check on a kRegistration connection (challenge,
// proof of work, signature by `identity`); cases then break one thing.
wire::Request valid_create_account(const CaseContext& ctx, const crypto::KeyPair& identity);

// The case tables, by topic (corpus_*.cpp).
void add_framing_cases(std::vector<Case>& cases);
void add_account_cases(std::vector<Case>& cases);
void add_device_and_key_cases(std::vector<Case>& cases);
void add_message_cases(std::vector<Case>& cases);
void add_attachment_cases(std::vector<Case>& cases);

// Small helpers shared by the tables.
std::string str(ByteView bytes);
std::string filler(std::size_t size, char c = 'x');
std::string random_field(std::size_t size);
// A fresh username nobody has (lower case, `prefix` + counter), within 3..32 characters.
std::string unique_username(const std::string& prefix);

}  // namespace parley::testing
