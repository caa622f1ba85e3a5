// SPDX-License-Identifier: AGPL-3.0-or-later
//
// The client's transport: TCP, [a SOCKS5 or HTTP CONNECT proxy], [a parley-relay's outer TLS and
// handshake], TLS 1.3 and a binary WebSocket to parleyd, with Boost.Beast.
//
// Layers. The WebSocket runs over ssl::stream<LowerStream>. LowerStream is the first hop: a TCP
// socket that counts the bytes it reads (bytes_received()), optionally wrapped in the relay's
// outer TLS, chosen at run time. One stream type for all paths keeps Beast instantiated once;
// the proxy handshake runs on the counting socket before any TLS, the relay handshake inside the
// outer TLS before the inner TLS starts.
//
// Threads. connect_websocket() runs the whole connect (resolve, TCP, proxy, relay, TLS,
// certificate check, upgrade) on the caller's thread, on the channel's private io_context, under
// one deadline timer that cuts the socket when it fires. After that one background thread runs the
// io_context: it keeps a read pending at all times (frames go into a mutex + condition variable
// queue for receive()), writes queued frames one at a time, and lets Beast send keepalive pings.
// Only that one thread ever runs handlers, so it is the strand: send() and close() from other
// threads only post() onto it, and the state marked "I/O thread only" below needs no lock.
//
// Lifetime. Handlers capture a plain `this`. That is safe because the WebSocketChannel owns the
// io_context and joins its thread in close(), which the destructor calls: once the thread is
// joined no handler runs again, and the handlers still queued are destroyed, never invoked, when
// the io_context is destroyed (it is the first member, so the last to go).
//
// This is the layer's one Beast translation unit (expensive to compile): keep the number of
// distinct async operations small. What needs no Beast lives beside it: the proxy handshakes
// (proxy_handshake.cpp, Asio only), the pin checks (pin_check.cpp, OpenSSL), the option checks
// (websocket_options.cpp) and the words of the messages (channel_text.cpp).

#include "parley/net/websocket_channel.h"

// clang-format off
#include <utility>  // before Asio: Boost 1.74's headers need std::exchange declared (GCC 12)
// clang-format on

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "channel_text.h"
#include "counting_socket.h"
#include "fingerprint.h"
#include "parley/net/relay_handshake.h"
#include "pin_check.h"
#include "proxy_handshake.h"
#include "tls_trust.h"
#include "websocket_options.h"

namespace parley::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

using OuterTls = ssl::stream<CountingSocket&>;

// What the inner TLS runs on: the counting socket, or the relay's outer TLS over it.
class LowerStream {
 public:
  using executor_type = CountingSocket::executor_type;
  using lowest_layer_type = CountingSocket::lowest_layer_type;

  explicit LowerStream(asio::io_context& ioc) : tcp_(ioc) {}

  executor_type get_executor() { return tcp_.get_executor(); }
  lowest_layer_type& lowest_layer() { return tcp_.lowest_layer(); }
  const lowest_layer_type& lowest_layer() const { return tcp_.lowest_layer(); }
  CountingSocket& tcp() { return tcp_; }
  OuterTls& start_outer(ssl::context& context) { return outer_.emplace(tcp_, context); }
  OuterTls& outer() { return *outer_; }

  template <class Buffers, class Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    if (outer_) return outer_->async_read_some(buffers, std::forward<Handler>(handler));
    tcp_.async_read_some(buffers, std::forward<Handler>(handler));
  }
  template <class Buffers, class Handler>
  void async_write_some(const Buffers& buffers, Handler&& handler) {
    if (outer_) return outer_->async_write_some(buffers, std::forward<Handler>(handler));
    tcp_.async_write_some(buffers, std::forward<Handler>(handler));
  }

 private:
  CountingSocket tcp_;
  std::optional<OuterTls> outer_;  // after tcp_: it refers to it
};

// Beast's timeouts close the lowest layer through this customization point (found by ADL).
void beast_close_socket(LowerStream& stream) {
  error_code ignored;
  stream.tcp().socket().close(ignored);
}

