// SPDX-License-Identifier: AGPL-3.0-or-later
// Abuse limits in the core: per-IP connections and sign-ups, per-account sends, prekey fetches
// and attachments, the runtime proof-of-work difficulty, and their metrics. FakeClock throughout.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "parley/crypto/xeddsa.h"
#include "parley/proto/pow.h"
#include "parley/proto/signed_messages.h"
#include "test_harness.h"

namespace parley::server::testing {
namespace {

using namespace std::chrono_literals;

// Every limit off except the ones a test turns on.
ServerCoreConfig no_limits() {
  ServerCoreConfig config = CoreFixture::test_config();
  config.abuse = AbuseLimits{{0}, 0, {0}, {0}, {0}, {0}, {0}, {0}, {0}, 100'000};
  return config;
}

wire::Request ping() {
  wire::Request r;
  r.mutable_ping();
  return r;
}

wire::Request registration_challenge() {
  wire::Request r;
  r.mutable_registration_challenge();
  return r;
}

wire::Request bundle_request(const store::AccountId& account) {
  wire::Request r;
  r.mutable_get_prekey_bundle()->set_account_id(account_bytes(account));
  return r;
}

wire::Request create_attachment(std::uint64_t size) {
  wire::Request r;
  r.mutable_create_attachment()->set_size(size);
  return r;
}

double refused(const CoreFixture& f, const std::string& limit) {
  return f.metrics.value("parley_rate_limited_total", "limit=\"" + limit + "\"");
}

TEST(AbuseLimits, NewConnectionsPerIpAreLimitedAndRefill) {
  auto config = no_limits();
  config.abuse.connections_per_ip = {3, 60s};
  CoreFixture f(config);
  std::vector<std::unique_ptr<Client>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(std::make_unique<Client>(*f.core, "203.0.113.1"));
    EXPECT_FALSE(open.back()->sink().close_reason()) << i;
    EXPECT_EQ(status_of(open.back()->call(ping())), ErrorCode::kOk);
  }
  Client fourth(*f.core, "203.0.113.1");
  EXPECT_EQ(fourth.sink().close_reason(), ErrorCode::kRateLimited);
  EXPECT_TRUE(fourth.sink().frames().empty());
  EXPECT_EQ(refused(f, "connections_per_ip"), 1);

  Client other(*f.core, "198.51.100.1");  // another address is unaffected
  EXPECT_FALSE(other.sink().close_reason());
  Client unknown(*f.core);  // no address known (in-process): no per-IP limit
  EXPECT_FALSE(unknown.sink().close_reason());

  f.clock.advance(20s);  // one new connection per 20 s
  Client later(*f.core, "203.0.113.1");
  EXPECT_FALSE(later.sink().close_reason());
  Client too_soon(*f.core, "203.0.113.1");
  EXPECT_EQ(too_soon.sink().close_reason(), ErrorCode::kRateLimited);
}

TEST(AbuseLimits, ConcurrentConnectionsPerIpCountOnlyOpenOnes) {
  auto config = no_limits();
  config.abuse.max_connections_per_ip = 2;
  CoreFixture f(config);
  auto first = std::make_unique<Client>(*f.core, "2001:db8:1:2::1");
  Client second(*f.core, "2001:db8:1:2::2");  // the same /64
  Client third(*f.core, "2001:db8:1:2::3");
  EXPECT_EQ(third.sink().close_reason(), ErrorCode::kRateLimited);
  EXPECT_EQ(refused(f, "concurrent_connections_per_ip"), 1);
  Client elsewhere(*f.core, "2001:db8:1:3::1");  // another /64
  EXPECT_FALSE(elsewhere.sink().close_reason());

  first.reset();  // closed: its place is free again
  Client fourth(*f.core, "2001:db8:1:2::4");
  EXPECT_FALSE(fourth.sink().close_reason());
  EXPECT_EQ(f.metrics.value("parley_connections"), 3);  // refused ones were never counted
}

TEST(AbuseLimits, SignUpsPerIpAreRefusedWithoutClosingTheConnection) {
  auto config = no_limits();
  config.abuse.signups_per_ip = {2, 1h};
  CoreFixture f(config);
  for (int i = 0; i < 2; ++i) {
    Client c(*f.core, "203.0.113.5");
    Identity id;
    EXPECT_EQ(status_of(c.register_account(id)), ErrorCode::kOk) << i;
  }
  Client third(*f.core, "203.0.113.5");
  wire::Response refused_challenge = third.call(registration_challenge());
  EXPECT_EQ(status_of(refused_challenge), ErrorCode::kRateLimited);
  EXPECT_NE(refused_challenge.message().find("sign-ups per address: at most 2 per hour"),
            std::string::npos)
      << refused_challenge.message();
  EXPECT_NE(refused_challenge.message().find("retry in 1800 s"), std::string::npos)
      << refused_challenge.message();
  EXPECT_FALSE(third.sink().close_reason());
  EXPECT_EQ(status_of(third.call(ping())), ErrorCode::kOk);  // still open
  EXPECT_EQ(refused(f, "signups_per_ip"), 1);

  Client other(*f.core, "203.0.113.6");
  Identity other_id;
  EXPECT_EQ(status_of(other.register_account(other_id)), ErrorCode::kOk);

  f.clock.advance(30min);
  Identity later;
  EXPECT_EQ(status_of(third.register_account(later)), ErrorCode::kOk);
}

TEST(AbuseLimits, SendsPerAccountCoverOneToOneAndGroupSends) {
  auto config = no_limits();
  config.abuse.sends_per_account = {3, 60s};
  CoreFixture f(config);
  Client alice(*f.core), bob(*f.core), carol(*f.core);
  Identity a, b, c;
  alice.sign_up_and_in(a);
  bob.sign_up_and_in(b);
  carol.sign_up_and_in(c);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(status_of(alice.send_message(b.account, {1}, "message-" + std::to_string(i), "hi")),
              ErrorCode::kOk);
  }
  wire::Request group;
  auto* g = group.mutable_send_group_message();
  g->set_client_message_id("group-message-1");
  g->set_ciphertext("ciphertext");
  auto* member = g->add_recipients();
  member->set_account_id(account_bytes(b.account));
  member->add_device_ids(1);
  EXPECT_EQ(status_of(alice.call(group)), ErrorCode::kOk);

