// SPDX-License-Identifier: AGPL-3.0-or-later
// Runs the malformed-input corpus (corpus_*.cpp) against ONE real parleyd over TLS WebSocket:
// every case on its own connection, brought into the case's state with valid requests first.
// Each case must get exactly its numbered status (with the request's id when it was readable)
// and the server must then close the connection or keep it usable, as docs/protocol.md says.
// Afterwards the server must still be healthy: /healthz answers and two fresh accounts talk.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>

#include "corpus.h"
#include "parley/crypto/xeddsa.h"
#include "parley/proto/signed_messages.h"
#include "parleyd_process.h"
#include "test_support.h"

namespace parley::testing {
namespace {

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  add_framing_cases(cases);
  add_account_cases(cases);
  add_device_and_key_cases(cases);
  add_message_cases(cases);
  add_attachment_cases(cases);
  return cases;
}

// The WebSocket close code the gateway uses for a refusal with `code`.
int close_code_for(ErrorCode code) {
  if (code == ErrorCode::kTooLarge) return 1009;
  if (code == ErrorCode::kRateLimited || code == ErrorCode::kUnavailable) return 1013;
  return 1008;
}

// The id the answer must carry: the request's, when the frame parses as a Frame with a request.
std::uint64_t expected_answer_id(const Bytes& frame) {
  wire::Frame parsed;
  if (frame.size() > 256UL * 1024 ||
      !parsed.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
    return 0;
  }
  return parsed.has_request() ? parsed.request().id() : 0;
}

wire::Request simple(void (*fill)(wire::Request&)) {
  wire::Request r;
  fill(r);
  return r;
}

// True when this parleyd has the flag (the abuse limits are newer than this corpus).
bool parleyd_knows(const std::string& flag) {
  const std::string command = parleyd_binary() + " serve --help 2>/dev/null";
  std::string help;
  if (FILE* out = ::popen(command.c_str(), "r")) {
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, out)) > 0) help.append(buffer, n);
    ::pclose(out);
  }
  return help.find(flag) != std::string::npos;
}

class MalformedInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::string> config = {
        "pow_difficulty = " + std::to_string(kPowBits),
        "max_attachment_mb = " + std::to_string(kMaxAttachmentBytes >> 20),
        "attachment_quota_mb = " + std::to_string(kAttachmentQuotaBytes >> 20),
        "max_pending_uploads = " + std::to_string(kMaxPendingUploads),
    };
    // Every case signs up or connects afresh from 127.0.0.1: lift the per-address abuse limits
    // (their own tests live with them) so they do not answer 502 in place of the expected status.
    for (const char* key :
         {"signups_per_ip_per_hour", "connections_per_ip_per_minute", "max_connections_per_ip"}) {
      std::string flag = std::string("--") + key;
      for (char& c : flag) c = c == '_' ? '-' : c;
      if (parleyd_knows(flag)) config.push_back(std::string(key) + " = 0");
    }
    server_ = std::make_unique<ParleydProcess>(dir_.path(), std::move(config));
    Status started = server_->start();
    ASSERT_TRUE(started.ok()) << started.to_string();
  }
  void TearDown() override {
    if (server_ && server_->running()) {
      EXPECT_EQ(server_->terminate(), 0) << server_->log();
    }
  }

  // bob: one device, a username, one unfinished and one complete attachment.
  void build_world(World& world) {
    world.port = server_->port();
    ProtoClient bob(server_->port());
    ASSERT_TRUE(bob.connect().ok());
    auto registered = bob.register_account();
    ASSERT_TRUE(registered.ok()) << registered.status().to_string();
    world.bob = std::move(*registered);
    ASSERT_TRUE(bob.authenticate(world.bob).ok());
    world.bob_username = unique_username("bob_world_");
    wire::Request r;
    r.mutable_set_username()->set_username(world.bob_username);
    auto named = bob.call(r);
    ASSERT_TRUE(named.ok() && named->status() == 0);
    for (std::uint64_t size : {100, 10}) {
      r.mutable_create_attachment()->set_size(size);
      auto created = bob.call(r);
      ASSERT_TRUE(created.ok() && created->status() == 0);
      std::string id = created->create_attachment().attachment_id();
      r.mutable_upload_attachment_chunk()->set_attachment_id(id);
      r.mutable_upload_attachment_chunk()->set_data(filler(10, 'b'));
      auto uploaded = bob.call(r);
      ASSERT_TRUE(uploaded.ok() && uploaded->status() == 0);
      (size == 10 ? world.bob_complete_attachment : world.bob_incomplete_attachment) = to_bytes(id);
    }
  }

  // Brings ctx.client into `state` with valid requests.
  void enter(State state, CaseContext& ctx) {
    ProtoClient& c = ctx.client;
    switch (state) {
      case State::kFresh:
        return;
      case State::kRegistration: {
        auto challenge =
            c.call(simple([](wire::Request& r) { r.mutable_registration_challenge(); }));
        ASSERT_TRUE(challenge.ok() && challenge->status() == 0);
        ctx.challenge = challenge->registration_challenge().challenge();
        ctx.difficulty = challenge->registration_challenge().difficulty_bits();
        ASSERT_EQ(ctx.difficulty, kPowBits);
        return;
      }
      case State::kAuthChallenge: {
        auto challenge = c.call(simple([](wire::Request& r) { r.mutable_auth_challenge(); }));
        ASSERT_TRUE(challenge.ok() && challenge->status() == 0);
        ctx.challenge = challenge->auth_challenge().challenge();
        return;
      }
      case State::kSignedIn: {
        auto registered = c.register_account();
        ASSERT_TRUE(registered.ok()) << registered.status().to_string();
        ctx.self = std::move(*registered);
        auto signed_in = c.authenticate(ctx.self);
        ASSERT_TRUE(signed_in.ok()) << signed_in.status().to_string();
        return;
      }
      case State::kSignedInLinked: {
        TestAccount owner;
        ProtoClient& primary = ctx.open_signed_in(&owner);
        auto code = primary.call(simple([](wire::Request& r) { r.mutable_create_link_code(); }));
        ASSERT_TRUE(code.ok() && code->status() == 0);
        const std::string& text = code->create_link_code().code();
        crypto::KeyPair device = crypto::KeyPair::generate();
        Bytes device_key = device.public_key.serialize();
        wire::Request link;
        link.mutable_link_device()->set_code(text);
        link.mutable_link_device()->set_device_key(str(device_key));
        link.mutable_link_device()->set_signature(str(crypto::xeddsa_sign(
            device.private_key, proto::link_signed_bytes(as_bytes(text), device_key))));
        auto linked = c.call(link);
        ASSERT_TRUE(linked.ok() && linked->status() == 0);
        ctx.self.identity = std::move(device);
        ctx.self.account_id = owner.account_id;
        ctx.self.device_id = linked->link_device().device_id();
        ASSERT_EQ(ctx.self.device_id, 2u);
        auto signed_in = c.authenticate(ctx.self);
        ASSERT_TRUE(signed_in.ok()) << signed_in.status().to_string();
        return;
      }
    }
  }

  // The first response on `ws` (pushes are skipped), or the error that ended the connection.
  static Result<wire::Response> next_response(TlsWebSocketClient& ws) {
    for (;;) {
      PARLEY_ASSIGN_OR_RETURN(Bytes bytes, ws.receive(std::chrono::seconds(10)));
      PARLEY_ASSIGN_OR_RETURN(wire::Frame frame,
                              proto::decode_server_frame(bytes, proto::Limits{}));
      if (frame.has_response()) return frame.response();
    }
  }

  // Runs one case; returns the status it got (for the summary).
  std::uint32_t run(const Case& c, const World& world) {
    SCOPED_TRACE("case: " + c.name);
    ProtoClient client(server_->port());
    Status connected = client.connect();
    EXPECT_TRUE(connected.ok()) << "server unreachable before this case: " << connected.to_string();
    if (!connected.ok()) return 9999;
    CaseContext ctx{world, client};
    enter(c.state, ctx);
    if (::testing::Test::HasFatalFailure()) return 9998;
    Bytes frame = c.build(ctx);
    EXPECT_TRUE(client.ws().send(frame).ok());
    const auto expected = static_cast<std::uint32_t>(c.expected);

    if (c.after == After::kCloseNoAnswer) {
      auto answer = next_response(client.ws());
      EXPECT_FALSE(answer.ok()) << "got an answer with status " << answer->status();
      if (!answer.ok()) {
        EXPECT_EQ(answer.status().code(), ErrorCode::kConnectionClosed);
      }
      EXPECT_EQ(client.ws().close_code(), close_code_for(c.expected));
      return expected;
    }
    auto answer = next_response(client.ws());
    EXPECT_TRUE(answer.ok()) << answer.status().to_string();
    if (!answer.ok()) return 9997;
    EXPECT_EQ(answer->status(), expected) << answer->message();
    EXPECT_EQ(answer->id(), expected_answer_id(frame));
    if (c.after == After::kClose) {
      auto after = next_response(client.ws());
      EXPECT_FALSE(after.ok()) << "the connection stayed open";
      if (!after.ok()) {
        EXPECT_EQ(after.status().code(), ErrorCode::kConnectionClosed);
      }
      EXPECT_EQ(client.ws().close_code(), close_code_for(c.expected));
    } else {
      auto ping = client.call(simple([](wire::Request& r) { r.mutable_ping(); }));
      EXPECT_TRUE(ping.ok() && ping->status() == 0) << "the connection did not stay usable";
    }
    return answer->status();
  }

  TempDir dir_;
  std::unique_ptr<ParleydProcess> server_;
};