using Stream = websocket::stream<ssl::stream<LowerStream>>;

// Frames wait for receive() up to this many bytes (or four maximal frames, if more); then reading
// pauses until receive() has taken half of them, so neither a flooding server nor a caller that
// stopped receiving makes memory grow without bound. TCP flow control pushes back on the server.
constexpr std::size_t kReceiveQueueBytes = 8u << 20;
// close() waits this long for a clean WebSocket close (queued frames flushed, close frames
// exchanged) before it cuts the connection. Beast's own close timeout is a little shorter.
constexpr std::chrono::milliseconds kCloseGrace{3000};
constexpr std::chrono::milliseconds kCloseHandshakeTimeout{2000};

class WebSocketChannel final : public FrameChannel {
 public:
  WebSocketChannel(const WebSocketChannelOptions& options, Bytes pin)
      : options_(options),
        pin_(std::move(pin)),
        endpoint_(authority(options.host, options.port)),
        tls_name_(options.tls_name.empty() ? options.host : options.tls_name),
        host_header_(authority(tls_name_, options.port)),
        target_host_(options.relay ? options.relay->host : options.host),
        target_port_(options.relay ? options.relay->port : options.port),
        target_(authority(target_host_, target_port_)),
        proxy_endpoint_(authority(options.proxy.host, options.proxy.port)),
        receive_queue_limit_(std::max(kReceiveQueueBytes, 4 * options.max_frame_bytes)) {}

  ~WebSocketChannel() override { close(); }

  WebSocketChannel(const WebSocketChannel&) = delete;
  WebSocketChannel& operator=(const WebSocketChannel&) = delete;

  // Connects on the calling thread; every step shares one deadline.
  Status connect() {
    if (cancelled()) return Status::error(ErrorCode::kCancelled, "the connection was cancelled");
    PARLEY_RETURN_IF_ERROR(configure_tls());
    if (options_.relay) PARLEY_RETURN_IF_ERROR(configure_outer_tls());
    ws_.emplace(ioc_, tls_);  // after configure_tls(): SSL_new copies the context's settings
    lower().tcp().set_counter(&bytes_received_);
    connect_timer_.expires_after(options_.connect_timeout);
    connect_timer_.async_wait([this](error_code ec) {
      if (ec || connect_done_) return;
      timed_out_ = true;
      resolver_.cancel();
      cut();
    });
    if (options_.cancel) poll_cancel();
    if (options_.proxy.enabled()) {
      // The proxy's own address is resolved here; the target's name only by the proxy.
      stage_ = "resolving the proxy's host name";
      resolver_.async_resolve(options_.proxy.host, std::to_string(options_.proxy.port),
                              [this](error_code ec, const tcp::resolver::results_type& results) {
                                on_resolved(ec, results);
                              });
    } else if (!options_.addresses.empty()) {
      std::vector<tcp::endpoint> endpoints;
      for (const std::string& address : options_.addresses) {
        endpoints.emplace_back(asio::ip::make_address(address), target_port_);
      }
      on_resolved(
          {}, tcp::resolver::results_type::create(endpoints.begin(), endpoints.end(), target_host_,
                                                  std::to_string(target_port_)));
    } else {
      stage_ = "resolving the host name";
      resolver_.async_resolve(target_host_, std::to_string(target_port_),
                              [this](error_code ec, const tcp::resolver::results_type& results) {
                                on_resolved(ec, results);
                              });
    }
    ioc_.run();  // returns when the chain has finished and the deadline timer is cancelled
    if (cancelled_) {
      return Status::error(ErrorCode::kCancelled,
                           "the connection to " + endpoint_ + " was cancelled (another won)");
    }
    return connect_status_;
  }

  // Hands the connected stream to the background thread.
  void start() {
    ioc_.restart();
    work_.emplace(ioc_.get_executor());  // keeps run() alive while reading is paused
    asio::post(ioc_, [this] { start_read(); });
    thread_ = std::thread([this] { run_io(); });
  }

  std::uint64_t bytes_received() const override {
    return bytes_received_.load(std::memory_order_relaxed);
  }

