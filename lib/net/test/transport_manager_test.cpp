// SPDX-License-Identifier: AGPL-3.0-or-later
// The transport manager without a network: candidates from settings, memory per network, and the
// staggered race driven by a scripted dialer. Staggers are an hour where a test proves that a
// failure starts the next attempt at once: waiting for the stagger would hit the test timeout.
#include "parley/net/transport_manager.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace parley::net {
namespace {

using namespace std::chrono_literals;

class NullChannel final : public FrameChannel {
 public:
  explicit NullChannel(std::atomic<int>* closed) : closed_(closed) {}
  Status send(ByteView) override { return Status(); }
  Result<Bytes> receive(std::chrono::milliseconds) override {
    return Status::error(ErrorCode::kTimeout, "nothing");
  }
  void close() override {
    if (!closed_once_.exchange(true)) closed_->fetch_add(1);
  }

 private:
  std::atomic<int>* closed_;
  std::atomic<bool> closed_once_{false};
};

RelayLink link(const std::string& host, const std::string& name = "") {
  RelayLink relay;
  relay.host = host;
  relay.port = 443;
  relay.secret_hex = std::string(32, 'a');
  relay.pin_hex = std::string(64, 'b');
  relay.name = name;
  return relay;
}

Candidate named(const std::string& key) {
  Candidate candidate;
  candidate.key = key;
  candidate.label = key;
  return candidate;
}

// What each scripted candidate does when dialed.
enum class Behaviour {
  kConnect,
  kFail,
  kHangUntilCancelled,
  kConnectAfterRelease,
  kFailAfterRelease
};

class ScriptedDialer {
 public:
  std::map<std::string, Behaviour> script;
  std::atomic<int> closed{0};

  Dialer dialer() {
    return [this](const Candidate& candidate, const CancelFlag& cancel) {
      return dial(candidate, cancel);
    };
  }

  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }

  std::vector<std::string> dialed() {
    std::lock_guard lock(mutex_);
    return dialed_;
  }
  int max_concurrent() const { return max_concurrent_.load(); }
  int cancelled() const { return cancelled_.load(); }

 private:
  Result<std::unique_ptr<FrameChannel>> dial(const Candidate& candidate, const CancelFlag& cancel) {
    int now = concurrent_.fetch_add(1) + 1;
    int seen = max_concurrent_.load();
    while (now > seen && !max_concurrent_.compare_exchange_weak(seen, now)) {
    }
    {
      std::lock_guard lock(mutex_);
      dialed_.push_back(candidate.key);
    }
    Result<std::unique_ptr<FrameChannel>> result =
        Status::error(ErrorCode::kUnavailable, candidate.key + " refused");
    switch (script.at(candidate.key)) {
      case Behaviour::kConnect:
        result = std::unique_ptr<FrameChannel>(std::make_unique<NullChannel>(&closed));
        break;
      case Behaviour::kFail:
        break;
      case Behaviour::kHangUntilCancelled:
        while (!cancel->load()) std::this_thread::sleep_for(1ms);
        cancelled_.fetch_add(1);
        result = Status::error(ErrorCode::kCancelled, "cancelled");
        break;
      case Behaviour::kConnectAfterRelease: {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return released_; });
        result = std::unique_ptr<FrameChannel>(std::make_unique<NullChannel>(&closed));
        break;
      }
      case Behaviour::kFailAfterRelease: {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return released_; });
        break;
      }
    }
    concurrent_.fetch_sub(1);
    return result;
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  bool released_ = false;
  std::vector<std::string> dialed_;
  std::atomic<int> concurrent_{0};
  std::atomic<int> max_concurrent_{0};
  std::atomic<int> cancelled_{0};
};

// ---- candidates -------------------------------------------------------------------------------

