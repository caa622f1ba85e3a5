// SPDX-License-Identifier: AGPL-3.0-or-later
//
// One client connection: TLS 1.3 handshake, then HTTP requests until a WebSocket upgrade on the
// configured path, then binary WebSocket frames in both directions. Everything of one connection
// runs on its own strand: a reader coroutine (which calls the core's on_frame in arrival order)
// and a writer coroutine (which drains the bounded OutboundQueue). The core's sink calls come from
// any thread and only post onto that strand.
//
// This is the gateway's costly translation unit to compile (Beast + SSL + coroutines); keep the
// number of distinct async operations small.

#include "session.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <exception>
#include <string_view>
#include <utility>  // before Asio (see session.h)

#include "http_pages.h"
#include "outbound_queue.h"
#include "tls_socket_stream.h"

namespace parley::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

// ---- SessionRegistry
// ------------------------------------------------------------------------------

std::uint64_t SessionRegistry::add(std::weak_ptr<SessionControl> session) {
  std::lock_guard lock(mutex_);
  std::uint64_t id = next_id_++;
  sessions_.emplace(id, std::move(session));
  return id;
}

void SessionRegistry::remove(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  sessions_.erase(id);
  if (sessions_.empty()) empty_.notify_all();
}

std::size_t SessionRegistry::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

bool SessionRegistry::closing() const {
  std::lock_guard lock(mutex_);
  return closing_;
}