TEST_F(MalformedInputTest, EveryCaseGetsItsNumberedStatusAndTheServerStaysHealthy) {
  World world;
  build_world(world);
  ASSERT_FALSE(HasFatalFailure());

  const std::vector<Case> cases = all_cases();
  std::set<std::string> names;
  for (const auto& c : cases) EXPECT_TRUE(names.insert(c.name).second) << "duplicate: " << c.name;
  ASSERT_GE(cases.size(), 200u);

  std::map<std::uint32_t, int> by_status;
  int closed = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    ++by_status[run(cases[i], world)];
    if (cases[i].after != After::kOpen) ++closed;
    if (i % 25 == 24) {
      auto health = http_get("127.0.0.1", server_->admin_port(), "/healthz");
      ASSERT_TRUE(health.ok() && health->status == 200) << "after case " << cases[i].name;
    }
  }

  std::string summary = "malformed corpus: " + std::to_string(cases.size()) + " cases, " +
                        std::to_string(closed) + " closed the connection; statuses:";
  for (const auto& [status, count] : by_status) {
    summary += " " + std::to_string(status) + "×" + std::to_string(count);
  }
  std::printf("%s\n", summary.c_str());
  RecordProperty("summary", summary);

  // Still healthy: /healthz, then a normal conversation between two fresh accounts.
  auto health = http_get("127.0.0.1", server_->admin_port(), "/healthz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");

  TestAccount alice;
  TestAccount carol;
  ProtoClient a(server_->port());
  ProtoClient c(server_->port());
  ASSERT_TRUE(a.connect().ok());
  ASSERT_TRUE(c.connect().ok());
  auto alice_registered = a.register_account();
  auto carol_registered = c.register_account();
  ASSERT_TRUE(alice_registered.ok() && carol_registered.ok());
  alice = std::move(*alice_registered);
  carol = std::move(*carol_registered);
  ASSERT_TRUE(a.authenticate(alice).ok());
  ASSERT_TRUE(c.authenticate(carol).ok());
  auto sent = a.send_message(carol.account_id, "after-the-corpus", {{1, to_bytes("hello carol")}});
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(sent->status(), 0u) << sent->message();
  for (;;) {
    auto push = c.next_push();
    ASSERT_TRUE(push.ok()) << push.status().to_string();
    if (!push->has_message()) continue;  // queue_empty after sign-in
    EXPECT_EQ(push->message().ciphertext(), "hello carol");
    EXPECT_EQ(to_bytes(push->message().sender_account_id()), alice.account_id);
    EXPECT_TRUE(c.ack({push->message().seq()}).ok());
    break;
  }
  auto reply = c.send_message(alice.account_id, "reply-after-corpus", {{1, to_bytes("hi alice")}});
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status(), 0u);
  for (;;) {
    auto push = a.next_push();
    ASSERT_TRUE(push.ok()) << push.status().to_string();
    if (!push->has_message()) continue;
    EXPECT_EQ(push->message().ciphertext(), "hi alice");
    break;
  }
}

// parleyd's own input: a config file with a byte that is not UTF-8 inside a literal string made
// toml11 3.7.1 read past its buffer (found by parley_fuzz_config); parleyd must refuse it.
TEST(MalformedConfig, ParleydRefusesAConfigFileThatIsNotUtf8) {
  TempDir dir;
  ParleydProcess server(dir.path(), {"ws_path = '/x\xc4'"});
  Status started = server.start(std::chrono::seconds(10));
  EXPECT_FALSE(started.ok());
  EXPECT_NE(server.log().find("is not valid UTF-8"), std::string::npos) << server.log();
}

}  // namespace
}  // namespace parley::testing