TEST(TransportCandidatesTest, ServerThenEndpointsThenRelaysWithTheServersTlsName) {
  TransportSettings settings;
  settings.server = "chat.example.org:443";
  settings.trust.pinned_sha256 = std::string(64, 'c');
  settings.endpoints = {"203.0.113.7:443", "[2001:db8::7]:8443", "chat.example.org:443"};
  settings.relays = {link("relay.example.net", "Anna"), link("198.51.100.9")};
  auto candidates = make_candidates(settings);
  ASSERT_TRUE(candidates.ok()) << candidates.status().to_string();
  ASSERT_EQ(candidates->size(), 5u);  // the server listed again as an endpoint is not doubled

  const Candidate& server = (*candidates)[0];
  EXPECT_EQ(server.kind, Candidate::Kind::kDirect);
  EXPECT_EQ(server.key, "direct chat.example.org:443");
  EXPECT_EQ(server.options.host, "chat.example.org");
  EXPECT_EQ(server.options.tls_name, "");  // the host itself is the name
  EXPECT_EQ(server.options.trust.pinned_sha256, settings.trust.pinned_sha256);

  const Candidate& v4 = (*candidates)[1];
  EXPECT_EQ(v4.key, "direct 203.0.113.7:443");
  EXPECT_EQ(v4.options.host, "203.0.113.7");
  EXPECT_EQ(v4.options.tls_name, "chat.example.org");  // same server, same name, other address

  const Candidate& v6 = (*candidates)[2];
  EXPECT_EQ(v6.key, "direct [2001:db8::7]:8443");
  EXPECT_EQ(v6.options.port, 8443);

  const Candidate& relay = (*candidates)[3];
  EXPECT_EQ(relay.kind, Candidate::Kind::kRelay);
  EXPECT_EQ(relay.key, "relay relay.example.net:443");
  EXPECT_EQ(relay.label, "relay Anna");
  ASSERT_TRUE(relay.options.relay.has_value());
  EXPECT_EQ(relay.options.relay->host, "relay.example.net");
  // Through the relay, the inner TLS still goes to the server by its name.
  EXPECT_EQ(relay.options.host, "chat.example.org");
  EXPECT_EQ((*candidates)[4].key, "relay 198.51.100.9:443");
  for (const Candidate& candidate : *candidates) EXPECT_FALSE(candidate.doh.has_value());
}

TEST(TransportCandidatesTest, DohOnlyForNamesAndNeverThroughAProxy) {
  TransportSettings settings;
  settings.server = "chat.example.org:443";
  settings.endpoints = {"203.0.113.7:443"};
  settings.relays = {link("relay.example.net"), link("198.51.100.9")};
  settings.doh_url = "https://192.0.2.53/dns-query";
  auto candidates = make_candidates(settings);
  ASSERT_TRUE(candidates.ok());
  ASSERT_EQ(candidates->size(), 4u);
  EXPECT_TRUE((*candidates)[0].doh.has_value());   // a name
  EXPECT_FALSE((*candidates)[1].doh.has_value());  // an IP literal needs no lookup
  EXPECT_TRUE((*candidates)[2].doh.has_value());   // the relay's name is the first hop
  EXPECT_FALSE((*candidates)[3].doh.has_value());
  EXPECT_EQ((*candidates)[0].doh->url, settings.doh_url);

  settings.proxy.kind = ProxyKind::kSocks5;
  settings.proxy.host = "127.0.0.1";
  settings.proxy.port = 9050;
  candidates = make_candidates(settings);
  ASSERT_TRUE(candidates.ok());
  for (const Candidate& candidate : *candidates) {
    EXPECT_FALSE(candidate.doh.has_value()) << candidate.key;  // the proxy resolves names
    EXPECT_EQ(candidate.options.proxy.port, 9050);
    EXPECT_NE(candidate.label.find(" through "), std::string::npos) << candidate.label;
  }
}

TEST(TransportCandidatesTest, RefusesMalformedAddresses) {
  TransportSettings settings;
  settings.server = "no-port";
  EXPECT_EQ(make_candidates(settings).status().code(), ErrorCode::kInvalidArgument);
  settings.server = "chat.example.org:443";
  settings.endpoints = {"203.0.113.7"};
  EXPECT_EQ(make_candidates(settings).status().code(), ErrorCode::kInvalidArgument);
}

// ---- memory -----------------------------------------------------------------------------------

