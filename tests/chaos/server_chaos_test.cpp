// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Crash consistency of the real parleyd: several sender → receiver pairs talk without pause over
// TLS while the test SIGKILLs parleyd at random moments (seeded; the seed is printed) and restarts
// it on the same data directory and port. Senders retry each message with the same
// client_message_id until the server acknowledges it (the protocol's exactly-once contract);
// receivers ack every copy they get. At the end every acknowledged message must have reached its
// recipient device exactly once, and nothing may arrive that was never sent.
//
// One kill lands inside a burst of large group sends (48 KiB ciphertext fanned out to every
// receiver, four senders at once): each send is one big synced WriteBatch (payload + reference
// count + one mailbox entry per device + dedupe record) that the workers group-commit into one
// WAL write, the largest multi-record write the server makes. Compactions are caught for real:
// every restart flushes the memtable recovered from the WAL into new L0 files, so after a few
// restarts RocksDB compacts them in the background; the killer reads RocksDB's info LOG (written
// unbuffered) while it waits and kills the moment a compaction has started and not finished
// (typically 5-6 of 20 kills). Every fifth kill comes within 300 ms of a restart, sooner if a
// flush or a compaction shows up running.
//
// Knobs: PARLEY_CHAOS_KILLS (default 20), PARLEY_CHAOS_SEED (default random).

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "chaos_support.h"
#include "parleyd_process.h"

namespace parley::chaos {
namespace {

using namespace std::chrono_literals;
using testing::ParleydProcess;
using testing::ProtoClient;
using testing::TestAccount;

constexpr int kPairs = 3;
constexpr int kBurstSenders = 4;
constexpr int kBurstMessages = 10;  // per burst sender
constexpr std::size_t kBurstBytes = 48UL * 1024;
constexpr auto kGiveUpAfter = 60s;  // one message that cannot be acked in this time fails the test

// What the senders know: every message id they tried and every one the server acknowledged.
class Ledger {
 public:
  void attempted(const std::string& id) {
    std::lock_guard lock(mutex_);
    attempted_.insert(id);
  }
  void acked(const std::string& id) {
    std::lock_guard lock(mutex_);
    acked_.insert(id);
  }
  void gave_up(const std::string& id) {
    std::lock_guard lock(mutex_);
    gave_up_.insert(id);
  }
  // A message sent again after a connection broke while its send was in flight: the server may
  // have stored it already, so only its dedupe keeps the retry from being a second copy.
  void resent_after_cut() { ++resent_after_cut_; }
  int resent_after_cut_count() const { return resent_after_cut_; }
  void refused(std::uint32_t status) {
    std::lock_guard lock(mutex_);
    ++refusals_[status];
  }
  std::set<std::string> attempted_ids() const {
    std::lock_guard lock(mutex_);
    return attempted_;
  }
  std::set<std::string> acked_ids() const {
    std::lock_guard lock(mutex_);
    return acked_;
  }
  std::set<std::string> gave_up_ids() const {
    std::lock_guard lock(mutex_);
    return gave_up_;
  }
  std::map<std::uint32_t, int> refusals() const {
    std::lock_guard lock(mutex_);
    return refusals_;
  }