  wire::Response limited = alice.send_message(b.account, {1}, "message-3", "hi");
  EXPECT_EQ(status_of(limited), ErrorCode::kRateLimited);
  EXPECT_NE(
      limited.message().find("message sends per account: at most 3 per minute; retry in 20 s"),
      std::string::npos)
      << limited.message();
  g->set_client_message_id("group-message-2");
  EXPECT_EQ(status_of(alice.call(group)), ErrorCode::kRateLimited);
  EXPECT_FALSE(alice.sink().close_reason());
  EXPECT_EQ(refused(f, "sends_per_account"), 2);

  EXPECT_EQ(status_of(carol.send_message(b.account, {1}, "message-c1", "hi")), ErrorCode::kOk);
  f.clock.advance(20s);
  EXPECT_EQ(status_of(alice.send_message(b.account, {1}, "message-3", "hi")), ErrorCode::kOk);
}

TEST(AbuseLimits, PrekeyFetchesAreLimitedPerAccountPerPairAndPerTarget) {
  auto config = no_limits();
  config.abuse.prekey_fetches_per_account = {4, 60s};
  config.abuse.prekey_fetches_per_pair = {2, 1h};
  config.abuse.prekey_fetches_per_target = {3, 1h};
  CoreFixture f(config);
  Client alice(*f.core), bob(*f.core), carol(*f.core), dave(*f.core), erin(*f.core);
  Identity a, b, c, d, e;
  alice.sign_up_and_in(a);
  bob.sign_up_and_in(b);
  carol.sign_up_and_in(c);
  dave.sign_up_and_in(d);
  erin.sign_up_and_in(e);
  ASSERT_EQ(status_of(bob.upload_prekeys(b, 1, 50)), ErrorCode::kOk);
  ASSERT_EQ(status_of(carol.upload_prekeys(c, 1, 50)), ErrorCode::kOk);
  ASSERT_EQ(status_of(dave.upload_prekeys(d, 1, 50)), ErrorCode::kOk);

  // One pair: the third fetch of Bob by Alice within the hour is refused.
  EXPECT_EQ(status_of(alice.call(bundle_request(b.account))), ErrorCode::kOk);
  EXPECT_EQ(status_of(alice.call(bundle_request(b.account))), ErrorCode::kOk);
  wire::Response pair = alice.call(bundle_request(b.account));
  EXPECT_EQ(status_of(pair), ErrorCode::kRateLimited);
  EXPECT_NE(pair.message().find("prekey fetches of one account by one account"), std::string::npos)
      << pair.message();
  EXPECT_EQ(refused(f, "prekey_fetches_per_pair"), 1);

  // The requester: 4 per minute in all (the refused one above counted too).
  EXPECT_EQ(status_of(alice.call(bundle_request(c.account))), ErrorCode::kOk);
  EXPECT_EQ(status_of(alice.call(bundle_request(d.account))), ErrorCode::kRateLimited);
  EXPECT_EQ(refused(f, "prekey_fetches_per_account"), 1);

  // The target: Bob's keys go to 3 fetches per hour from everyone together.
  EXPECT_EQ(status_of(carol.call(bundle_request(b.account))), ErrorCode::kOk);
  EXPECT_EQ(status_of(dave.call(bundle_request(b.account))), ErrorCode::kRateLimited);
  EXPECT_EQ(refused(f, "prekey_fetches_per_target"), 1);
  // Others' keys are unaffected, and every refusal left the connection open.
  EXPECT_EQ(status_of(erin.call(bundle_request(c.account))), ErrorCode::kOk);
  EXPECT_FALSE(alice.sink().close_reason());
  EXPECT_FALSE(dave.sink().close_reason());

  f.clock.advance(1h);
  EXPECT_EQ(status_of(alice.call(bundle_request(b.account))), ErrorCode::kOk);
}

TEST(AbuseLimits, AttachmentCreationsAndDeclaredBytesPerAccount) {
  auto config = no_limits();
  config.abuse.attachments_per_account = {3, 1h};
  config.abuse.attachment_bytes_per_account = {10'000, 1h};
  CoreFixture f(config);
  Client alice(*f.core), bob(*f.core);
  Identity a, b;
  alice.sign_up_and_in(a);
  bob.sign_up_and_in(b);
  EXPECT_EQ(status_of(alice.call(create_attachment(6'000))), ErrorCode::kOk);
  wire::Response bytes = alice.call(create_attachment(6'000));
  EXPECT_EQ(status_of(bytes), ErrorCode::kRateLimited);
  EXPECT_NE(bytes.message().find("attachment bytes per account"), std::string::npos);
  EXPECT_EQ(status_of(alice.call(create_attachment(100))), ErrorCode::kOk);
  wire::Response count = alice.call(create_attachment(100));  // the refused one counted too
  EXPECT_EQ(status_of(count), ErrorCode::kRateLimited);
  EXPECT_NE(count.message().find("attachments per account"), std::string::npos);
  EXPECT_EQ(status_of(bob.call(create_attachment(6'000))), ErrorCode::kOk);
  f.clock.advance(1h);
  EXPECT_EQ(status_of(alice.call(create_attachment(6'000))), ErrorCode::kOk);
}

TEST(AbuseLimits, LimiterTablesStayBoundedAndAreOnMetrics) {
  auto config = no_limits();
  config.abuse.connections_per_ip = {5, 60s};
  config.abuse.max_tracked_keys = 16;
  CoreFixture f(config);
  for (int i = 0; i < 500; ++i) {
    Client c(*f.core, "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256));
    ASSERT_FALSE(c.sink().close_reason()) << i;
  }
  std::string text = f.metrics.render_prometheus();
  EXPECT_NE(text.find("parley_rate_limiter_keys{limit=\"connections_per_ip\"} 16\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("parley_rate_limiter_evictions_total{limit=\"connections_per_ip\"} 484\n"),
            std::string::npos);
  EXPECT_NE(text.find("parley_connection_limit_addresses 0\n"), std::string::npos);
}

TEST(AbuseLimits, DefaultsAreOnAndGenerous) {
  AbuseLimits defaults;
  EXPECT_TRUE(defaults.connections_per_ip.enabled());
  EXPECT_GT(defaults.max_connections_per_ip, 0u);
  EXPECT_TRUE(defaults.signups_per_ip.enabled());
  EXPECT_TRUE(defaults.prekey_fetches_per_account.enabled());
  EXPECT_TRUE(defaults.prekey_fetches_per_pair.enabled());
  EXPECT_TRUE(defaults.prekey_fetches_per_target.enabled());
  EXPECT_TRUE(defaults.sends_per_account.enabled());
  EXPECT_TRUE(defaults.attachments_per_account.enabled());
  EXPECT_TRUE(defaults.attachment_bytes_per_account.enabled());
  // A whole large group's worth of fetches at once (creating it fetches every member's keys).
  EXPECT_GE(defaults.prekey_fetches_per_account.count, 200u);
}

TEST(PowDifficulty, ChangesAtRuntimeForNewChallengesOnly) {
  CoreFixture f;  // 4 bits
  EXPECT_EQ(f.metrics.value("parley_pow_difficulty_bits"), 4);
  Client early(*f.core);
  wire::Response before = early.call(registration_challenge());
  ASSERT_EQ(before.registration_challenge().difficulty_bits(), 4u);

  EXPECT_EQ(f.core->set_pow_difficulty(33).code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(f.core->set_pow_difficulty(12).ok());
  EXPECT_EQ(f.core->pow_difficulty(), 12u);
  EXPECT_EQ(f.metrics.value("parley_pow_difficulty_bits"), 12);

  Client late(*f.core);
  EXPECT_EQ(late.call(registration_challenge()).registration_challenge().difficulty_bits(), 12u);

  // The early client's challenge keeps its 4 bits: a 4-bit solution is accepted for it.
  Identity id;
  const std::string& challenge = before.registration_challenge().challenge();
  Bytes nonce = proto::pow_solve(as_bytes(challenge), 4);
  Bytes key = id.key.public_key.serialize();
  wire::Request create;
  auto* body = create.mutable_create_account();
  body->set_identity_key(std::string(as_string_view(key)));
  body->set_registration_id(1);
  body->set_challenge(challenge);
  body->set_pow_nonce(std::string(as_string_view(nonce)));
  Bytes signature = crypto::xeddsa_sign(id.key.private_key,
                                        proto::registration_signed_bytes(as_bytes(challenge), key));
  body->set_signature(std::string(as_string_view(signature)));
  EXPECT_EQ(status_of(early.call(create)), ErrorCode::kOk);

  // And the new difficulty is what new sign-ups must meet.
  Identity fresh;
  EXPECT_EQ(status_of(late.register_account(fresh)), ErrorCode::kOk);
  ASSERT_TRUE(f.core->set_pow_difficulty(0).ok());
  EXPECT_EQ(late.call(registration_challenge()).registration_challenge().difficulty_bits(), 0u);
}

}  // namespace
}  // namespace parley::server::testing