  Status send(ByteView frame) override {
    if (frame.size() > options_.max_frame_bytes) {
      return Status::error(ErrorCode::kTooLarge,
                           "a frame of " + std::to_string(frame.size()) + " bytes is over the " +
                               std::to_string(options_.max_frame_bytes) + "-byte limit");
    }
    {
      std::lock_guard lock(mutex_);
      if (closed_) return Status::error(ErrorCode::kConnectionClosed, close_reason_);
    }
    asio::post(ioc_, [this, data = Bytes(frame.begin(), frame.end())]() mutable {
      if (write_ended_ || close_requested_) return;
      outgoing_.push_back(std::move(data));
      start_write();
    });
    return {};
  }

  Result<Bytes> receive(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [this] { return !incoming_.empty() || closed_; });
    if (!incoming_.empty()) {
      Bytes frame = std::move(incoming_.front());
      incoming_.pop_front();
      incoming_bytes_ -= frame.size();
      if (read_paused_ && incoming_bytes_ <= receive_queue_limit_ / 2) {
        read_paused_ = false;
        asio::post(ioc_, [this] { start_read(); });
      }
      return frame;
    }
    if (closed_) return Status::error(ErrorCode::kConnectionClosed, close_reason_);
    return Status::error(ErrorCode::kTimeout, "no frame arrived within " + millis_text(timeout));
  }

  void close() override {
    std::lock_guard close_lock(close_mutex_);  // one closer at a time; later calls return at once
    mark_closed("the connection was closed by this client");
    if (!thread_.joinable()) return;
    asio::post(ioc_, [this] {
      close_requested_ = true;
      if (!writing_) begin_websocket_close();  // else after the queued frames are written
    });
    work_.reset();
    {
      std::unique_lock lock(mutex_);
      if (!cv_.wait_for(lock, kCloseGrace, [this] { return io_done_; })) {
        lock.unlock();
        ioc_.stop();  // the server did not finish the close in time: abandon it
      }
    }
    thread_.join();
  }

  void abort() override {
    std::lock_guard close_lock(close_mutex_);
    mark_closed("the connection was abandoned by this client");
    if (!thread_.joinable()) return;
    work_.reset();
    ioc_.stop();  // no close handshake: the peer is not answering anyway
    thread_.join();
  }

 private:
  // ---- connecting (caller's thread) ----

  Status configure_tls() {
    SSL_CTX* ctx = tls_.native_handle();
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) {
      return Status::error(ErrorCode::kInternal, "openssl: cannot require TLS 1.3");
    }
    // A pin is compared with the leaf after the handshake, before a byte of ours is sent.
    return configure_trust(ctx, options_.trust, !pin_.empty());
  }

  void on_resolved(error_code ec, const tcp::resolver::results_type& results) {
    if (ec) {
      if (options_.proxy.enabled()) {
        return finish_connect(proxy_failed(ec, "cannot resolve the proxy " + options_.proxy.host));
      }
      return finish_connect(step_failed(ec, "cannot resolve " + target_host_));
    }
    stage_ = options_.proxy.enabled() ? "connecting to the proxy" : "connecting over TCP";
    asio::async_connect(
        lower().tcp().socket(), results,
        [this](error_code connect_ec, const tcp::endpoint&) { on_tcp(connect_ec); });
  }

  void on_tcp(error_code ec) {
    if (ec) {
      if (options_.proxy.enabled()) {
        return finish_connect(proxy_failed(ec, "cannot connect to the proxy " + proxy_endpoint_));
      }
      return finish_connect(step_failed(ec, "cannot connect to " + target_));
    }
    error_code ignored;
    lower().tcp().socket().set_option(tcp::no_delay(true), ignored);
    if (options_.proxy.enabled()) return start_proxy();
    after_first_hop();
  }

  // The TCP stream now reaches the target (the relay or parleyd).
  void after_first_hop() {
    if (options_.relay) return start_relay();
    start_inner_tls();
  }

  // ---- proxies: proxy_handshake.h, on the counting socket ----

  void start_proxy() {
    proxy_.emplace(
        lower().tcp(), options_.proxy, target_host_, target_port_, stage_,
        [this](error_code ec, const std::string& what) { return proxy_failed(ec, what); },
        [this](Status status) {
          if (!status.ok()) return finish_connect(std::move(status));
          after_first_hop();
        });
    proxy_->start();
  }

  // kTimeout when the deadline cut it, else kProxyFailed with the reason.
  Status proxy_failed(error_code ec, const std::string& what) const {
    if (timed_out_) return step_failed(ec, what);
    return Status::error(ErrorCode::kProxyFailed, what + ": " + ec.message());
  }

  // ---- the relay: outer TLS pinned by the link, then relay_handshake.h, inside it ----

  Status configure_outer_tls() {
    SSL_CTX* ctx = outer_tls_.native_handle();
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
      return Status::error(ErrorCode::kInternal, "openssl: cannot require TLS 1.2");
    }
    // Only the link's key is trusted: checked after the handshake (check_relay_pin()).
    outer_tls_.set_verify_mode(ssl::verify_none);
    return {};
  }

  void start_relay() {
    stage_ = "in the TLS handshake with the relay";
    OuterTls& outer = lower().start_outer(outer_tls_);
    const std::string sni = options_.relay->effective_sni();
    if (!sni.empty() && SSL_set_tlsext_host_name(outer.native_handle(), sni.c_str()) != 1) {
      return finish_connect(
          Status::error(ErrorCode::kInvalidArgument, "the relay link's cover name is not valid"));
    }
    outer.async_handshake(ssl::stream_base::client, [this](error_code ec) { on_outer_tls(ec); });
  }

  void on_outer_tls(error_code ec) {
    if (ec) {
      return finish_connect(
          step_failed(ec, "the TLS handshake with the relay " + target_ + " failed"));
    }
    Status pinned =
        check_relay_key_pin(lower().outer().native_handle(), options_.relay->pin_hex, target_);
    if (!pinned.ok()) return finish_connect(std::move(pinned));
    stage_ = "in the relay handshake";
    relay_request_ = relay_request(*options_.relay);
    asio::async_write(
        lower().outer(), asio::buffer(relay_request_), [this](error_code write_ec, std::size_t) {
          if (write_ec) {
            return finish_connect(
                step_failed(write_ec, "the connection to the relay " + target_ + " failed"));
          }
          relay_read();
        });
  }

  void relay_read() {
    relay_chunk_.resize(1024);
    lower().outer().async_read_some(
        asio::buffer(relay_chunk_), [this](error_code ec, std::size_t size) {
          if (ec) {
            return finish_connect(step_failed(
                ec, "the relay " + target_ + " closed the connection during its handshake"));
          }
          relay_answer_.append(reinterpret_cast<const char*>(relay_chunk_.data()), size);
          RelayResponseCheck check = check_relay_response(relay_answer_);
          if (check.verdict == RelayResponseVerdict::kIncomplete) return relay_read();
          if (check.verdict == RelayResponseVerdict::kRefused) {
            return finish_connect(Status::error(
                ErrorCode::kRelayRefused, "the relay " + target_ +
                                              " did not accept the link (wrong secret or a stale "
                                              "link; it answered as an ordinary web site)"));
          }
          if (check.head_bytes != relay_answer_.size()) {
            // parleyd does not speak first: anything after the relay's answer is not ours.
            return finish_connect(
                Status::error(ErrorCode::kProtocolViolation,
                              "the relay " + target_ + " sent data before the tunnel was used"));
          }
          start_inner_tls();
        });
  }

  // ---- TLS 1.3 to parleyd (through whatever the lower stream is) ----

  void start_inner_tls() {
    SSL* ssl = ws_->next_layer().native_handle();
    const bool ip = is_ip_address(tls_name_);
    // SNI carries host names only (RFC 6066 §3).
    if (!ip && SSL_set_tlsext_host_name(ssl, tls_name_.c_str()) != 1) {
      return finish_connect(Status::error(ErrorCode::kInvalidArgument,
                                          "the host name " + tls_name_ + " is not valid"));
    }
    if (pin_.empty()) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, tls_name_.c_str())
                   : X509_VERIFY_PARAM_set1_host(param, tls_name_.c_str(), 0);
      if (set != 1) {
        return finish_connect(Status::error(ErrorCode::kInvalidArgument,
                                            "cannot verify certificates for " + tls_name_));
      }
    }
    stage_ = "in the TLS handshake";
    ws_->next_layer().async_handshake(ssl::stream_base::client,
                                      [this](error_code tls_ec) { on_tls(tls_ec); });
  }

  void on_tls(error_code ec) {
    SSL* ssl = ws_->next_layer().native_handle();
    if (ec && !timed_out_ && pin_.empty()) {
      long verify = SSL_get_verify_result(ssl);
      if (verify != X509_V_OK) {
        return finish_connect(Status::error(
            ErrorCode::kCertificateUntrusted,
            "the certificate of " + endpoint_ +
                " is not trusted: " + X509_verify_cert_error_string(verify) +
                (options_.trust.ca_file.empty() ? "" : " (with " + options_.trust.ca_file + ")")));
      }
    }
    if (ec)
      return finish_connect(step_failed(ec, "the TLS 1.3 handshake with " + endpoint_ + " failed"));
    if (!pin_.empty()) {
      Status pinned = check_certificate_pin(ssl, pin_, endpoint_);
      if (!pinned.ok()) return finish_connect(pinned);
    }

    ws_->binary(true);
    ws_->auto_fragment(false);
    ws_->read_message_max(options_.max_frame_bytes);
    // Beast names itself in the User-Agent header; a Parley client does not announce itself.
    ws_->set_option(websocket::stream_base::decorator(
        [](websocket::request_type& request) { request.erase(beast::http::field::user_agent); }));
    stage_ = "in the WebSocket upgrade";
    ws_->async_handshake(upgrade_response_, host_header_, options_.path,
                         [this](error_code ws_ec) { on_upgraded(ws_ec); });
  }

  void on_upgraded(error_code ec) {
    if (ec == websocket::error::upgrade_declined && !timed_out_) {
      return finish_connect(Status::error(
          ErrorCode::kUnavailable,
          "the server " + endpoint_ + " refused the WebSocket upgrade on " + options_.path +
              " (HTTP " + std::to_string(upgrade_response_.result_int()) + ")"));
    }
    if (ec)
      return finish_connect(step_failed(ec, "the WebSocket upgrade with " + endpoint_ + " failed"));
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = kCloseHandshakeTimeout;  // Beast uses it for the close, too
    if (options_.keepalive.count() > 0) {
      // Beast pings after half the idle time without a frame from the server and gives up after
      // all of it: a ping after `keepalive` of silence, and `keepalive` more for its pong.
      timeouts.idle_timeout = 2 * options_.keepalive;
      timeouts.keep_alive_pings = true;
    } else {
      timeouts.idle_timeout = websocket::stream_base::none();
      timeouts.keep_alive_pings = false;
    }
    ws_->set_option(timeouts);
    finish_connect({});
  }

  // A failed step: kTimeout when the deadline cut it, else kUnavailable with the reason.
  Status step_failed(error_code ec, const std::string& what) const {
    if (timed_out_) {
      return Status::error(ErrorCode::kTimeout, "connecting to " + endpoint_ +
                                                    " took longer than " +
                                                    millis_text(options_.connect_timeout) +
                                                    " (stopped while " + stage_ + ")");
    }
    return Status::error(ErrorCode::kUnavailable, what + ": " + ec.message());
  }

  bool cancelled() const { return options_.cancel && options_.cancel->load(); }

  // The transport manager cancels attempts that lost its race: checked every 50 ms while
  // connecting, then the connect is cut like a timeout and reports kCancelled.
  void poll_cancel() {
    cancel_timer_.expires_after(std::chrono::milliseconds(50));
    cancel_timer_.async_wait([this](error_code ec) {
      if (ec || connect_done_) return;
      if (cancelled()) {
        cancelled_ = true;
        timed_out_ = true;
        resolver_.cancel();
        cut();
        return;
      }
      poll_cancel();
    });
  }

  void finish_connect(Status status) {
    connect_done_ = true;
    connect_status_ = std::move(status);
    connect_timer_.cancel();
    cancel_timer_.cancel();
    if (!connect_status_.ok()) cut();
  }

  // ---- the background thread ----

  void run_io() {
    try {
      ioc_.run();
    } catch (const std::exception&) {
      // Handlers do not throw (at most std::bad_alloc); never let that escape the thread.
      mark_closed("the connection failed (internal error)");
    }
    {
      std::lock_guard lock(mutex_);
      io_done_ = true;
    }
    cv_.notify_all();
  }

  // I/O thread. One read is pending at all times, except while the receive queue is full.
  void start_read() {
    if (reading_ || read_ended_) return;
    reading_ = true;
    ws_->async_read(read_buffer_, [this](error_code ec, std::size_t) { on_read(ec); });
  }

  void on_read(error_code ec) {
    reading_ = false;
    if (ec) {
      read_ended_ = true;
      mark_closed(read_failure(ec));
      cut();
      return;
    }
    const auto* data = static_cast<const std::uint8_t*>(read_buffer_.data().data());
    Bytes frame(data, data + read_buffer_.size());
    read_buffer_.clear();
    bool pause = false;
    {
      std::lock_guard lock(mutex_);
      incoming_bytes_ += frame.size();
      incoming_.push_back(std::move(frame));
      pause = read_paused_ = incoming_bytes_ >= receive_queue_limit_;
    }
    cv_.notify_all();
    if (!pause) start_read();
  }

  std::string read_failure(error_code ec) const {
    if (ec == websocket::error::closed) {
      const websocket::close_reason& reason = ws_->reason();
      std::string text = "the server closed the connection (WebSocket close code " +
                         std::to_string(static_cast<unsigned>(reason.code));
      if (!reason.reason.empty())
        text += ": " + printable(std::string_view(reason.reason.data(), reason.reason.size()));
      return text + ")";
    }
    if (ec == beast::error::timeout) {
      return "the server stopped answering (no reply to a keepalive ping within " +
             millis_text(options_.keepalive) + ")";
    }
    if (ec == websocket::error::message_too_big) {
      return "the server sent a frame over the " + std::to_string(options_.max_frame_bytes) +
             "-byte limit";
    }
    return "the connection to " + endpoint_ + " was lost: " + ec.message();
  }

  // I/O thread. Frames are written one at a time, in the order send() queued them.
  void start_write() {
    if (writing_ || write_ended_) return;
    if (outgoing_.empty()) {
      if (close_requested_) begin_websocket_close();
      return;
    }
    writing_ = true;
    const std::uint64_t generation = ++write_generation_;
    write_timer_.expires_after(options_.write_timeout);
    write_timer_.async_wait([this, generation](error_code ec) {
      if (ec || !writing_ || generation != write_generation_) return;  // that write finished
      mark_closed("a write to " + endpoint_ + " did not finish within " +
                  millis_text(options_.write_timeout) + "; the connection was dropped");
      cut();
    });
    ws_->async_write(asio::buffer(outgoing_.front()),
                     [this](error_code ec, std::size_t) { on_write(ec); });
  }

  void on_write(error_code ec) {
    writing_ = false;
    write_timer_.cancel();
    if (ec) {
      write_ended_ = true;
      outgoing_.clear();
      mark_closed("the connection to " + endpoint_ + " was lost while writing: " + ec.message());
      cut();
      if (close_requested_) begin_websocket_close();
      return;
    }
    outgoing_.pop_front();
    start_write();
  }

  // I/O thread, once close() asked and no write is in flight.
  void begin_websocket_close() {
    if (close_started_) return;
    close_started_ = true;
    if (read_ended_ || write_ended_ || !ws_->is_open()) {
      cut();
      ioc_.stop();
      return;
    }
    ws_->async_close(websocket::close_code::normal, [this](error_code) {
      cut();
      ioc_.stop();  // nothing else is left to do; Beast's idle timer must not keep run() going
    });
  }

  // Closing the TCP socket makes every pending operation finish with an error.
  void cut() {
    error_code ignored;
    auto& socket = lower().tcp().socket();
    if (!socket.is_open()) return;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  // Any thread. The first reason is kept: it is the cause, later ones are consequences.
  void mark_closed(std::string reason) {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      closed_ = true;
      close_reason_ = std::move(reason);
    }
    cv_.notify_all();
  }

  LowerStream& lower() { return ws_->next_layer().next_layer(); }

  // First, so it is destroyed last: the objects below hold references into it.
  asio::io_context ioc_{1};

  const WebSocketChannelOptions options_;
  const Bytes pin_;                // empty: not pinned
  const std::string endpoint_;     // parleyd's "host:port", for messages
  const std::string tls_name_;     // SNI and verified name: tls_name, else host
  const std::string host_header_;  // the upgrade's Host header
  const std::string target_host_;  // what the first TCP hop (or the proxy) connects to
  const std::uint16_t target_port_;
  const std::string target_;  // "host:port" of the target, for messages and CONNECT
  const std::string proxy_endpoint_;
  const std::size_t receive_queue_limit_;
  std::atomic<std::uint64_t> bytes_received_{0};

  ssl::context outer_tls_{ssl::context::tls_client};  // before ws_: the relay's stream uses it
  ssl::context tls_{ssl::context::tls_client};
  std::optional<Stream> ws_;
  tcp::resolver resolver_{ioc_};
  asio::steady_timer connect_timer_{ioc_};
  asio::steady_timer cancel_timer_{ioc_};
  asio::steady_timer write_timer_{ioc_};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::mutex close_mutex_;

  // Connecting (caller's thread, before the background thread exists).
  Status connect_status_;
  bool connect_done_ = false;
  bool timed_out_ = false;
  bool cancelled_ = false;
  std::string stage_;
  websocket::response_type upgrade_response_;
  std::optional<ProxyHandshake> proxy_;
  std::string relay_request_;
  std::vector<std::uint8_t> relay_chunk_;
  std::string relay_answer_;

  // I/O thread only.
  beast::flat_buffer read_buffer_;
  bool reading_ = false;
  bool read_ended_ = false;
  std::deque<Bytes> outgoing_;
  bool writing_ = false;
  bool write_ended_ = false;
  std::uint64_t write_generation_ = 0;
  bool close_requested_ = false;
  bool close_started_ = false;

  // Shared; guarded by mutex_.
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Bytes> incoming_;
  std::size_t incoming_bytes_ = 0;
  bool read_paused_ = false;
  bool closed_ = false;
  std::string close_reason_;
  bool io_done_ = false;
};

}  // namespace

Result<std::unique_ptr<FrameChannel>> connect_websocket(const WebSocketChannelOptions& options) {
  WebSocketChannelOptions checked = options;
  // "[::1]" as written in an address is the host "::1".
  if (checked.host.size() > 2 && checked.host.front() == '[' && checked.host.back() == ']') {
    checked.host = checked.host.substr(1, checked.host.size() - 2);
  }
  PARLEY_RETURN_IF_ERROR(check_options(checked));
  if (checked.relay) {
    for (char& c : checked.relay->pin_hex) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  Bytes pin;
  if (!checked.trust.pinned_sha256.empty()) {
    PARLEY_ASSIGN_OR_RETURN(pin, parse_pinned_sha256(checked.trust.pinned_sha256));
  }
  try {
    auto channel = std::make_unique<WebSocketChannel>(checked, std::move(pin));
    PARLEY_RETURN_IF_ERROR(channel->connect());
    channel->start();
    return std::unique_ptr<FrameChannel>(std::move(channel));
  } catch (const std::exception& e) {
    // Asio throws only when the system refuses resources (SSL_CTX_new, threads, descriptors).
    return Status::error(ErrorCode::kInternal,
                         std::string("cannot set up the connection: ") + e.what());
  }
}

}  // namespace parley::net
