// SPDX-License-Identifier: AGPL-3.0-or-later
//
// The relay's network side, parley-relay's only Asio/Beast translation unit (each one costs about
// a minute to compile). One io_context, a thread per core, one strand per connection:
//
//   accept → limits → TLS (our certificate) → read the head (≤ kMaxRelayRequestBytes, timeout)
//     kParley → dial upstream (parleyd plain TCP, or a relay: TLS pinned + relay handshake)
//               → 101 → splice raw bytes both ways (the client's inner TLS, never decrypted)
//     else    → the decoy gets every byte read so far: a static site (Beast HTTP/1.1) or a
//               plain-HTTP site the bytes are passed through to.
//
// Logs never carry the secret, and client addresses only at debug level. The decisions that need
// no sockets live in plain files beside this one: routes.h (the settings' checks), decoy_site.h
// (the static decoy's pages), connection_limits.h, and admin_page.h (/metrics, /healthz).

#include <utility>  // before Asio: Boost 1.74 + GCC 12 need std::exchange declared
//
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "admin_page.h"
#include "connection_limits.h"
#include "counters.h"
#include "decoy_site.h"
#include "parley/net/relay_handshake.h"
#include "parley/net/websocket_channel.h"
#include "parley/util/encoding.h"
#include "relay_server.h"
#include "routes.h"
#include "token_bucket.h"

namespace parley::relay {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using boost::system::error_code;
using SslStream = ssl::stream<tcp::socket>;
using namespace std::chrono_literals;

constexpr auto kRedirect = [](error_code& ec) {
  return asio::redirect_error(asio::use_awaitable, ec);
};
constexpr std::size_t kChunk = 16UL * 1024;

// Cancels a socket's operations when the time is up (the operation then ends with
// operation_aborted and fired() tells why). Everything runs on the socket's strand; `state`
// outlives the object so a timer handler already queued never touches a socket that is gone.
class Deadline {
 public:
  Deadline(tcp::socket& socket, std::chrono::milliseconds after)
      : timer_(socket.get_executor()), state_(std::make_shared<State>()) {
    timer_.expires_after(after);
    timer_.async_wait([state = state_, &socket](error_code ec) {
      if (ec || !state->armed) return;
      state->fired = true;
      socket.cancel(ec);
    });
  }
  ~Deadline() {
    state_->armed = false;
    error_code ignored;
    timer_.cancel(ignored);  // the non-throwing overload: a destructor must not throw
  }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;
  bool fired() const { return state_->fired; }

 private:
  struct State {
    bool armed = true;
    bool fired = false;
  };
  asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

// One end of a forwarded connection: TLS (the client, or an upstream relay) or plain TCP.
struct Side {
  std::unique_ptr<SslStream> tls;
  std::unique_ptr<tcp::socket> plain;

