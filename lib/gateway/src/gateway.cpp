// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Gateway: owns the io_context and its threads, the TLS context, both listeners and the session
// registry; the per-connection work lives in session.cpp and admin.cpp.

#include "parley/gateway/gateway.h"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>  // before Asio (see session.h)
#include <vector>

#include "admin.h"
#include "gateway_metrics.h"
#include "session.h"

namespace parley::gateway {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// Offer HTTP/1.1 to clients that use ALPN (browsers do), like any HTTPS server without HTTP/2.
int select_alpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_len,
                const unsigned char* in, unsigned int in_len, void* /*arg*/) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_len, kHttp11, sizeof kHttp11, in, in_len) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

Status bind_listener(tcp::acceptor& acceptor, const std::string& address, std::uint16_t port,
                     std::string_view what) {
  error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  if (ec) {
    return Status::error(ErrorCode::kInvalidArgument,
                         std::string(what) + " address is not an IP address: " + address);
  }
  tcp::endpoint endpoint(ip, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::error(ErrorCode::kUnavailable, "cannot listen on " + std::string(what) + " " +
                                                      address + ":" + std::to_string(port) + ": " +
                                                      ec.message());
  }
  return {};
}

}  // namespace

class Gateway::Impl {
 public:
  Impl(GatewayConfig config, server::ConnectionAcceptor& acceptor, server::Metrics& metrics)
      : config_(std::move(config)),
        acceptor_(acceptor),
        metrics_(metrics),
        admin_context_{[this] { return accepting_.load(); }, metrics, config_.set_pow_difficulty},
        ioc_(static_cast<int>(thread_count())),
        accept_strand_(asio::make_strand(ioc_)),
        admin_strand_(asio::make_strand(ioc_)),
        listener_(accept_strand_),
        admin_listener_(admin_strand_) {}

