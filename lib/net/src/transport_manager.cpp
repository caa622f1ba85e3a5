// SPDX-License-Identifier: AGPL-3.0-or-later
// Candidates, memory per network, and the staggered race (see transport_manager.h).
#include "parley/net/transport_manager.h"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <optional>
#include <sstream>
#include <utility>

#include "channel_text.h"
#include "ip_literal.h"

namespace parley::net {
namespace {

// The host the first TCP hop goes to, where DoH would help.
const std::string& first_hop_host(const WebSocketChannelOptions& options) {
  return options.relay ? options.relay->host : options.host;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    std::size_t at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

bool safe_field(std::string_view text) {
  return text.find_first_of("\t\n") == std::string_view::npos;
}

}  // namespace

// ---- candidates -------------------------------------------------------------------------------

Result<std::vector<Candidate>> make_candidates(const TransportSettings& settings,
                                               const WebSocketChannelOptions& base) {
  PARLEY_ASSIGN_OR_RETURN(HostPort server, parse_host_port(settings.server));
  // The name TLS checks for every path to this server: an extra endpoint is the same server
  // at another address, so it keeps the server's name.
  std::string tls_name = settings.tls_name;
  if (tls_name.empty() && !is_ip_literal(server.host)) tls_name = server.host;
  std::string through;
  if (settings.proxy.enabled()) through = " through " + proxy_display(settings.proxy);

  auto with_doh = [&](Candidate& candidate) {
    const std::string& host = first_hop_host(candidate.options);
    if (settings.doh_url.empty() || settings.proxy.enabled() || is_ip_literal(host)) return;
    DohOptions doh;
    doh.url = settings.doh_url;
    doh.trust = settings.doh_trust;
    candidate.doh = std::move(doh);
  };

  std::vector<Candidate> candidates;
  auto add_direct = [&](const HostPort& where) {
    std::string name = authority(where.host, where.port);
    for (const Candidate& existing : candidates) {
      if (existing.key == "direct " + name) return;  // listed twice: once is enough
    }
    Candidate candidate;
    candidate.kind = Candidate::Kind::kDirect;
    candidate.key = "direct " + name;
    candidate.label = "direct " + name + through;
    candidate.options = base;
    candidate.options.host = where.host;
    candidate.options.port = where.port;
    candidate.options.tls_name = where.host == server.host ? settings.tls_name : tls_name;
    candidate.options.trust = settings.trust;
    candidate.options.proxy = settings.proxy;
    with_doh(candidate);
    candidates.push_back(std::move(candidate));
  };
  add_direct(server);
  for (const std::string& endpoint : settings.endpoints) {
    PARLEY_ASSIGN_OR_RETURN(HostPort where, parse_host_port(endpoint));
    add_direct(where);
  }
  for (const RelayLink& link : settings.relays) {
    std::string name = authority(link.host, link.port);
    Candidate candidate;
    candidate.kind = Candidate::Kind::kRelay;
    candidate.key = "relay " + name;
    candidate.label = "relay " + link.display() + through;
    candidate.options = base;
    candidate.options.host = server.host;
    candidate.options.port = server.port;
    candidate.options.tls_name = settings.tls_name;
    candidate.options.trust = settings.trust;
    candidate.options.proxy = settings.proxy;
    candidate.options.relay = link;
    with_doh(candidate);
    candidates.push_back(std::move(candidate));
  }
  return candidates;
}

Result<std::unique_ptr<FrameChannel>> dial_candidate(const Candidate& candidate,
                                                     const CancelFlag& cancel) {
  WebSocketChannelOptions options = candidate.options;
  options.cancel = cancel;
  if (candidate.doh && options.addresses.empty()) {
    const std::string& host = first_hop_host(options);
    PARLEY_ASSIGN_OR_RETURN(options.addresses, resolve_doh(host, *candidate.doh));
  }
  if (cancel && cancel->load()) return Status::error(ErrorCode::kCancelled, "cancelled");
  return connect_websocket(options);
}

// ---- memory -----------------------------------------------------------------------------------

TransportMemory::Network& TransportMemory::touch(const std::string& network, std::int64_t now_ms) {
  Network& entry = networks_[network];
  entry.last_used_ms = std::max(entry.last_used_ms, now_ms);
  while (networks_.size() > kMaxNetworks) {
    auto oldest = std::min_element(networks_.begin(), networks_.end(), [](auto& a, auto& b) {
      return a.second.last_used_ms < b.second.last_used_ms;
    });
    if (oldest->first == network) break;  // cannot happen with a fresh timestamp; be safe
    networks_.erase(oldest);
  }
  return networks_[network];
}

void TransportMemory::record_success(const std::string& network, const std::string& key,
                                     std::int64_t now_ms) {
  if (!safe_field(network) || !safe_field(key)) return;
  Network& entry = touch(network, now_ms);
  entry.last_success_key = key;
  entry.failed_ms.erase(key);
}

void TransportMemory::record_failure(const std::string& network, const std::string& key,
                                     std::int64_t now_ms) {
  if (!safe_field(network) || !safe_field(key)) return;
  Network& entry = touch(network, now_ms);
  entry.failed_ms[key] = now_ms;
  if (entry.failed_ms.size() > 64) {
    auto oldest = std::min_element(entry.failed_ms.begin(), entry.failed_ms.end(),
                                   [](auto& a, auto& b) { return a.second < b.second; });
    entry.failed_ms.erase(oldest);
  }
}

void TransportMemory::record_freeze(const std::string& network, std::int64_t now_ms) {
  if (!safe_field(network)) return;
  touch(network, now_ms).freeze_seen_ms = now_ms;
}

bool TransportMemory::freeze_seen(const std::string& network, std::int64_t now_ms) const {
  auto found = networks_.find(network);
  if (found == networks_.end() || found->second.freeze_seen_ms == 0) return false;
  return now_ms - found->second.freeze_seen_ms < kFreezeMemoryMs;
}

std::string TransportMemory::last_success(const std::string& network) const {
  auto found = networks_.find(network);
  return found == networks_.end() ? std::string() : found->second.last_success_key;
}

std::vector<Candidate> TransportMemory::order(const std::string& network,
                                              std::vector<Candidate> candidates,
                                              std::int64_t now_ms) const {
  auto found = networks_.find(network);
  if (found == networks_.end()) return candidates;
  const Network& entry = found->second;
  auto rank = [&](const Candidate& candidate) {
    if (candidate.key == entry.last_success_key) return 0;
    auto failed = entry.failed_ms.find(candidate.key);
    if (failed != entry.failed_ms.end() && now_ms - failed->second < kRecentFailureMs) return 2;
    return 1;
  };
  std::stable_sort(candidates.begin(), candidates.end(),
                   [&](const Candidate& a, const Candidate& b) { return rank(a) < rank(b); });
  return candidates;
}

std::string TransportMemory::serialize() const {
  std::ostringstream out;
  for (const auto& [network, entry] : networks_) {
    out << "network\t" << network << '\t' << entry.last_used_ms << '\t' << entry.freeze_seen_ms
        << '\t' << entry.last_success_key << '\n';
    for (const auto& [key, when] : entry.failed_ms) {
      out << "failed\t" << network << '\t' << when << '\t' << key << '\n';
    }
  }
  return out.str();
}

TransportMemory TransportMemory::parse(std::string_view text) {
  TransportMemory memory;
  for (std::string_view line : split(text, '\n')) {
    std::vector<std::string_view> fields = split(line, '\t');
    if (fields.size() == 5 && fields[0] == "network") {
      auto used = parse_int(fields[2]);
      auto freeze = parse_int(fields[3]);
      if (!used || !freeze || fields[1].empty()) continue;
      Network& entry = memory.networks_[std::string(fields[1])];
      entry.last_used_ms = *used;
      entry.freeze_seen_ms = *freeze;
      entry.last_success_key = std::string(fields[4]);
    } else if (fields.size() == 4 && fields[0] == "failed") {
      auto when = parse_int(fields[2]);
      auto network = memory.networks_.find(std::string(fields[1]));
      if (!when || network == memory.networks_.end()) continue;
      network->second.failed_ms[std::string(fields[3])] = *when;
    }
  }
  // A damaged text must not grow without bound either.
  while (memory.networks_.size() > kMaxNetworks) memory.networks_.erase(memory.networks_.begin());
  return memory;
}

std::string_view transport_state_name(TransportState state) {
  switch (state) {
    case TransportState::kOffline:
      return "offline";
    case TransportState::kConnecting:
      return "connecting";
    case TransportState::kConnected:
      return "connected";
  }
  return "offline";
}

// ---- the race ---------------------------------------------------------------------------------

struct TransportManager::Race {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<CancelFlag> cancels;
  std::vector<std::optional<Status>> failures;  // per candidate, once it failed
  std::size_t running = 0;
  std::size_t failed = 0;
  std::optional<std::size_t> winner;
  std::unique_ptr<FrameChannel> channel;
};

TransportManager::TransportManager(Dialer dialer, TransportManagerOptions options)
    : dialer_(std::move(dialer)), options_(options) {
  if (options_.max_parallel == 0) options_.max_parallel = 1;
}

TransportManager::~TransportManager() {
  std::vector<std::pair<std::shared_ptr<Race>, std::vector<std::thread>>> losers;
  {
    std::lock_guard lock(mutex_);
    losers = std::move(losers_);
  }
  for (auto& [race, threads] : losers) {
    for (const CancelFlag& cancel : race->cancels) cancel->store(true);
    for (std::thread& thread : threads) thread.join();
  }
}

void TransportManager::reap_finished() {
  std::vector<std::thread> done;
  {
    std::lock_guard lock(mutex_);
    for (auto it = losers_.begin(); it != losers_.end();) {
      bool finished = false;
      {
        std::lock_guard race_lock(it->first->mutex);
        finished = it->first->running == 0;
      }
      if (finished) {
        for (std::thread& thread : it->second) done.push_back(std::move(thread));
        it = losers_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (std::thread& thread : done) thread.join();
}

Result<TransportConnection> TransportManager::connect(const std::vector<Candidate>& ordered) {
  if (ordered.empty()) {
    return Status::error(ErrorCode::kInvalidArgument, "no way to reach the server is configured");
  }
  reap_finished();
  set_status({TransportState::kConnecting, "", ""});

  auto race = std::make_shared<Race>();
  race->failures.resize(ordered.size());
  for (std::size_t i = 0; i < ordered.size(); ++i) {
    race->cancels.push_back(std::make_shared<std::atomic<bool>>(false));
  }
  std::vector<std::thread> threads;
  auto start = [&](std::size_t index) {
    {
      std::lock_guard lock(race->mutex);
      race->running += 1;
    }
    // The thread owns copies of what it needs: it may outlive this call (a cancelled loser).
    threads.emplace_back([race, index, dialer = dialer_, candidate = ordered[index]] {
      auto result = dialer(candidate, race->cancels[index]);
      std::unique_ptr<FrameChannel> late;
      {
        std::lock_guard lock(race->mutex);
        race->running -= 1;
        if (result.ok() && !race->winner) {
          race->winner = index;
          race->channel = std::move(*result);
        } else if (result.ok()) {
          late = std::move(*result);  // lost the race after all: close outside the lock
        } else {
          race->failures[index] = result.status();
          race->failed += 1;
        }
      }
      race->changed.notify_all();
      if (late) late->close();
    });
  };

  std::size_t next = 0;
  start(next++);
  auto last_start = std::chrono::steady_clock::now();
  std::size_t failed_at_last_start = 0;
  std::unique_lock lock(race->mutex);
  for (;;) {
    auto stagger_over = last_start + options_.stagger;
    auto settled = [&] {
      return race->winner.has_value() || race->failed > failed_at_last_start ||
             (race->running == 0 && next == ordered.size());
    };
    if (next < ordered.size() && race->running < options_.max_parallel) {
      race->changed.wait_until(lock, stagger_over, settled);
    } else {
      race->changed.wait(lock, settled);
    }
    if (race->winner) break;
    if (race->running == 0 && next == ordered.size()) break;  // every candidate failed
    bool previous_failed = race->failed > failed_at_last_start;
    if (next < ordered.size() && race->running < options_.max_parallel &&
        (previous_failed || std::chrono::steady_clock::now() >= stagger_over)) {
      failed_at_last_start = race->failed;
      lock.unlock();
      start(next++);
      last_start = std::chrono::steady_clock::now();
      lock.lock();
    } else if (previous_failed) {
      failed_at_last_start = race->failed;  // nothing left to start; keep waiting for the rest
    }
  }

  std::optional<std::size_t> winner = race->winner;
  std::unique_ptr<FrameChannel> channel = std::move(race->channel);
  std::vector<std::optional<Status>> failures = race->failures;
  lock.unlock();

  for (std::size_t i = 0; i < race->cancels.size(); ++i) {
    if (!winner || i != *winner) race->cancels[i]->store(true);
  }
  {
    std::lock_guard guard(mutex_);
    losers_.emplace_back(race, std::move(threads));
  }
  reap_finished();

  if (winner) {
    set_status({TransportState::kConnected, ordered[*winner].label, ""});
    TransportConnection connection{std::move(channel), ordered[*winner], {}};
    for (std::size_t i = 0; i < failures.size(); ++i) {
      if (failures[i] && failures[i]->code() != ErrorCode::kCancelled) {
        connection.failed_keys.push_back(ordered[i].key);
      }
    }
    return connection;
  }
  // Everything failed: lead with the most preferred candidate's reason, list the others.
  Status first = failures[0].value_or(Status::error(ErrorCode::kUnavailable, "no answer"));
  std::string message = "no way to the server worked: " + ordered[0].label + ": " + first.message();
  for (std::size_t i = 1; i < ordered.size(); ++i) {
    message += "; " + ordered[i].label + ": " +
               (failures[i] ? failures[i]->message() : std::string("not tried"));
  }
  set_status({TransportState::kOffline, "", message});
  return Status::error(first.code(), message);
}

TransportStatus TransportManager::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

void TransportManager::set_status_callback(std::function<void(const TransportStatus&)> callback) {
  std::lock_guard lock(mutex_);
  callback_ = std::move(callback);
}

void TransportManager::mark_disconnected(const std::string& why) {
  // No callback: a client drops connections on purpose (rotation, shutdown); what people need to
  // see is the next attempt and its outcome.
  std::lock_guard lock(mutex_);
  status_ = {TransportState::kOffline, "", why};
}

void TransportManager::set_status(const TransportStatus& status) {
  std::function<void(const TransportStatus&)> callback;
  {
    std::lock_guard lock(mutex_);
    status_ = status;
    callback = callback_;
  }
  if (callback) callback(status);
}

}  // namespace parley::net