TEST(TransportMemoryTest, LastWinnerFirstRecentFailuresLastPerNetwork) {
  std::vector<Candidate> candidates = {named("a"), named("b"), named("c"), named("d")};
  TransportMemory memory;
  memory.record_success("home", "c", 1'000);
  memory.record_failure("home", "a", 1'000);
  auto keys = [](const std::vector<Candidate>& list) {
    std::vector<std::string> out;
    for (const Candidate& candidate : list) out.push_back(candidate.key);
    return out;
  };
  EXPECT_EQ(keys(memory.order("home", candidates, 2'000)),
            (std::vector<std::string>{"c", "b", "d", "a"}));
  // Another network knows nothing yet: configured order.
  EXPECT_EQ(keys(memory.order("mobile", candidates, 2'000)),
            (std::vector<std::string>{"a", "b", "c", "d"}));
  // An old failure no longer pushes a candidate back.
  EXPECT_EQ(keys(memory.order("home", candidates, 1'000 + TransportMemory::kRecentFailureMs)),
            (std::vector<std::string>{"c", "a", "b", "d"}));
  // Success clears the failure mark.
  memory.record_failure("home", "b", 3'000);
  memory.record_success("home", "b", 4'000);
  EXPECT_EQ(keys(memory.order("home", candidates, 4'000)),
            (std::vector<std::string>{"b", "c", "d", "a"}));
  EXPECT_EQ(memory.last_success("home"), "b");
  EXPECT_EQ(memory.last_success("mobile"), "");
}

TEST(TransportMemoryTest, FreezeIsRememberedPerNetworkForAWhile) {
  TransportMemory memory;
  EXPECT_FALSE(memory.freeze_seen("mobile", 0));
  memory.record_freeze("mobile", 5'000);
  EXPECT_TRUE(memory.freeze_seen("mobile", 6'000));
  EXPECT_FALSE(memory.freeze_seen("home", 6'000));
  EXPECT_FALSE(memory.freeze_seen("mobile", 5'000 + TransportMemory::kFreezeMemoryMs));
}

TEST(TransportMemoryTest, SerializesAndSkipsDamagedLines) {
  TransportMemory memory;
  memory.record_success("home", "relay relay.example.net:443", 10);
  memory.record_failure("home", "direct chat.example.org:443", 11);
  memory.record_freeze("mobile", 12);
  TransportMemory again = TransportMemory::parse(memory.serialize());
  EXPECT_EQ(again.serialize(), memory.serialize());
  EXPECT_EQ(again.last_success("home"), "relay relay.example.net:443");
  EXPECT_TRUE(again.freeze_seen("mobile", 13));

  std::string damaged = "garbage\nnetwork\tx\tnot-a-number\t0\tk\nfailed\tunknown\t1\tk\n" +
                        memory.serialize() + "network\ttoo\tfew\n";
  TransportMemory tolerant = TransportMemory::parse(damaged);
  EXPECT_EQ(tolerant.serialize(), memory.serialize());
  // Tabs or newlines in a key would break the format: such facts are not recorded.
  TransportMemory strict;
  strict.record_success("home", "bad\tkey", 1);
  strict.record_success("bad\nnet", "k", 1);
  EXPECT_EQ(strict.serialize(), "");
}

TEST(TransportMemoryTest, KeepsABoundedNumberOfNetworks) {
  TransportMemory memory;
  for (std::size_t i = 0; i < TransportMemory::kMaxNetworks + 10; ++i) {
    memory.record_success("net" + std::to_string(i), "k", static_cast<std::int64_t>(i + 1));
  }
  std::size_t lines = 0;
  for (char c : memory.serialize()) lines += c == '\n' ? 1 : 0;
  EXPECT_EQ(lines, TransportMemory::kMaxNetworks);
  EXPECT_EQ(memory.last_success("net0"), "");  // the least recently used went first
  EXPECT_EQ(memory.last_success("net" + std::to_string(TransportMemory::kMaxNetworks + 9)), "k");
}

TEST(NetworkIdTest, StableAndShort) {
  std::string id = network_id();
  EXPECT_EQ(id, network_id());
  if (!id.empty()) {
    EXPECT_EQ(id.size(), 16u);
  }
}

// ---- the race ---------------------------------------------------------------------------------

TEST(TransportManagerTest, FirstCandidateThatConnectsWinsWithoutStartingOthers) {
  ScriptedDialer script;
  script.script = {{"a", Behaviour::kConnect}, {"b", Behaviour::kConnect}};
  TransportManager manager(script.dialer(), {.stagger = 1h, .max_parallel = 4});
  std::vector<TransportStatus> seen;
  manager.set_status_callback([&](const TransportStatus& status) { seen.push_back(status); });
  auto connected = manager.connect({named("a"), named("b")});
  ASSERT_TRUE(connected.ok()) << connected.status().to_string();
  EXPECT_EQ(connected->candidate.key, "a");
  EXPECT_EQ(script.dialed(), std::vector<std::string>{"a"});
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].state, TransportState::kConnecting);
  EXPECT_EQ(seen[1].state, TransportState::kConnected);
  EXPECT_EQ(seen[1].via, "a");
  EXPECT_EQ(manager.status().via, "a");
  manager.mark_disconnected("the server went away");
  EXPECT_EQ(manager.status().state, TransportState::kOffline);
  EXPECT_EQ(manager.status().detail, "the server went away");
  EXPECT_EQ(seen.size(), 2u);  // no callback for a close the client made
}

TEST(TransportManagerTest, AFailureStartsTheNextCandidateAtOnce) {
  ScriptedDialer script;
  script.script = {{"blocked", Behaviour::kFail},
                   {"also-blocked", Behaviour::kFail},
                   {"relay", Behaviour::kConnect}};
  TransportManager manager(script.dialer(), {.stagger = 1h, .max_parallel = 4});
  auto connected = manager.connect({named("blocked"), named("also-blocked"), named("relay")});
  ASSERT_TRUE(connected.ok()) << connected.status().to_string();
  EXPECT_EQ(connected->candidate.key, "relay");
  EXPECT_EQ(script.dialed(), (std::vector<std::string>{"blocked", "also-blocked", "relay"}));
}

TEST(TransportManagerTest, AHangingCandidateIsOvertakenAfterTheStaggerAndCancelled) {
  ScriptedDialer script;
  script.script = {{"black-holed", Behaviour::kHangUntilCancelled}, {"relay", Behaviour::kConnect}};
  {
    TransportManager manager(script.dialer(), {.stagger = 20ms, .max_parallel = 4});
    auto connected = manager.connect({named("black-holed"), named("relay")});
    ASSERT_TRUE(connected.ok()) << connected.status().to_string();
    EXPECT_EQ(connected->candidate.key, "relay");
  }  // the manager joins the cancelled attempt
  EXPECT_EQ(script.cancelled(), 1);
}

TEST(TransportManagerTest, ALateSecondSuccessIsClosed) {
  ScriptedDialer script;
  script.script = {{"slow", Behaviour::kConnectAfterRelease}, {"fast", Behaviour::kConnect}};
  {
    TransportManager manager(script.dialer(), {.stagger = 1ms, .max_parallel = 4});
    auto connected = manager.connect({named("slow"), named("fast")});
    ASSERT_TRUE(connected.ok());
    EXPECT_EQ(connected->candidate.key, "fast");
    script.release();  // "slow" connects after losing: its channel must be closed, not leaked
  }
  EXPECT_EQ(script.closed.load(), 1);
}

TEST(TransportManagerTest, NeverMoreThanMaxParallelAttempts) {
  ScriptedDialer script;
  std::vector<Candidate> candidates;
  for (int i = 0; i < 4; ++i) {
    std::string key = "held" + std::to_string(i);
    script.script[key] = Behaviour::kFailAfterRelease;
    candidates.push_back(named(key));
  }
  script.script["last"] = Behaviour::kConnect;
  candidates.push_back(named("last"));
  TransportManager manager(script.dialer(), {.stagger = 1ms, .max_parallel = 2});
  Result<TransportConnection> connected = Status::error(ErrorCode::kInternal, "not run");
  std::thread racing([&] { connected = manager.connect(candidates); });
  while (script.dialed().size() < 2) std::this_thread::sleep_for(1ms);
  // Many staggers pass while both slots are held: no third attempt may start.
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(script.dialed().size(), 2u);
  script.release();  // the held attempts fail; the rest run two at a time
  racing.join();
  ASSERT_TRUE(connected.ok()) << connected.status().to_string();
  EXPECT_EQ(connected->candidate.key, "last");
  EXPECT_EQ(script.max_concurrent(), 2);
}

TEST(TransportManagerTest, AllFailingNamesEveryCandidateAndGoesOffline) {
  ScriptedDialer script;
  script.script = {{"direct", Behaviour::kFail}, {"relay", Behaviour::kFail}};
  TransportManager manager(script.dialer(), {.stagger = 1h, .max_parallel = 4});
  auto connected = manager.connect({named("direct"), named("relay")});
  ASSERT_FALSE(connected.ok());
  EXPECT_EQ(connected.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(connected.status().message().find("direct: direct refused"), std::string::npos)
      << connected.status().message();
  EXPECT_NE(connected.status().message().find("relay: relay refused"), std::string::npos);
  EXPECT_EQ(manager.status().state, TransportState::kOffline);
  EXPECT_EQ(manager.connect({}).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace parley::net