  ~Impl() { stop(std::chrono::milliseconds(1'000)); }

  unsigned thread_count() const {
    if (config_.threads != 0) return config_.threads;
    return std::max(1u, std::thread::hardware_concurrency());
  }

  Status start() {
    std::lock_guard lock(lifecycle_mutex_);
    if (started_) return Status::error(ErrorCode::kFailedPrecondition, "gateway already started");
    PARLEY_RETURN_IF_ERROR(check_config());
    PARLEY_RETURN_IF_ERROR(load_tls());
    PARLEY_RETURN_IF_ERROR(
        bind_listener(listener_, config_.listen_address, config_.listen_port, "client listener"));
    listen_port_ = listener_.local_endpoint().port();
    if (config_.admin_enabled) {
      PARLEY_RETURN_IF_ERROR(
          bind_listener(admin_listener_, config_.admin_address, config_.admin_port, "admin"));
      admin_port_ = admin_listener_.local_endpoint().port();
    }

    work_.emplace(ioc_.get_executor());
    asio::co_spawn(accept_strand_, accept_loop(), asio::detached);
    if (config_.admin_enabled) asio::co_spawn(admin_strand_, admin_loop(), asio::detached);
    for (unsigned i = 0; i < thread_count(); ++i) {
      threads_.emplace_back([this] { ioc_.run(); });
    }
    started_ = true;
    accepting_ = true;
    return {};
  }

  void stop_accepting() {
    if (!accepting_.exchange(false)) return;
    close_on_strand(listener_, accept_strand_);
  }

  void stop(std::chrono::milliseconds grace) {
    std::lock_guard lock(lifecycle_mutex_);
    if (!started_ || stopped_) return;
    stopped_ = true;
    stop_accepting();

    // Flush every queue and say "going away"; clients that answer the close are gone quickly.
    registry_.go_away_all();
    if (!registry_.wait_empty(std::chrono::steady_clock::now() + grace)) {
      spdlog::warn("{} connection(s) did not close within the grace period; cutting them",
                   registry_.size());
      registry_.abort_all();
      registry_.wait_empty(std::chrono::steady_clock::now() + std::chrono::seconds(2));
    }
    if (config_.admin_enabled) close_on_strand(admin_listener_, admin_strand_);
    work_.reset();
    ioc_.stop();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
  }

  std::uint16_t listen_port() const { return listen_port_; }
  std::uint16_t admin_port() const { return admin_port_; }
  bool accepting() const { return accepting_; }
  std::size_t open_connections() const {
    return static_cast<std::size_t>(metrics_.registry().value("parley_gateway_connections_open"));
  }

 private:
  Status check_config() const {
    if (config_.cert_file.empty() || config_.key_file.empty()) {
      return Status::error(ErrorCode::kInvalidArgument, "certificate and key files are required");
    }
    if (config_.websocket_path.empty() || config_.websocket_path.front() != '/') {
      return Status::error(ErrorCode::kInvalidArgument, "websocket path must start with '/'");
    }
    if (config_.max_frame_bytes == 0 || config_.max_queued_frames == 0 ||
        config_.max_queued_bytes < config_.max_frame_bytes) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "frame and queue limits must be positive and the byte queue must hold "
                           "at least one frame");
    }
    if (config_.admin_enabled) {
      error_code ec;
      auto ip = asio::ip::make_address(config_.admin_address, ec);
      if (ec || !ip.is_loopback()) {
        return Status::error(ErrorCode::kInvalidArgument,
                             "the admin listener must be on a loopback address");
      }
    }
    return {};
  }

  Status load_tls() {
    SSL_CTX* ctx = tls_.native_handle();
    // TLS 1.3 only: what browsers negotiate today, and no downgrade to weaker suites.
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
      return Status::error(ErrorCode::kInternal, "cannot restrict TLS to version 1.3");
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    // An idle connection gives its 16 KiB+ record buffers back to the heap between records:
    // most of a country's connections are idle, and this is most of their memory
    // (bench/RESULTS.md, the idle scenario).
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
    error_code ec;
    tls_.use_certificate_chain_file(config_.cert_file, ec);
    if (ec) {
      return Status::error(ErrorCode::kInvalidKey,
                           "cannot load certificate " + config_.cert_file + ": " + ec.message());
    }
    tls_.use_private_key_file(config_.key_file, asio::ssl::context::pem, ec);
    if (ec) {
      return Status::error(ErrorCode::kInvalidKey,
                           "cannot load private key " + config_.key_file + ": " + ec.message());
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      return Status::error(ErrorCode::kInvalidKey,
                           "the private key does not match the certificate");
    }
    return {};
  }

  asio::awaitable<void> accept_loop() {
    asio::steady_timer backoff(accept_strand_);
    for (;;) {
      error_code ec;
      tcp::socket socket = co_await listener_.async_accept(
          asio::make_strand(ioc_), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (!listener_.is_open() || ec == asio::error::operation_aborted) co_return;
        // Out of descriptors or similar: back off instead of spinning.
        backoff.expires_after(std::chrono::milliseconds(100));
        co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      start_session(std::move(socket), session_context_);
    }
  }

  asio::awaitable<void> admin_loop() {
    for (;;) {
      error_code ec;
      tcp::socket socket = co_await admin_listener_.async_accept(
          asio::make_strand(ioc_), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (!admin_listener_.is_open() || ec == asio::error::operation_aborted) co_return;
        continue;
      }
      start_admin_connection(std::move(socket), admin_context_);
    }
  }

  // Acceptors are not thread-safe: close them on their own strand and wait for it.
  template <typename Strand>
  void close_on_strand(tcp::acceptor& acceptor, Strand& strand) {
    std::promise<void> done;
    asio::post(strand, [&] {
      error_code ec;
      acceptor.close(ec);
      done.set_value();
    });
    done.get_future().wait();
  }

  // Declaration order matters for destruction: the io_context (and with it every pending
  // connection) goes before the things connections refer to.
  GatewayConfig config_;
  server::ConnectionAcceptor& acceptor_;
  GatewayMetrics metrics_;
  asio::ssl::context tls_{asio::ssl::context::tls_server};
  SessionRegistry registry_;
  SessionContext session_context_{config_, tls_, acceptor_, metrics_, registry_};
  std::atomic<bool> accepting_{false};
  AdminContext admin_context_;
  std::atomic<std::uint16_t> listen_port_{0};
  std::atomic<std::uint16_t> admin_port_{0};

  asio::io_context ioc_;
  asio::strand<asio::io_context::executor_type> accept_strand_;
  asio::strand<asio::io_context::executor_type> admin_strand_;
  tcp::acceptor listener_;
  tcp::acceptor admin_listener_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::mutex lifecycle_mutex_;
  bool started_ = false;
  bool stopped_ = false;
};

Gateway::Gateway(GatewayConfig config, server::ConnectionAcceptor& acceptor,
                 server::Metrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(config), acceptor, metrics)) {}

Gateway::~Gateway() = default;

Status Gateway::start() {
  return impl_->start();
}
std::uint16_t Gateway::listen_port() const {
  return impl_->listen_port();
}
std::uint16_t Gateway::admin_port() const {
  return impl_->admin_port();
}
bool Gateway::accepting() const {
  return impl_->accepting();
}
void Gateway::stop_accepting() {
  impl_->stop_accepting();
}
void Gateway::stop(std::chrono::milliseconds grace) {
  impl_->stop(grace);
}
std::size_t Gateway::open_connections() const {
  return impl_->open_connections();
}

}  // namespace parley::gateway
