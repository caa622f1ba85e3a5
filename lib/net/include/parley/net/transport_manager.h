// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The transport manager: how a client finds a way to parleyd on a network that blocks, throttles
// or freezes it (../shared/CENSORSHIP.md).
//
//   settings ──make_candidates()──▶ candidates ──TransportMemory::order()──▶ ordered list
//            ──TransportManager::connect()──▶ the first channel that connects
//
// - Candidates: the server's own endpoint, extra direct endpoints (IP literals with the server's
//   TLS name, for when DNS lies), and every relay from a share link; a configured proxy carries
//   all of them.
// - Racing (Happy Eyeballs, RFC 8305 in spirit): the first candidate starts at once, each next one
//   after `stagger` or as soon as the one before it failed, at most `max_parallel` at a time
//   (CENSORSHIP.md: more than ~6 parallel flows is itself a signal). The first to connect wins;
//   the others are cancelled and closed.
// - Memory per network: what won last comes first next time, candidates that just failed go
//   last, and a network where a freeze was seen is remembered so the client keeps each
//   connection under the freeze budget from the start.
// - Status: kConnecting / kConnected via <label> / kOffline, for the UI.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "parley/net/doh.h"
#include "parley/net/frame_channel.h"
#include "parley/net/proxy.h"
#include "parley/net/relay_link.h"
#include "parley/net/websocket_channel.h"
#include "parley/util/status.h"

namespace parley::net {

using namespace std::chrono_literals;

// Everything a user configured about reaching their server.
struct TransportSettings {
  std::string server;                  // "host:port": the account's server
  std::string tls_name;                // SNI/verified name for IP-literal endpoints; empty: host
  TlsTrust trust;                      // how parleyd's certificate is trusted (pin or CA)
  std::vector<std::string> endpoints;  // extra direct "host:port" endpoints, same server
  std::vector<RelayLink> relays;       // from share links
  ProxyConfig proxy;                   // carries every candidate when enabled
  std::string doh_url;                 // DNS over HTTPS for names; empty: the system resolver
  TlsTrust doh_trust;                  // how the DoH resolver's certificate is trusted
};

struct Candidate {
  enum class Kind { kDirect, kRelay };
  Kind kind = Kind::kDirect;
  std::string key;    // stable across runs, for memory: "direct host:port", "relay host:port"
  std::string label;  // for people: "direct host:port", "relay <name>", "… through socks5://…"
  WebSocketChannelOptions options;
  std::optional<DohOptions> doh;  // set: resolve the first hop's name with DoH before connecting
};

// The candidates in configured order: the server, extra endpoints, relays. kInvalidArgument when
// the server or an endpoint is not "host:port". `base` supplies timeouts and limits.
Result<std::vector<Candidate>> make_candidates(const TransportSettings& settings,
                                               const WebSocketChannelOptions& base = {});

// A short, stable, non-identifying id of the network this device is on: a hash of its
// non-loopback interface addresses. Changes when the device moves (Wi-Fi to mobile). "" if the
// device has no address.
std::string network_id();

// What worked where. Kept for at most kMaxNetworks networks (least recently used dropped); saved
// by the client in its encrypted store as text (serialize/parse).
class TransportMemory {
 public:
  static constexpr std::size_t kMaxNetworks = 32;
  // A candidate that failed within this long goes after those that did not.
  static constexpr std::int64_t kRecentFailureMs = 10LL * 60 * 1000;
  // A freeze seen on a network is assumed to last this long.
  static constexpr std::int64_t kFreezeMemoryMs = 30LL * 24 * 3600 * 1000;

  void record_success(const std::string& network, const std::string& key, std::int64_t now_ms);
  void record_failure(const std::string& network, const std::string& key, std::int64_t now_ms);
  void record_freeze(const std::string& network, std::int64_t now_ms);
  bool freeze_seen(const std::string& network, std::int64_t now_ms) const;
  std::string last_success(const std::string& network) const;  // "" when none

  // The last winner first, then the others in their given order with recently failed ones last.
  std::vector<Candidate> order(const std::string& network, std::vector<Candidate> candidates,
                               std::int64_t now_ms) const;

  // One line per network and fact; unknown or malformed lines are skipped by parse() so an old
  // or damaged text never stops a client from connecting.
  std::string serialize() const;
  static TransportMemory parse(std::string_view text);

 private:
  struct Network {
    std::string last_success_key;
    std::int64_t last_used_ms = 0;
    std::int64_t freeze_seen_ms = 0;
    std::map<std::string, std::int64_t> failed_ms;  // key -> when it last failed
  };
  Network& touch(const std::string& network, std::int64_t now_ms);
  std::map<std::string, Network> networks_;
};

enum class TransportState { kOffline, kConnecting, kConnected };

struct TransportStatus {
  TransportState state = TransportState::kOffline;
  std::string via;     // kConnected: the winning candidate's label
  std::string detail;  // kOffline: why the last attempt failed
};

std::string_view transport_state_name(TransportState state);  // "offline", "connecting", …

using CancelFlag = std::shared_ptr<std::atomic<bool>>;

// Opens one candidate. The default resolves the name with DoH when the candidate asks for it,
// then calls connect_websocket() with `cancel` wired in.
using Dialer = std::function<Result<std::unique_ptr<FrameChannel>>(const Candidate& candidate,
                                                                   const CancelFlag& cancel)>;
Result<std::unique_ptr<FrameChannel>> dial_candidate(const Candidate& candidate,
                                                     const CancelFlag& cancel);

struct TransportManagerOptions {
  std::chrono::milliseconds stagger = 1000ms;  // head start each candidate gets over the next
  std::size_t max_parallel = 4;
};

struct TransportConnection {
  std::unique_ptr<FrameChannel> channel;
  Candidate candidate;
  std::vector<std::string> failed_keys;  // candidates that failed before the winner connected
};

class TransportManager {
 public:
  explicit TransportManager(Dialer dialer = dial_candidate, TransportManagerOptions options = {});
  // Cancels attempts still running and waits for them (they stop within ~100 ms).
  ~TransportManager();
  TransportManager(const TransportManager&) = delete;
  TransportManager& operator=(const TransportManager&) = delete;

  // Races `ordered` (see the top of this file). All failing: the most preferred candidate's
  // error, with every candidate's reason in the message. kInvalidArgument for an empty list.
  Result<TransportConnection> connect(const std::vector<Candidate>& ordered);

  TransportStatus status() const;
  // Called on the thread that calls connect(): when it starts (kConnecting) and with its outcome
  // (kConnected via …, or kOffline with why).
  void set_status_callback(std::function<void(const TransportStatus&)> callback);
  // The connection the client got from connect() closed: the status becomes kOffline, without a
  // callback (the client closes connections on purpose too).
  void mark_disconnected(const std::string& why);

 private:
  struct Race;
  void set_status(const TransportStatus& status);
  void reap_finished();

  Dialer dialer_;
  TransportManagerOptions options_;
  mutable std::mutex mutex_;
  TransportStatus status_;
  std::function<void(const TransportStatus&)> callback_;
  // Attempts that lost a race and are still finishing (cancelled); joined later.
  std::vector<std::pair<std::shared_ptr<Race>, std::vector<std::thread>>> losers_;
};

}  // namespace parley::net