 private:
  mutable std::mutex mutex_;
  std::set<std::string> attempted_, acked_, gave_up_;
  std::map<std::uint32_t, int> refusals_;
  std::atomic<int> resent_after_cut_{0};
};

// What one receiving device saw: every (seq, message id) pushed to it and the acks the server
// confirmed. The same seq twice is a redelivery after an ack that was cut off (allowed); the same
// message under two seqs is a duplicate (forbidden), and so is a seq pushed again after its ack was
// confirmed.
class Inbox {
 public:
  void arrived(std::uint64_t seq, const std::string& id) {
    std::lock_guard lock(mutex_);
    if (confirmed_.count(seq) != 0) ++resurrected_;
    if (!seqs_by_id_[id].insert(seq).second) ++redelivered_;
  }
  void confirmed(std::uint64_t seq) {
    std::lock_guard lock(mutex_);
    confirmed_.insert(seq);
  }
  bool has_all(const std::set<std::string>& ids) const {
    std::lock_guard lock(mutex_);
    for (const auto& id : ids) {
      if (seqs_by_id_.count(id) == 0) return false;
    }
    return true;
  }
  std::map<std::string, std::set<std::uint64_t>> seqs_by_id() const {
    std::lock_guard lock(mutex_);
    return seqs_by_id_;
  }
  std::size_t redelivered() const {
    std::lock_guard lock(mutex_);
    return redelivered_;
  }
  std::size_t resurrected() const {
    std::lock_guard lock(mutex_);
    return resurrected_;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::set<std::uint64_t>> seqs_by_id_;
  std::set<std::uint64_t> confirmed_;
  std::size_t redelivered_ = 0;
  std::size_t resurrected_ = 0;
};

std::string payload_of(const std::string& id, std::size_t padding) {
  return id + "|" + std::string(padding, 'x');
}

std::string id_of(const std::string& ciphertext) {
  return ciphertext.substr(0, ciphertext.find('|'));
}

std::string wire_id(const std::string& id) {
  return "chaos-" + id;  // client message ids are 8 to 64 bytes
}

using RequestFactory = std::function<wire::Request(const std::string& id)>;

// Sends `prefix0`, `prefix1`, … until `stop` (or `limit` messages), each retried with the same id
// over fresh connections until acknowledged. The message in flight when `stop` is set is finished,
// so every attempted message ends acknowledged (or given up, which fails the test).
void send_loop(std::uint16_t port, const TestAccount& me, const std::string& prefix, int limit,
               const RequestFactory& make_request, const std::atomic<bool>& stop, Ledger& ledger,
               std::atomic<int>& acked) {
  std::unique_ptr<ProtoClient> client;
  for (int n = 0; n < limit && !stop; ++n) {
    const std::string id = prefix + std::to_string(n);
    ledger.attempted(id);
    const auto deadline = std::chrono::steady_clock::now() + kGiveUpAfter;
    bool cut_before = false;  // a request for this id went out and its answer was cut off
    bool counted = false;
    for (;;) {
      if (std::chrono::steady_clock::now() > deadline) {
        ledger.gave_up(id);
        return;
      }
      if (!client) {
        auto signed_in = sign_in(port, me);
        if (!signed_in.ok()) {
          std::this_thread::sleep_for(20ms);  // the server is down or restarting
          continue;
        }
        client = std::move(*signed_in);
      }
      if (cut_before && !counted) {
        ledger.resent_after_cut();
        counted = true;
      }
      auto response = client->call(make_request(id), 10s);
      if (response.ok() && response->status() == 0) {
        ledger.acked(id);
        ++acked;
        break;
      }
      if (response.ok()) {
        // A refusal (say, a rate limit): wait and resend the same id on the same connection.
        ledger.refused(response->status());
        std::this_thread::sleep_for(50ms);
        continue;
      }
      client.reset();  // a broken connection: sign in again and resend the same id
      cut_before = true;
    }
  }
}

// Receives and acks until `stop`, signing in again after every failure (or two quiet seconds: the
// test client drops its connection when a read times out).
void receive_loop(std::uint16_t port, const TestAccount& me, const std::atomic<bool>& stop,
                  Inbox& inbox) {
  std::unique_ptr<ProtoClient> client;
  while (!stop) {
    if (!client) {
      auto signed_in = sign_in(port, me);
      if (!signed_in.ok()) {
        std::this_thread::sleep_for(20ms);
        continue;
      }
      client = std::move(*signed_in);
    }
    auto push = client->next_push(2s);
    if (!push.ok()) {
      client.reset();
      continue;
    }
    if (!push->has_message()) continue;
    const std::uint64_t seq = push->message().seq();
    inbox.arrived(seq, id_of(push->message().ciphertext()));
    if (client->ack({seq}).ok()) {
      inbox.confirmed(seq);
    } else {
      client.reset();
    }
  }
}

// One last sign-in per receiver once the server is calm: whatever is still queued (copies whose
// ack was cut off) is pushed, recorded and acked until QueueEmpty.
Status final_drain(std::uint16_t port, const TestAccount& me, Inbox& inbox) {
  PARLEY_ASSIGN_OR_RETURN(auto client, sign_in(port, me));
  for (;;) {
    PARLEY_ASSIGN_OR_RETURN(wire::Push push, client->next_push(10s));
    if (push.has_queue_empty()) return {};
    if (!push.has_message()) continue;
    inbox.arrived(push.message().seq(), id_of(push.message().ciphertext()));
    PARLEY_RETURN_IF_ERROR(client->ack({push.message().seq()}));
    inbox.confirmed(push.message().seq());
  }
}

// RocksDB's background jobs as its info LOG (<store>/LOG, written unbuffered, so a kill loses
// none of it) reports them: how many flushes and compactions started and finished since the
// current process opened the store.
class RocksDbLog {
 public:
  explicit RocksDbLog(std::filesystem::path file) : file_(std::move(file)) {}
  // Starts over: a restart begins a new LOG (the old one is renamed LOG.old.<time>).
  void reset() {
    poll();  // count what the old file still holds before starting over
    offset_ = 0, flush_started_ = flush_finished_ = 0, started_ = finished_ = 0;
  }
  int compactions_seen() const { return compactions_seen_; }
  int flushes_seen() const { return flushes_seen_; }
  // Reads what was appended since the last call.
  void poll() {
    std::ifstream in(file_, std::ios::binary);
    if (!in) return;
    in.seekg(static_cast<std::streamoff>(offset_));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::size_t end = text.rfind('\n');
    if (end == std::string::npos) return;
    text.resize(end + 1);  // whole lines only; a partial one is read next time
    offset_ += text.size();
    flush_started_ += occurrences(text, "\"event\": \"flush_started\"");
    flush_finished_ += occurrences(text, "\"event\": \"flush_finished\"");
    const int compactions = occurrences(text, "\"event\": \"compaction_started\"");
    started_ += compactions;
    compactions_seen_ += compactions;
    flushes_seen_ += occurrences(text, "\"event\": \"flush_started\"");
    finished_ += occurrences(text, "\"event\": \"compaction_finished\"");
  }
  bool compaction_running() const { return started_ > finished_; }
  bool flush_running() const { return flush_started_ > flush_finished_; }