void SessionRegistry::go_away_all() {
  std::vector<std::shared_ptr<SessionControl>> live;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    for (auto& [id, weak] : sessions_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->go_away();
}

void SessionRegistry::abort_all() {
  std::vector<std::shared_ptr<SessionControl>> live;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    for (auto& [id, weak] : sessions_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->abort();
}

bool SessionRegistry::wait_empty(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return empty_.wait_until(lock, deadline, [&] { return sessions_.empty(); });
}

// ---- Session
// --------------------------------------------------------------------------------------

namespace {

// TLS directly on the socket (tls_socket_stream.h): no per-connection BIO pair or staging buffers.
using Stream = websocket::stream<TlsSocketStream>;

// Requests one connection may make before the upgrade (or as a plain web client) before we close.
constexpr int kMaxPlainRequests = 32;
constexpr std::size_t kMaxRequestHeaderBytes = std::size_t{8} * 1024;
constexpr std::size_t kMaxRequestBodyBytes = std::size_t{16} * 1024;
constexpr std::size_t kReadChunkBytes = std::size_t{64} * 1024;
// The first read of each message asks for little: an idle connection waits inside that read, and
// Beast allocates what it asks for (1536 bytes by default) before it waits. Later reads of a
// larger message use kReadChunkBytes.
constexpr std::size_t kFirstReadBytes = 512;

auto with_error(beast::error_code& ec) {
  return asio::redirect_error(asio::use_awaitable, ec);
}

websocket::close_code close_code_for(ErrorCode reason) {
  switch (reason) {
    case ErrorCode::kOk:
      return websocket::close_code::normal;
    case ErrorCode::kTooLarge:
      return websocket::close_code::too_big;
    case ErrorCode::kUnavailable:
    case ErrorCode::kRateLimited:
      return websocket::close_code::try_again_later;
    case ErrorCode::kInternal:
      return websocket::close_code::internal_error;
    default:
      return websocket::close_code::policy_error;
  }
}

std::string_view path_of(std::string_view target) {
  auto end = target.find_first_of("?#");
  return end == std::string_view::npos ? target : target.substr(0, end);
}

class Session final : public SessionControl, public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, SessionContext& context)
      : context_(context), ws_(std::move(socket), context.tls), wake_(ws_.get_executor()) {}

  ~Session() override {
    // Normally torn down on the strand already; this covers an io_context destroyed with the
    // connection still pending, so on_close() still happens exactly once.
    teardown();
  }

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void set_registry_id(std::uint64_t id) { registry_id_ = id; }
  auto executor() { return ws_.get_executor(); }

  void go_away() override {
    asio::post(executor(), [self = shared_from_this()] {
      if (self->phase_ == Phase::kOpen) {
        self->going_away_ = true;
        self->queue_->close(ErrorCode::kUnavailable);
      } else {
        self->cut();
      }
    });
  }

  void abort() override {
    asio::post(executor(), [self = shared_from_this()] { self->cut(); });
  }

  static asio::awaitable<void> run(std::shared_ptr<Session> self) {
    Session& s = *self;
    const bool upgraded = co_await s.handshake();
    if (!upgraded || s.context_.registry.closing()) {
      s.cut();
      s.teardown();
      co_return;
    }

    std::weak_ptr<Session> weak = self;
    auto executor = s.executor();
    s.queue_ =
        std::make_shared<OutboundQueue>(OutboundQueue::Limits{s.context_.config.max_queued_frames,
                                                              s.context_.config.max_queued_bytes},
                                        [weak, executor] {
                                          asio::post(executor, [weak] {
                                            if (auto session = weak.lock()) session->on_wake();
                                          });
                                        });
    // The core's per-IP abuse limits need the peer's address (never logged).
    beast::error_code endpoint_error;
    const auto peer = beast::get_lowest_layer(s.ws_).socket().remote_endpoint(endpoint_error);
    if (!endpoint_error) s.queue_->set_remote_address(peer.address().to_string());
    s.handler_ = s.context_.acceptor.accept(s.queue_);
    if (!s.handler_) {
      s.cut();
      s.teardown();
      co_return;
    }
    s.phase_ = Phase::kOpen;
    s.context_.metrics.connection_opened();

    s.active_parts_ = 2;
    asio::co_spawn(executor, write_loop(self), [self](const std::exception_ptr& e) {
      if (e) self->cut();
    });
    co_await s.read_loop();
    // The peer is gone (or closed): nothing more can be sent. Wake the writer so it ends too.
    s.queue_->shutdown();
    s.cut();
    s.wake_.cancel();
    s.finish_part();
  }

 private:
  enum class Phase { kHandshake, kOpen, kDone };

  // TLS, then plain HTTP requests answered like a web server until a WebSocket upgrade on our path.
  // True when the WebSocket is established.
  asio::awaitable<bool> handshake() {
    const GatewayConfig& config = context_.config;
    beast::error_code ec;
    auto& transport = beast::get_lowest_layer(ws_);
    transport.expires_after(config.handshake_timeout);  // one deadline for TLS + upgrade
    co_await ws_.next_layer().async_handshake(with_error(ec));
    if (ec) {
      context_.metrics.handshake_failed(ec == beast::error::timeout ? "timeout" : "tls");
      co_return false;
    }

    beast::flat_buffer buffer;
    for (int served = 0; served < kMaxPlainRequests; ++served) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(kMaxRequestHeaderBytes);
      parser.body_limit(kMaxRequestBodyBytes);
      co_await http::async_read(ws_.next_layer(), buffer, parser, with_error(ec));
      if (ec) {
        if (served == 0) {
          context_.metrics.handshake_failed(ec == beast::error::timeout ? "timeout" : "http");
        }
        co_return false;
      }
      http::request<http::string_body> request = parser.release();

      if (websocket::is_upgrade(request) &&
          path_of({request.target().data(), request.target().size()}) == config.websocket_path) {
        transport.expires_never();  // the WebSocket's own timeouts take over
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = config.handshake_timeout;
        timeouts.idle_timeout = config.idle_timeout;
        timeouts.keep_alive_pings = true;  // ping at half the idle time
        ws_.set_option(timeouts);
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& response) { response.erase(http::field::server); }));
        ws_.binary(true);
        ws_.read_message_max(0);  // enforced in read_loop()
        co_await ws_.async_accept(request, with_error(ec));
        if (ec) {
          context_.metrics.handshake_failed("websocket");
          co_return false;
        }
        co_return true;
      }

      // Not for us: the answer an ordinary static web server gives, nothing that tells us apart.
      http::response<http::string_body> response = plain_page(request);
      context_.metrics.http_response(response.result_int());
      const bool keep_alive = response.keep_alive();
      co_await http::async_write(ws_.next_layer(), response, with_error(ec));
      if (ec || !keep_alive) break;
      transport.expires_after(config.handshake_timeout);
    }
    transport.expires_after(std::chrono::seconds(2));
    co_await ws_.next_layer().async_shutdown(with_error(ec));  // TLS close_notify
    co_return false;
  }

  // Reads in chunks and enforces the frame limit itself, so an oversize message is counted and
  // answered with close 1009 through the writer (Beast's own limit would fail the read with
  // whatever error the TLS teardown reports).
  asio::awaitable<void> read_loop() {
    beast::flat_buffer buffer;
    beast::error_code ec;
    bool discarding = false;
    for (;;) {
      const std::size_t limit = ws_.is_message_done() ? kFirstReadBytes : kReadChunkBytes;
      co_await ws_.async_read_some(buffer, limit, with_error(ec));
      if (ec) {
        spdlog::debug("connection read ended: {}", ec.message());
        co_return;
      }
      if (!discarding && buffer.size() > context_.config.max_frame_bytes) {
        discarding = true;
        context_.metrics.oversize_frame();
        queue_->close(ErrorCode::kTooLarge);
      }
      if (discarding) {
        buffer.consume(buffer.size());  // drain until the closing handshake ends the connection
        continue;
      }
      if (!ws_.is_message_done()) continue;
      auto data = buffer.cdata();
      if (!ws_.got_binary()) {
        // Frames are binary protobuf; text is a client bug or a probe.
        queue_->close(ErrorCode::kProtocolViolation);
      } else if (!queue_->close_requested()) {
        context_.metrics.frame_received(data.size());
        handler_->on_frame(ByteView(static_cast<const std::uint8_t*>(data.data()), data.size()));
      }
      buffer.consume(buffer.size());
      // Give the capacity back between messages: most connections sit idle in the next read, and
      // a flat_buffer keeps its largest message's size for good (up to a frame limit per idle
      // connection). The next read allocates only what Beast prepares (512 bytes and up).
      buffer.shrink_to_fit();
    }
  }

  static asio::awaitable<void> write_loop(std::shared_ptr<Session> self) {
    Session& s = *self;
    beast::error_code ec;
    for (;;) {
      if (s.queue_->is_shut_down() || s.queue_->overflowed()) break;
      if (auto frame = s.queue_->pop()) {
        co_await s.ws_.async_write(asio::buffer(*frame), with_error(ec));
        if (ec) {
          s.cut();
          break;
        }
        s.context_.metrics.frame_sent(frame->size());
        continue;
      }
      ErrorCode reason = ErrorCode::kOk;
      if (s.queue_->close_requested(&reason)) {
        // Everything queued before close() is flushed; now the closing handshake. The reader
        // sees the peer's answer (or the close timeout) and ends the connection.
        websocket::close_reason close(s.going_away_ ? websocket::close_code::going_away
                                                    : close_code_for(reason));
        // The error's short name ("rate_limited", "too_large") says why in a few bytes.
        if (!s.going_away_ && reason != ErrorCode::kOk) {
          close.reason = std::string(error_code_name(reason));
        }
        co_await s.ws_.async_close(close, with_error(ec));
        if (ec) s.cut();
        break;
      }
      s.wake_.expires_at(asio::steady_timer::time_point::max());
      co_await s.wake_.async_wait(with_error(ec));  // cancelled by on_wake()
    }
    s.finish_part();
  }

  // On the strand, after the queue changed.
  void on_wake() {
    if (queue_ && queue_->overflowed() && !dropped_) {
      dropped_ = true;
      context_.metrics.slow_consumer_dropped();
      cut();
    }
    wake_.cancel();
  }

  // Closes the socket at once: pending reads and writes finish with an error.
  void cut() {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).close();
  }

  void finish_part() {
    if (--active_parts_ == 0) teardown();
  }

  void teardown() {
    if (phase_ == Phase::kDone) return;
    const bool was_open = phase_ == Phase::kOpen;
    phase_ = Phase::kDone;
    if (queue_) queue_->shutdown();
    if (handler_) {
      handler_->on_close();
      handler_.reset();
    }
    if (was_open) context_.metrics.connection_closed();
    context_.registry.remove(registry_id_);
  }

  SessionContext& context_;
  Stream ws_;
  asio::steady_timer wake_;
  std::shared_ptr<OutboundQueue> queue_;
  std::unique_ptr<server::ConnectionHandler> handler_;
  std::uint64_t registry_id_ = 0;
  Phase phase_ = Phase::kHandshake;
  int active_parts_ = 0;
  bool going_away_ = false;
  bool dropped_ = false;
};

}  // namespace

void start_session(tcp::socket socket, SessionContext& context) {
  if (context.registry.size() >= context.config.max_connections || context.registry.closing()) {
    context.metrics.connection_refused();
    beast::error_code ec;
    socket.close(ec);
    return;
  }
  auto session = std::make_shared<Session>(std::move(socket), context);
  session->set_registry_id(context.registry.add(session));
  asio::co_spawn(session->executor(), Session::run(session), [](const std::exception_ptr& e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& error) {
      spdlog::error("connection task failed: {}", error.what());
    }
  });
}

}  // namespace parley::gateway
