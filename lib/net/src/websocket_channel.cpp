// SPDX-License-Identifier: AGPL-3.0-or-later
//
// The direct transport: TCP, TLS 1.3 and a binary WebSocket to parleyd, with Boost.Beast.
//
// Threads. connect_websocket() runs the whole connect (resolve, TCP, TLS, certificate check,
// upgrade) on the caller's thread, on the channel's private io_context, under one deadline timer
// that cuts the socket when it fires. After that one background thread runs the io_context: it
// keeps a read pending at all times (frames go into a mutex + condition variable queue for
// receive()), writes queued frames one at a time, and lets Beast send keepalive pings. Only that
// one thread ever runs handlers, so it is the strand: send() and close() from other threads only
// post() onto it, and the state marked "I/O thread only" below needs no lock.
//
// Lifetime. Handlers capture a plain `this`. That is safe because the WebSocketChannel owns the
// io_context and joins its thread in close(), which the destructor calls: once the thread is
// joined no handler runs again, and the handlers still queued are destroyed, never invoked, when
// the io_context is destroyed (it is the first member, so the last to go).
//
// This is the layer's one Beast translation unit (expensive to compile): keep the number of
// distinct async operations small.

#include "parley/net/websocket_channel.h"

// clang-format off
#include <utility>  // before Asio: Boost 1.74's headers need std::exchange declared (GCC 12)
// clang-format on

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "fingerprint.h"

namespace parley::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;
using Stream = websocket::stream<ssl::stream<tcp::socket>>;

// Frames wait for receive() up to this many bytes (or four maximal frames, if more); then reading
// pauses until receive() has taken half of them, so neither a flooding server nor a caller that
// stopped receiving makes memory grow without bound. TCP flow control pushes back on the server.
constexpr std::size_t kReceiveQueueBytes = 8u << 20;
// close() waits this long for a clean WebSocket close (queued frames flushed, close frames
// exchanged) before it cuts the connection. Beast's own close timeout is a little shorter.
constexpr std::chrono::milliseconds kCloseGrace{3000};
constexpr std::chrono::milliseconds kCloseHandshakeTimeout{2000};

std::string millis_text(std::chrono::milliseconds ms) {
  return std::to_string(ms.count()) + " ms";
}