 private:
  static int occurrences(const std::string& text, const std::string& needle) {
    int n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
  }

  std::filesystem::path file_;
  std::size_t offset_ = 0;
  int flush_started_ = 0, flush_finished_ = 0, started_ = 0, finished_ = 0;
  int compactions_seen_ = 0, flushes_seen_ = 0;
};

// Joins every thread however the test ends, so a failed assertion cannot leave one running.
struct Threads {
  std::vector<std::thread> list;
  std::vector<std::atomic<bool>*> flags;
  ~Threads() {
    for (auto* flag : flags) *flag = true;
    for (auto& thread : list) {
      if (thread.joinable()) thread.join();
    }
  }
};

TEST(ServerChaosTest, KillNineUnderLoadLosesAndDuplicatesNothingAcknowledged) {
  const std::uint32_t seed = chaos_seed();
  const int kills = std::max(2, env_int("PARLEY_CHAOS_KILLS", 20));
  std::printf("[ chaos    ] seed=%u kills=%d (replay: PARLEY_CHAOS_SEED=%u)\n", seed, kills, seed);
  (void)std::fflush(stdout);
  std::mt19937 random(seed);

  TempDir data("parley-chaos-server");
  ParleydProcess server(data.str());
  Status started = server.start();
  ASSERT_TRUE(started.ok()) << started.to_string();
  const std::uint16_t port = server.port();

  std::vector<TestAccount> senders(kPairs), receivers(kPairs), bursters(kBurstSenders);
  for (auto* group : {&senders, &receivers, &bursters}) {
    for (TestAccount& account : *group) {
      ProtoClient client(port);
      ASSERT_TRUE(client.connect().ok());
      auto created = client.register_account();
      ASSERT_TRUE(created.ok()) << created.status().to_string();
      account = std::move(*created);
    }
  }

  Ledger ledger;
  std::vector<std::unique_ptr<Inbox>> inboxes;
  for (int i = 0; i < kPairs; ++i) inboxes.push_back(std::make_unique<Inbox>());
  std::atomic<bool> stop_senders{false}, stop_receivers{false}, burst_go{false};
  std::atomic<int> acked{0}, burst_acked{0};
  Threads threads;
  threads.flags = {&stop_senders, &stop_receivers, &burst_go};

  for (int i = 0; i < kPairs; ++i) {
    threads.list.emplace_back(receive_loop, port, std::cref(receivers[i]),
                              std::cref(stop_receivers), std::ref(*inboxes[i]));
  }
  for (int i = 0; i < kPairs; ++i) {
    const Bytes recipient = receivers[i].account_id;
    RequestFactory make = [recipient](const std::string& id) {
      wire::Request request;
      auto* body = request.mutable_send_message();
      body->set_recipient_account_id(recipient.data(), recipient.size());
      body->set_client_message_id(wire_id(id));
      auto* copy = body->add_copies();
      copy->set_device_id(1);
      copy->set_ciphertext(payload_of(id, 100));
      return request;
    };
    threads.list.emplace_back(send_loop, port, std::cref(senders[i]), "p" + std::to_string(i) + "-",
                              1'000'000, make, std::cref(stop_senders), std::ref(ledger),
                              std::ref(acked));
  }
  RequestFactory make_group = [&receivers](const std::string& id) {
    wire::Request request;
    auto* body = request.mutable_send_group_message();
    body->set_client_message_id(wire_id(id));
    body->set_ciphertext(payload_of(id, kBurstBytes));
    for (const TestAccount& receiver : receivers) {
      auto* recipient = body->add_recipients();
      recipient->set_account_id(receiver.account_id.data(), receiver.account_id.size());
      recipient->add_device_ids(1);
    }
    return request;
  };
  for (int i = 0; i < kBurstSenders; ++i) {
    threads.list.emplace_back([&, i] {
      while (!burst_go) std::this_thread::sleep_for(5ms);
      if (stop_senders) return;
      send_loop(port, bursters[i], "g" + std::to_string(i) + "-", kBurstMessages, make_group,
                stop_senders, ledger, burst_acked);
    });
  }

  // The killer.
  const int burst_kill = kills / 2;
  int kills_done = 0, kills_near_restart = 0, burst_in_flight_at_kill = -1;
  int kills_in_compaction = 0, kills_in_flush = 0;
  RocksDbLog log(data.path() / "store" / "LOG");
  auto started_at = std::chrono::steady_clock::now();
  for (int k = 0; k < kills; ++k) {
    if (k == burst_kill) {
      burst_go = true;
      // Let every burst sender get one big message through, so the pipeline is full, then cut.
      auto until = std::chrono::steady_clock::now() + 30s;
      while (burst_acked < kBurstSenders && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(1ms);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(random() % 10));
      burst_in_flight_at_kill = kBurstSenders * kBurstMessages - burst_acked;
    } else {
      // A random moment; but the moment RocksDB's LOG shows a compaction running (they start
      // soon after a restart, once restarts have piled up L0 files), kill at once. Every fifth
      // kill also takes a flush and waits no more than 300 ms after the restart.
      const bool near_restart = k % 5 == 4;
      kills_near_restart += near_restart ? 1 : 0;
      const auto until = std::chrono::steady_clock::now() +
                         (near_restart ? 300ms : std::chrono::milliseconds(20 + random() % 380));
      while (std::chrono::steady_clock::now() < until) {
        log.poll();
        if (log.compaction_running() || (near_restart && log.flush_running())) break;
        std::this_thread::sleep_for(1ms);
      }
      if (log.compaction_running()) ++kills_in_compaction;
      if (log.flush_running()) ++kills_in_flush;
    }
    server.kill9();
    ++kills_done;
    log.reset();
    Status restarted = server.start();
    ASSERT_TRUE(restarted.ok()) << "restart after kill " << kills_done << ": "
                                << restarted.to_string();
  }
  // Let the load run on a calm server for a moment, then finish what is in flight.
  std::this_thread::sleep_for(200ms);
  stop_senders = true;
  for (std::size_t i = kPairs; i < threads.list.size(); ++i) threads.list[i].join();

  const std::set<std::string> attempted = ledger.attempted_ids();
  const std::set<std::string> acked_ids = ledger.acked_ids();
  std::vector<std::set<std::string>> expected(kPairs);
  for (const auto& id : acked_ids) {
    for (int r = 0; r < kPairs; ++r) {
      if (id[0] == 'g' || id.rfind("p" + std::to_string(r) + "-", 0) == 0) expected[r].insert(id);
    }
  }
  auto drain_until = std::chrono::steady_clock::now() + 60s;
  for (int r = 0; r < kPairs; ++r) {
    while (!inboxes[r]->has_all(expected[r]) && std::chrono::steady_clock::now() < drain_until) {
      std::this_thread::sleep_for(20ms);
    }
  }
  stop_receivers = true;
  for (int r = 0; r < kPairs; ++r) threads.list[r].join();
  for (int r = 0; r < kPairs; ++r) {
    Status drained = final_drain(port, receivers[r], *inboxes[r]);
    EXPECT_TRUE(drained.ok()) << "receiver " << r << ": " << drained.to_string();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at).count();

  std::size_t copies = 0, delivered = 0, lost = 0, duplicated = 0, never_sent = 0, redelivered = 0,
              resurrected = 0;
  for (int r = 0; r < kPairs; ++r) {
    const auto seen = inboxes[r]->seqs_by_id();
    copies += expected[r].size();
    for (const auto& id : expected[r]) {
      if (seen.count(id) == 0) {
        ++lost;
        ADD_FAILURE() << "acknowledged message " << id << " never reached receiver " << r;
      }
    }
    for (const auto& [id, seqs] : seen) {
      ++delivered;
      if (seqs.size() > 1) {
        duplicated += seqs.size() - 1;
        ADD_FAILURE() << "message " << id << " reached receiver " << r << " " << seqs.size()
                      << " times";
      }
      if (attempted.count(id) == 0) {
        ++never_sent;
        ADD_FAILURE() << "receiver " << r << " got " << id << ", which was never sent";
      }
    }
    redelivered += inboxes[r]->redelivered();
    resurrected += inboxes[r]->resurrected();
  }
  std::string refusals;
  for (const auto& [status, count] : ledger.refusals()) {
    refusals += " " + std::to_string(status) + "x" + std::to_string(count);
  }
  std::printf(
      "[ chaos    ] kills=%d (1 during a burst of %d big group sends with %d unacked, %d right "
      "after a restart; %d during a RocksDB compaction, %d during a flush, of %d compactions and "
      "%d "
      "flushes seen) in %.1f s; acked=%zu "
      "messages (%zu copies) delivered=%zu lost=%zu "
      "duplicated=%zu never_sent=%zu; redelivered after a cut-off ack=%zu, after a confirmed "
      "ack=%zu; resent after a cut=%d; refusals:%s\n",
      kills_done, kBurstSenders * kBurstMessages, burst_in_flight_at_kill, kills_near_restart,
      kills_in_compaction, kills_in_flush, log.compactions_seen(), log.flushes_seen(), seconds,
      acked_ids.size(), copies, delivered, lost, duplicated, never_sent, redelivered, resurrected,
      ledger.resent_after_cut_count(), refusals.empty() ? " none" : refusals.c_str());
  (void)std::fflush(stdout);

  EXPECT_EQ(kills_done, kills);
  EXPECT_GT(log.compactions_seen(), 0) << "restarts pile up L0 files; RocksDB must compact them";
  EXPECT_TRUE(ledger.gave_up_ids().empty()) << "messages never acknowledged";
  EXPECT_EQ(attempted, acked_ids) << "every attempted message ends acknowledged";
  EXPECT_EQ(burst_acked, kBurstSenders * kBurstMessages);
  EXPECT_GT(acked_ids.size(), static_cast<std::size_t>(kills)) << "the load hardly ran";
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(duplicated, 0u);
  EXPECT_EQ(never_sent, 0u);
  EXPECT_EQ(resurrected, 0u) << "a confirmed ack must survive a crash";
  EXPECT_EQ(delivered, copies);
}

}  // namespace
}  // namespace parley::chaos