  tcp::socket& socket() { return tls ? tls->next_layer() : *plain; }
  awaitable<std::size_t> read_some(asio::mutable_buffer buffer, error_code& ec) {
    if (tls) co_return co_await tls->async_read_some(buffer, kRedirect(ec));
    co_return co_await plain->async_read_some(buffer, kRedirect(ec));
  }
  awaitable<void> write(asio::const_buffer buffer, error_code& ec) {
    if (tls) {
      co_await asio::async_write(*tls, buffer, kRedirect(ec));
    } else {
      co_await asio::async_write(*plain, buffer, kRedirect(ec));
    }
  }
};

std::string spki_pin_of_peer(SslStream& stream) {
  X509* cert = SSL_get_peer_certificate(stream.native_handle());
  if (cert == nullptr) return {};
  unsigned char* der = nullptr;
  const int length = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  X509_free(cert);
  if (length <= 0) return {};
  std::array<unsigned char, 32> digest{};
  unsigned int digest_length = 0;
  const int ok = EVP_Digest(der, static_cast<std::size_t>(length), digest.data(), &digest_length,
                            EVP_sha256(), nullptr);
  OPENSSL_free(der);
  if (ok != 1) return {};
  return hex_encode(ByteView(digest.data(), digest.size()));
}

}  // namespace

// ---- the server -----------------------------------------------------------------------------

struct RelayServer::Impl {
  // Declared before the io_context so that they outlive the coroutine frames it destroys.
  RelaySettings settings;
  RelayIdentity identity;
  RelayCounters counters;
  net::HostPort upstream_address;
  std::optional<net::RelayLink> upstream_link;
  std::optional<net::HostPort> decoy_upstream;
  ssl::context server_tls{ssl::context::tls_server};
  ssl::context client_tls{ssl::context::tls_client};
  std::chrono::milliseconds head_timeout{10'000};
  std::chrono::milliseconds idle_timeout{300'000};
  std::chrono::milliseconds connect_timeout{10'000};

  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  tcp::acceptor admin{ioc};
  std::vector<std::thread> threads;
  bool stopped = false;

  // A forwarded connection: two pumps and an idle watchdog share it; the last one to finish
  // frees the connection's slot.
  struct Splice {
    Splice(Impl& owner, std::shared_ptr<ConnectionSlot> held_slot, Side client_side,
           Side upstream_side)
        : impl(owner),
          slot(std::move(held_slot)),
          client(std::move(client_side)),
          upstream(std::move(upstream_side)),
          bucket(owner.settings.bandwidth_per_connection, std::chrono::steady_clock::now()),
          watchdog(this->client.socket().get_executor()),
          last_activity(std::chrono::steady_clock::now()) {}

    void close_all() {
      if (closed) return;
      closed = true;
      error_code ec;
      client.socket().close(ec);
      upstream.socket().close(ec);
      watchdog.cancel();
    }

    Impl& impl;
    std::shared_ptr<ConnectionSlot> slot;
    Side client;
    Side upstream;
    TokenBucket bucket;
    asio::steady_timer watchdog;
    std::chrono::steady_clock::time_point last_activity;
    bool closed = false;
  };

  // ---- forwarding ----

  static awaitable<void> pump(std::shared_ptr<Splice> splice, bool client_to_upstream) {
    Side& from = client_to_upstream ? splice->client : splice->upstream;
    Side& to = client_to_upstream ? splice->upstream : splice->client;
    auto& bytes =
        client_to_upstream ? splice->impl.counters.bytes_up : splice->impl.counters.bytes_down;
    std::vector<char> buffer(kChunk);
    asio::steady_timer pace(from.socket().get_executor());
    bool eof = false;
    for (;;) {
      error_code ec;
      const std::size_t n = co_await from.read_some(asio::buffer(buffer), ec);
      if (n > 0) {
        splice->last_activity = std::chrono::steady_clock::now();
        const auto wait = splice->bucket.take(n, std::chrono::steady_clock::now());
        if (wait.count() > 0) {
          pace.expires_after(wait);
          error_code pace_ec;
          co_await pace.async_wait(kRedirect(pace_ec));
        }
        error_code write_ec;
        co_await to.write(asio::buffer(buffer.data(), n), write_ec);
        if (write_ec) break;
        bytes.fetch_add(n);
      }
      if (ec) {
        eof = ec == asio::error::eof || ec == ssl::error::stream_truncated;
        break;
      }
    }
    if (splice->closed) co_return;
    // The client finished sending and the upstream is plain TCP: pass the half-close on and let
    // the answer still flow back (a prober's HTTP/1.0 request, a final WebSocket frame).
    if (eof && client_to_upstream && !splice->upstream.tls) {
      error_code ec;
      splice->upstream.socket().shutdown(tcp::socket::shutdown_send, ec);
      co_return;
    }
    // The upstream finished: end the client's TLS properly (close_notify), as a web server does.
    if (eof && !client_to_upstream) {
      Deadline deadline(splice->client.socket(), 1s);
      error_code ec;
      co_await splice->client.tls->async_shutdown(kRedirect(ec));
    }
    splice->close_all();
  }

  static awaitable<void> watch_idle(std::shared_ptr<Splice> splice) {
    const auto tick = std::min<std::chrono::milliseconds>(splice->impl.idle_timeout, 1000ms);
    while (!splice->closed) {
      splice->watchdog.expires_after(tick);
      error_code ec;
      co_await splice->watchdog.async_wait(kRedirect(ec));
      if (splice->closed) break;
      if (std::chrono::steady_clock::now() - splice->last_activity >= splice->impl.idle_timeout) {
        spdlog::debug("closing an idle connection");
        splice->close_all();
      }
    }
  }

  void start_splice(std::shared_ptr<ConnectionSlot> slot, Side client, Side upstream) {
    auto splice =
        std::make_shared<Splice>(*this, std::move(slot), std::move(client), std::move(upstream));
    auto executor = splice->client.socket().get_executor();
    asio::co_spawn(executor, pump(splice, true), asio::detached);
    asio::co_spawn(executor, pump(splice, false), asio::detached);
    asio::co_spawn(executor, watch_idle(splice), asio::detached);
  }

  // ---- upstreams ----

  awaitable<std::optional<tcp::socket>> connect_tcp(const asio::any_io_executor& executor,
                                                    const std::string& host, std::uint16_t port) {
    tcp::resolver resolver(executor);
    error_code ec;
    auto results = co_await resolver.async_resolve(host, std::to_string(port), kRedirect(ec));
    if (ec) co_return std::nullopt;
    tcp::socket socket(executor);
    Deadline deadline(socket, connect_timeout);
    co_await asio::async_connect(socket, results, kRedirect(ec));
    if (ec) co_return std::nullopt;
    socket.set_option(tcp::no_delay(true), ec);
    co_return std::optional<tcp::socket>(std::move(socket));
  }

  // The upstream for a Parley session, ready to carry the client's bytes; `leftover` gets bytes
  // an upstream relay sent after its 101 head (they belong to the client).
  awaitable<std::optional<Side>> dial_upstream(const asio::any_io_executor& executor,
                                               std::string& leftover) {
    if (!upstream_link) {
      auto socket = co_await connect_tcp(executor, upstream_address.host, upstream_address.port);
      if (!socket) co_return std::nullopt;
      Side side;
      side.plain = std::make_unique<tcp::socket>(std::move(*socket));
      co_return std::optional<Side>(std::move(side));
    }
    const net::RelayLink& link = *upstream_link;
    auto socket = co_await connect_tcp(executor, link.host, link.port);
    if (!socket) co_return std::nullopt;
    Side side;
    side.tls = std::make_unique<SslStream>(std::move(*socket), client_tls);
    const std::string sni = link.effective_sni();
    if (!sni.empty()) SSL_set_tlsext_host_name(side.tls->native_handle(), sni.c_str());
    Deadline deadline(side.socket(), connect_timeout);
    error_code ec;
    co_await side.tls->async_handshake(ssl::stream_base::client, kRedirect(ec));
    if (ec) co_return std::nullopt;
    // Trust only the key the link pins: no CA, no name check (the cover name is not ours).
    if (spki_pin_of_peer(*side.tls) != link.pin_hex) {
      spdlog::warn("upstream relay {} presented a key that does not match its link's pin",
                   link.display());
      co_return std::nullopt;
    }
    const std::string request = net::relay_request(link);
    co_await side.write(asio::buffer(request), ec);
    if (ec) co_return std::nullopt;
    std::string received;
    std::array<char, 4096> buffer{};
    for (;;) {
      const std::size_t n = co_await side.read_some(asio::buffer(buffer), ec);
      received.append(buffer.data(), n);
      const auto check = net::check_relay_response(received);
      if (check.verdict == net::RelayResponseVerdict::kAccepted) {
        leftover = received.substr(check.head_bytes);
        co_return std::optional<Side>(std::move(side));
      }
      if (check.verdict == net::RelayResponseVerdict::kRefused) {
        spdlog::warn("upstream relay {} refused the secret in its link", link.display());
        co_return std::nullopt;
      }
      if (ec) co_return std::nullopt;
    }
  }

  // ---- the decoy ----

  http::response<http::string_body> decoy_response(const http::request<http::string_body>& req) {
    const bool get_or_head = req.method() == http::verb::get || req.method() == http::verb::head;
    const std::string target(req.target());
    DecoyPage page = decoy_page(settings.decoy_dir, get_or_head, target);
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    res.result(page.status);
    if (page.allow_get_head) res.set(http::field::allow, "GET, HEAD");
    res.set(http::field::content_type, page.content_type);
    res.body() = std::move(page.body);
    res.prepare_payload();
    if (req.method() == http::verb::head) res.body().clear();  // length stays the GET's
    return res;
  }

  awaitable<void> serve_static(SslStream& stream, const std::string& already_read) {
    boost::beast::flat_buffer buffer;
    buffer.commit(
        asio::buffer_copy(buffer.prepare(already_read.size()), asio::buffer(already_read)));
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(16U * 1024);
      parser.body_limit(64UL * 1024);
      error_code ec;
      {
        Deadline deadline(stream.next_layer(), head_timeout);
        co_await http::async_read(stream, buffer, parser, kRedirect(ec));
      }
      const bool closed = ec == http::error::end_of_stream || ec == http::error::partial_message ||
                          ec == asio::error::eof || ec == asio::error::operation_aborted ||
                          ec == ssl::error::stream_truncated || ec == asio::error::connection_reset;
      if (closed) break;
      if (ec) {
        // What the parser rejects gets a plain 400 and the connection closes, like most servers.
        http::response<http::string_body> res{http::status::bad_request, 11};
        res.set(http::field::content_type, "text/html");
        res.set(http::field::connection, "close");
        res.body() = std::string(kBadRequestHtml);
        res.prepare_payload();
        co_await http::async_write(stream, res, kRedirect(ec));
        break;
      }
      auto res = decoy_response(parser.get());
      const bool keep_alive = res.keep_alive();
      // HEAD: the body was emptied after Content-Length was set, so only the head goes out.
      co_await http::async_write(stream, res, kRedirect(ec));
      if (ec || !keep_alive) break;
    }
    Deadline deadline(stream.next_layer(), 1s);
    error_code ec;
    co_await stream.async_shutdown(kRedirect(ec));
  }

  // ---- one client connection ----

  awaitable<void> session(tcp::socket socket, std::shared_ptr<ConnectionSlot> slot) {
    auto executor = socket.get_executor();
    auto stream = std::make_unique<SslStream>(std::move(socket), server_tls);
    std::string received;
    bool timed_out = false;
    net::RelayRequestCheck check;
    {
      Deadline deadline(stream->next_layer(), head_timeout);
      error_code ec;
      co_await stream->async_handshake(ssl::stream_base::server, kRedirect(ec));
      if (ec) {
        counters.tls_failures.fetch_add(1);
        co_return;
      }
      std::array<char, 4096> buffer{};
      for (;;) {
        check = net::check_relay_request(received, identity.secret_hex);
        if (check.verdict != net::RelayRequestVerdict::kIncomplete) break;
        if (received.size() >= net::kMaxRelayRequestBytes) {
          check.verdict = net::RelayRequestVerdict::kDecoy;
          break;
        }
        const std::size_t room =
            std::min(buffer.size(), net::kMaxRelayRequestBytes - received.size());
        const std::size_t n =
            co_await stream->async_read_some(asio::buffer(buffer.data(), room), kRedirect(ec));
        received.append(buffer.data(), n);
        if (ec) {
          if (deadline.fired()) {
            timed_out = true;
            counters.head_timeouts.fetch_add(1);
            check.verdict = net::RelayRequestVerdict::kDecoy;
            break;
          }
          co_return;  // the client went away before saying anything conclusive
        }
      }
    }

    if (check.verdict == net::RelayRequestVerdict::kParley) {
      std::string from_upstream;
      auto upstream_side = co_await dial_upstream(executor, from_upstream);
      if (!upstream_side) {
        counters.upstream_failures.fetch_add(1);
        spdlog::warn("cannot reach the upstream {}; the client's connection is closed",
                     upstream_link ? upstream_link->display() : settings.upstream);
        co_return;
      }
      counters.parley_sessions.fetch_add(1);
      error_code ignored;
      spdlog::debug("parley session from {}",
                    stream->next_layer().remote_endpoint(ignored).address().to_string());
      Side client;
      client.tls = std::move(stream);
      error_code ec;
      const std::string reply = std::string(net::kRelayAcceptResponse) + from_upstream;
      co_await client.write(asio::buffer(reply), ec);
      if (ec) co_return;
      // Inner bytes the client sent right behind its head go on, never dropped.
      if (received.size() > check.head_bytes) {
        co_await upstream_side->write(
            asio::buffer(received.data() + check.head_bytes, received.size() - check.head_bytes),
            ec);
        if (ec) co_return;
        counters.bytes_up.fetch_add(received.size() - check.head_bytes);
      }
      start_splice(std::move(slot), std::move(client), std::move(*upstream_side));
      co_return;
    }

    counters.decoy_sessions.fetch_add(1);
    error_code ignored;
    spdlog::debug("decoy session from {}{}",
                  stream->next_layer().remote_endpoint(ignored).address().to_string(),
                  timed_out ? " (head timeout)" : "");
    if (decoy_upstream) {
      auto site = co_await connect_tcp(executor, decoy_upstream->host, decoy_upstream->port);
      if (!site) {
        counters.upstream_failures.fetch_add(1);
        spdlog::warn("cannot reach the decoy site {}", settings.decoy_upstream);
        co_return;
      }
      Side upstream_side;
      upstream_side.plain = std::make_unique<tcp::socket>(std::move(*site));
      error_code ec;
      if (!received.empty()) {
        co_await upstream_side.write(asio::buffer(received), ec);
        if (ec) co_return;
      }
      Side client;
      client.tls = std::move(stream);
      start_splice(std::move(slot), std::move(client), std::move(upstream_side));
      co_return;
    }
    co_await serve_static(*stream, received);
  }

  awaitable<void> accept_loop() {
    asio::steady_timer backoff(ioc);
    for (;;) {
      error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(asio::make_strand(ioc), kRedirect(ec));
      if (ec) {
        if (!acceptor.is_open() || ec == asio::error::operation_aborted) co_return;
        backoff.expires_after(100ms);  // out of descriptors or similar: do not spin
        co_await backoff.async_wait(kRedirect(ec));
        continue;
      }
      counters.accepted.fetch_add(1);
      const std::string ip = socket.remote_endpoint(ec).address().to_string();
      // Over a limit the connection is closed before TLS: a flood then costs no handshake, and
      // everyone (with or without the secret) sees the same thing.
      auto slot = ConnectionSlot::admit(counters, settings.max_connections,
                                        settings.max_connections_per_ip, ip);
      if (!slot) {
        spdlog::debug("refused a connection from {} (connection limit)", ip);
        socket.close(ec);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto executor = socket.get_executor();
      asio::co_spawn(executor, session(std::move(socket), std::move(slot)), asio::detached);
    }
  }

  awaitable<void> admin_connection(tcp::socket socket) {
    std::string request;
    error_code ec;
    {
      Deadline deadline(socket, 5s);
      co_await asio::async_read_until(socket, asio::dynamic_buffer(request, 8192), "\r\n\r\n",
                                      kRedirect(ec));
    }
    if (ec) co_return;
    const std::string response = admin_response(request, counters);
    co_await asio::async_write(socket, asio::buffer(response), kRedirect(ec));
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  awaitable<void> admin_loop() {
    for (;;) {
      error_code ec;
      tcp::socket socket = co_await admin.async_accept(asio::make_strand(ioc), kRedirect(ec));
      if (ec) {
        if (!admin.is_open() || ec == asio::error::operation_aborted) co_return;
        continue;
      }
      auto executor = socket.get_executor();
      asio::co_spawn(executor, admin_connection(std::move(socket)), asio::detached);
    }
  }

  Status bind(tcp::acceptor& target, const std::string& text, const char* what) {
    auto address = net::parse_host_port(text);
    if (!address.ok()) {
      return Status::error(ErrorCode::kInvalidArgument,
                           std::string(what) + ": " + address.status().message());
    }
    error_code ec;
    const auto ip = asio::ip::make_address(address->host, ec);
    if (ec) {
      return Status::error(ErrorCode::kInvalidArgument,
                           std::string(what) + " needs an IP address, not a name");
    }
    const tcp::endpoint endpoint(ip, address->port);
    target.open(endpoint.protocol(), ec);
    if (!ec) target.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) target.bind(endpoint, ec);
    if (!ec) target.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::error(ErrorCode::kUnavailable,
                           std::string("cannot listen on ") + what + ": " + ec.message());
    }
    return {};
  }

  Status configure() {
    head_timeout = std::chrono::milliseconds(settings.head_timeout_ms);
    idle_timeout = std::chrono::milliseconds(settings.idle_timeout_ms);
    connect_timeout = std::chrono::milliseconds(settings.connect_timeout_ms);
    auto routes = plan_routes(settings);
    if (!routes.ok()) return routes.status();
    upstream_address = routes->upstream_address;
    upstream_link = routes->upstream_link;
    decoy_upstream = routes->decoy_upstream;

    // The outer TLS looks like any web server's: TLS 1.2 or 1.3, our own certificate.
    server_tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1);
    error_code ec;
    server_tls.use_certificate_chain_file(identity.cert_file, ec);
    if (!ec) server_tls.use_private_key_file(identity.key_file, ssl::context::pem, ec);
    if (ec || SSL_CTX_check_private_key(server_tls.native_handle()) != 1) {
      return Status::error(ErrorCode::kInvalidKey, "cannot load the TLS certificate and key");
    }
    // To an upstream relay: TLS 1.2+ like any client; trust is checked by the pin after the
    // handshake (no CA, no name: the cover name is not the relay's).
    SSL_CTX_set_min_proto_version(client_tls.native_handle(), TLS1_2_VERSION);
    client_tls.set_verify_mode(ssl::verify_none);

    PARLEY_RETURN_IF_ERROR(bind(acceptor, settings.listen, "--listen"));
    if (settings.admin != "off" && !settings.admin.empty()) {
      PARLEY_RETURN_IF_ERROR(bind(admin, settings.admin, "--admin"));
    }
    return {};
  }

  void run() {
    asio::co_spawn(ioc, accept_loop(), asio::detached);
    if (admin.is_open()) asio::co_spawn(ioc, admin_loop(), asio::detached);
    unsigned count = settings.threads != 0 ? settings.threads : std::thread::hardware_concurrency();
    count = std::max(1u, count);
    for (unsigned i = 0; i < count; ++i) {
      threads.emplace_back([this] { ioc.run(); });
    }
  }
};

RelayServer::RelayServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RelayServer::~RelayServer() {
  stop();
}

Result<std::unique_ptr<RelayServer>> RelayServer::start(const RelaySettings& settings,
                                                        const RelayIdentity& identity) {
  auto impl = std::make_unique<Impl>();
  impl->settings = settings;
  impl->identity = identity;
  PARLEY_RETURN_IF_ERROR(impl->configure());
  error_code ec;
  spdlog::info("listening on {} (TLS){}", settings.listen,
               impl->admin.is_open() ? ", admin on " + settings.admin : std::string());
  spdlog::info("parley sessions go to {}", impl->upstream_link
                                               ? "relay " + impl->upstream_link->display()
                                               : "parleyd at " + settings.upstream);
  spdlog::info("everything else goes to {}",
               impl->decoy_upstream         ? "the site at " + settings.decoy_upstream
               : settings.decoy_dir.empty() ? std::string("the built-in homepage")
                                            : "the files in " + settings.decoy_dir);
  impl->run();
  return std::unique_ptr<RelayServer>(new RelayServer(std::move(impl)));
}

void RelayServer::stop() {
  Impl& impl = *impl_;
  if (impl.stopped) return;
  impl.stopped = true;
  asio::post(impl.ioc, [&impl] {
    error_code ec;
    impl.acceptor.close(ec);
    impl.admin.close(ec);
  });
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(impl.settings.shutdown_grace_ms);
  while (impl.counters.active.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  const auto left = impl.counters.active.load();
  if (left > 0) spdlog::info("closing {} open connection(s)", left);
  impl.ioc.stop();
  for (auto& thread : impl.threads) thread.join();
  impl.threads.clear();
}

}  // namespace parley::relay