bool is_ip_literal(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// "host:port", with brackets around an IPv6 address: for messages and the HTTP Host header.
std::string authority(const std::string& host, std::uint16_t port) {
  bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// The close reason a server sent, reduced to printable ASCII: it ends up in our messages and logs.
std::string printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 123)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

class WebSocketChannel final : public FrameChannel {
 public:
  WebSocketChannel(const WebSocketChannelOptions& options, Bytes pin)
      : options_(options),
        pin_(std::move(pin)),
        endpoint_(authority(options.host, options.port)),
        receive_queue_limit_(std::max(kReceiveQueueBytes, 4 * options.max_frame_bytes)) {}

  ~WebSocketChannel() override { close(); }

  WebSocketChannel(const WebSocketChannel&) = delete;
  WebSocketChannel& operator=(const WebSocketChannel&) = delete;

  // Connects on the calling thread; every step shares one deadline.
  Status connect() {
    PARLEY_RETURN_IF_ERROR(configure_tls());
    ws_.emplace(ioc_, tls_);  // after configure_tls(): SSL_new copies the context's settings
    connect_timer_.expires_after(options_.connect_timeout);
    connect_timer_.async_wait([this](error_code ec) {
      if (ec || connect_done_) return;
      timed_out_ = true;
      resolver_.cancel();
      cut();
    });
    stage_ = "resolving the host name";
    resolver_.async_resolve(options_.host, std::to_string(options_.port),
                            [this](error_code ec, const tcp::resolver::results_type& results) {
                              on_resolved(ec, results);
                            });
    ioc_.run();  // returns when the chain has finished and the deadline timer is cancelled
    return connect_status_;
  }

  // Hands the connected stream to the background thread.
  void start() {
    ioc_.restart();
    work_.emplace(ioc_.get_executor());  // keeps run() alive while reading is paused
    asio::post(ioc_, [this] { start_read(); });
    thread_ = std::thread([this] { run_io(); });
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

 private:
  // ---- connecting (caller's thread) ----

  Status configure_tls() {
    SSL_CTX* ctx = tls_.native_handle();
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) {
      return Status::error(ErrorCode::kInternal, "openssl: cannot require TLS 1.3");
    }
    if (!pin_.empty()) {
      // The chain is not verified at all: after the handshake, before a single byte of ours is
      // sent, the leaf certificate must hash to the pin (check_pin()).
      tls_.set_verify_mode(ssl::verify_none);
      return {};
    }
    error_code ec;
    const std::string& ca_file = options_.trust.ca_file;
    if (!ca_file.empty()) {
      std::error_code exists_error;
      if (!std::filesystem::is_regular_file(ca_file, exists_error)) {
        return Status::error(ErrorCode::kNotFound, "the CA file " + ca_file + " does not exist");
      }
      tls_.load_verify_file(ca_file, ec);
      if (ec) {
        return Status::error(ErrorCode::kInvalidArgument, "cannot load the CA file " + ca_file +
                                                              " (it must hold PEM "
                                                              "certificates): " +
                                                              ec.message());
      }
      // Any certificate in the file is a trust anchor, so a self-signed server can be trusted by
      // naming its own certificate (which is no CA and may not sign others).
      X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx), X509_V_FLAG_PARTIAL_CHAIN);
    } else {
      tls_.set_default_verify_paths(ec);
      if (ec) {
        return Status::error(ErrorCode::kUnavailable,
                             "cannot load the system's trusted certificates: " + ec.message());
      }
    }
    tls_.set_verify_mode(ssl::verify_peer);
    return {};
  }

  void on_resolved(error_code ec, const tcp::resolver::results_type& results) {
    if (ec) return finish_connect(step_failed(ec, "cannot resolve " + options_.host));
    stage_ = "connecting over TCP";
    asio::async_connect(
        beast::get_lowest_layer(*ws_), results,
        [this](error_code connect_ec, const tcp::endpoint&) { on_tcp(connect_ec); });
  }

  void on_tcp(error_code ec) {
    if (ec) return finish_connect(step_failed(ec, "cannot connect to " + endpoint_));
    error_code ignored;
    beast::get_lowest_layer(*ws_).set_option(tcp::no_delay(true), ignored);

    SSL* ssl = ws_->next_layer().native_handle();
    const bool ip = is_ip_literal(options_.host);
    // SNI carries host names only (RFC 6066 §3).
    if (!ip && SSL_set_tlsext_host_name(ssl, options_.host.c_str()) != 1) {
      return finish_connect(Status::error(ErrorCode::kInvalidArgument,
                                          "the host name " + options_.host + " is not valid"));
    }
    if (pin_.empty()) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, options_.host.c_str())
                   : X509_VERIFY_PARAM_set1_host(param, options_.host.c_str(), 0);
      if (set != 1) {
        return finish_connect(Status::error(ErrorCode::kInvalidArgument,
                                            "cannot verify certificates for " + options_.host));
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
      Status pinned = check_pin(ssl);
      if (!pinned.ok()) return finish_connect(pinned);
    }

    ws_->binary(true);
    ws_->auto_fragment(false);
    ws_->read_message_max(options_.max_frame_bytes);
    // Beast names itself in the User-Agent header; a Parley client does not announce itself.
    ws_->set_option(websocket::stream_base::decorator(
        [](websocket::request_type& request) { request.erase(beast::http::field::user_agent); }));
    stage_ = "in the WebSocket upgrade";
    ws_->async_handshake(upgrade_response_, endpoint_, options_.path,
                         [this](error_code ws_ec) { on_upgraded(ws_ec); });
  }

  Status check_pin(SSL* ssl) {
    X509* leaf = SSL_get0_peer_certificate(ssl);
    if (leaf == nullptr) {
      return Status::error(ErrorCode::kCertificateUntrusted,
                           "the server " + endpoint_ + " sent no certificate");
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (X509_digest(leaf, EVP_sha256(), digest, &size) != 1 || size != kSha256Bytes) {
      return Status::error(ErrorCode::kInternal, "openssl: cannot hash the certificate");
    }
    if (CRYPTO_memcmp(digest, pin_.data(), kSha256Bytes) != 0) {
      return Status::error(ErrorCode::kCertificateUntrusted,
                           "the certificate fingerprint of " + endpoint_ + ", " +
                               format_sha256_fingerprint(ByteView(digest, size)) +
                               ", does not match the pinned one");
    }
    return {};
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

  void finish_connect(Status status) {
    connect_done_ = true;
    connect_status_ = std::move(status);
    connect_timer_.cancel();
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
    auto& socket = beast::get_lowest_layer(*ws_);
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

  // First, so it is destroyed last: the objects below hold references into it.
  asio::io_context ioc_{1};

  const WebSocketChannelOptions options_;
  const Bytes pin_;             // empty: not pinned
  const std::string endpoint_;  // "host:port" for messages and the Host header
  const std::size_t receive_queue_limit_;

  ssl::context tls_{ssl::context::tls_client};
  std::optional<Stream> ws_;
  tcp::resolver resolver_{ioc_};
  asio::steady_timer connect_timer_{ioc_};
  asio::steady_timer write_timer_{ioc_};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::mutex close_mutex_;

  // Connecting (caller's thread, before the background thread exists).
  Status connect_status_;
  bool connect_done_ = false;
  bool timed_out_ = false;
  std::string stage_;
  websocket::response_type upgrade_response_;

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

Status check_options(const WebSocketChannelOptions& options) {
  auto invalid = [](std::string why) {
    return Status::error(ErrorCode::kInvalidArgument, std::move(why));
  };
  if (options.host.empty()) return invalid("the server's host is empty");
  if (options.port == 0) return invalid("the server's port must be between 1 and 65535");
  if (options.path.empty() || options.path.front() != '/') {
    return invalid("the WebSocket path must start with '/'");
  }
  if (options.max_frame_bytes == 0) return invalid("the frame limit must be at least one byte");
  if (options.connect_timeout.count() <= 0 || options.write_timeout.count() <= 0) {
    return invalid("the connect and write timeouts must be positive");
  }
  if (options.keepalive.count() < 0) return invalid("the keepalive interval must not be negative");
  return {};
}

}  // namespace

Result<std::unique_ptr<FrameChannel>> connect_websocket(const WebSocketChannelOptions& options) {
  WebSocketChannelOptions checked = options;
  // "[::1]" as written in an address is the host "::1".
  if (checked.host.size() > 2 && checked.host.front() == '[' && checked.host.back() == ']') {
    checked.host = checked.host.substr(1, checked.host.size() - 2);
  }
  PARLEY_RETURN_IF_ERROR(check_options(checked));
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
