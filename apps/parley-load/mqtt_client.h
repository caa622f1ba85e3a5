// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// One MQTT 3.1.1 connection of the MQTT driver (mqtt_driver.cpp runs the scenarios with it): a
// callback-driven state machine over an Asio socket, owned by shared_ptr (handlers hold it), that
// connects (CONNECT/CONNACK, dropping a stale session first), subscribes (QoS 1), publishes and
// takes PUBACKs, receives and acknowledges PUBLISHes, and pings every keepalive, counting into its
// loop's Tally and the run's shared atomic counters. It reads by waiting for readability and then
// reading into its loop's one buffer, so 10,000 idle connections cost no 64 KiB buffer each.
//
// A client whose session already existed (an earlier run's, with queued messages) connects once
// with clean session = true to drop it, then again with clean session = false: every run starts
// from empty sessions.

#include <utility>  // before Asio: Boost 1.74 + GCC 12 need std::exchange declared
//
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "event_loops.h"
#include "load_config.h"
#include "measure.h"
#include "mqtt_codec.h"

namespace parley::load::mqtt_client {  // the other drivers name their connection types alike

namespace asio = boost::asio;
namespace mq = mqtt;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr std::size_t kReadChunk = 64UL * 1024;
constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();

// What every thread may read (set before the loops start) or count (atomics).
struct Shared {
  explicit Shared(const LoadConfig& c) : config(c) {}

  const LoadConfig& config;
  tcp::endpoint server;
  std::vector<asio::ip::address> sources;

  std::atomic<std::uint64_t> ready{0};   // setup phases: clients ready
  std::atomic<std::uint64_t> failed{0};  // setup phases: clients that gave up
  std::atomic<std::uint64_t> open{0};    // TCP connections open now
  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> acked{0};
  std::atomic<std::uint64_t> received{0};  // first receipts (duplicates not counted)
  std::atomic<std::uint64_t> pings_answered{0};
  std::atomic<std::uint64_t> fills_done{0};  // offline: senders whose every PUBLISH is acked

  std::mutex mutex;
  std::string first_error;  // guarded by mutex

  void note_error(const std::string& text) {
    std::lock_guard lock(mutex);
    if (first_error.empty()) first_error = text;
  }
};

// One event-loop thread and what it counts (EventLoop; no locks: only its own handlers touch
// these). Errors go to Shared's one first error, not the loop's.
struct Loop : EventLoop {
  MeasuredWindow window{0, kNever};  // set by a post before any measured traffic
  std::uint64_t last_receive_ns = 0;
  std::vector<char> read_buffer = std::vector<char>(kReadChunk);
};

struct ClientSpec {
  std::string client_id;
  std::string subscribe_topic;  // empty: subscribes to nothing
  std::string publish_topic;    // empty: never sends
  Pacing pacing;
  std::size_t source = 0;  // index into Shared::sources
};

class Client : public std::enable_shared_from_this<Client> {
 public:
  Client(Shared& shared, Loop& loop, ClientSpec spec)
      : shared_(shared),
        loop_(loop),
        spec_(std::move(spec)),
        socket_(loop.io),
        ping_timer_(loop.io),
        send_timer_(loop.io) {}

  // Connects with clean session = false and subscribes (QoS 1). `resume`: reconnects to the
  // session made earlier (no SUBSCRIBE; it must still be there) and takes what it queued.
  // Counts the client into Shared::ready or Shared::failed exactly once.
  void start_setup(bool resume);

  // The connect timeout passed: a client not ready by now fails.
  void setup_deadline();

  // Sends until `stop_at_ns` or `limit` messages (0: no limit), paced or with `window` in flight.
  void start_sending(std::uint64_t stop_at_ns, std::uint64_t limit);

  // DISCONNECT, then close once it is written.
  void close();

 private:
  enum class State { kIdle, kConnecting, kAwaitConnack, kAwaitSuback, kReady };

  // ---- connecting ----------------------------------------------------------------------------

  void connect(bool clean_session);
  void on_connected(std::uint64_t gen, error_code ec);
  void on_connack(const mq::Packet& packet);
  void on_suback(const mq::Packet& packet);
  void become_ready();

  // ---- sending -------------------------------------------------------------------------------

  bool send_one();
  void arm_send_timer();
  void on_send_timer();
  void on_puback(const mq::Packet& packet);

  // ---- receiving -----------------------------------------------------------------------------

  void on_publish(const mq::Packet& packet);
  void handle(const mq::Packet& packet);
  void wait_readable();
  void on_readable(std::uint64_t gen, error_code ec);

  // ---- writing -------------------------------------------------------------------------------

  void flush();
  void on_written(std::uint64_t gen, error_code ec);
  void arm_ping_timer();

  // ---- ending --------------------------------------------------------------------------------

  void fail(const std::string& what);
  void close_socket();
  void reset_socket();

  Shared& shared_;
  Loop& loop_;
  const ClientSpec spec_;
  tcp::socket socket_;
  asio::steady_timer ping_timer_;
  asio::steady_timer send_timer_;

  std::uint64_t generation_ = 0;
  State state_ = State::kIdle;
  bool connected_ = false;
  bool clean_session_ = false;
  bool resume_ = false;
  bool purged_ = false;
  bool closing_ = false;
  bool ready_ = false;
  bool reconnect_on_close_ = false;
  bool setup_reported_ = true;  // nothing to report before the first start_setup

  mq::PacketReader reader_;
  std::string out_;            // queued while a write is in flight
  std::string pending_write_;  // the bytes of the write in flight
  bool writing_ = false;

  // Sender.
  bool sending_ = false;
  bool fill_reported_ = false;
  std::uint64_t stop_at_ns_ = 0;
  std::uint64_t limit_ = 0;
  std::uint64_t next_number_ = 1;
  std::uint16_t next_packet_id_ = 0;
  std::uint64_t next_send_ns_ = 0;
  std::unordered_map<std::uint16_t, std::uint64_t> in_flight_;  // packet id → send time

  // Receiver: one sender per receiving client in every scenario.
  StreamTracker tracker_;
};

}  // namespace parley::load::mqtt_client
