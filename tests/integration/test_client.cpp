// SPDX-License-Identifier: AGPL-3.0-or-later
//
// The tests' only Beast translation unit. Operations are started asynchronously and driven with
// run_one_for() on a private io_context, so each has a deadline; on expiry the socket is closed
// and the operation finishes with an error.

#include "test_client.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cctype>
#include <optional>
#include <utility>  // before Asio: Boost 1.74's headers need std::exchange (GCC 12)

namespace parley::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// Runs `ioc` until `done` or the deadline; on expiry calls `cancel` and lets the operation finish.
// Returns false on timeout.
bool drive(asio::io_context& ioc, const bool& done, std::chrono::milliseconds timeout,
           const std::function<void()>& cancel) {
  ioc.restart();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    ioc.run_one_for(deadline - now);
  }
  if (done) return true;
  cancel();
  ioc.restart();
  while (!done && ioc.run_one() > 0) {
  }
  return false;
}

ssl::context make_tls_context(bool tls12_only) {
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_verify_mode(ssl::verify_none);
  if (tls12_only) {
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  }
  return ctx;
}

Status unavailable(std::string_view what, const error_code& ec) {
  return Status::error(ErrorCode::kUnavailable, std::string(what) + ": " + ec.message());
}

Result<tcp::endpoint> resolve(const std::string& host, std::uint16_t port) {
  error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return Status::error(ErrorCode::kInvalidArgument, "tests use IP addresses: " + host);
  return tcp::endpoint(address, port);
}

template <typename Stream>
Result<HttpResponse> do_get(asio::io_context& ioc, Stream& stream, const std::function<void()>& cut,
                            const std::string& host, const std::string& target,
                            const std::map<std::string, std::string>& headers,
                            std::chrono::milliseconds timeout) {
  http::request<http::empty_body> request(http::verb::get, target, 11);
  request.set(http::field::host, host);
  request.set(http::field::user_agent, "Mozilla/5.0");
  request.set(http::field::connection, "close");
  for (const auto& [name, value] : headers) request.set(name, value);
  bool done = false;
  error_code result;
  http::async_write(stream, request, [&](error_code ec, std::size_t) {
    result = ec;
    done = true;
  });
  if (!drive(ioc, done, timeout, cut)) return Status::error(ErrorCode::kTimeout, "write timed out");
  if (result) return unavailable("write", result);

  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  done = false;
  http::async_read(stream, buffer, response, [&](error_code ec, std::size_t) {
    result = ec;
    done = true;
  });
  if (!drive(ioc, done, timeout, cut)) return Status::error(ErrorCode::kTimeout, "read timed out");
  if (result) return unavailable("read", result);

  HttpResponse out;
  // NOLINTNEXTLINE(clang-analyzer-cplusplus.Move): async_read fills `response` by reference
  out.status = static_cast<int>(response.result_int());
  for (const auto& field : response) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(field.value());
  }
  out.body = std::move(response.body());
  return out;
}

}  // namespace

// ---- TlsWebSocketClient
// ---------------------------------------------------------------------------

struct TlsWebSocketClient::Impl {
  explicit Impl(ClientOptions o)
      : options(std::move(o)), tls(make_tls_context(options.tls12_only)), ws(ioc, tls) {}

  void cut() {
    error_code ec;
    beast::get_lowest_layer(ws).shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws).close(ec);
  }

  template <typename Start>
  Result<error_code> run(Start&& start, std::chrono::milliseconds timeout) {
    bool done = false;
    error_code result;
    start([&](error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    if (!drive(ioc, done, timeout, [this] { cut(); })) {
      return Status::error(ErrorCode::kTimeout, "operation timed out");
    }
    return result;
  }

  ClientOptions options;
  asio::io_context ioc;
  ssl::context tls;
  websocket::stream<ssl::stream<tcp::socket>> ws;
  beast::flat_buffer buffer;
  int close_code = 0;
};

TlsWebSocketClient::TlsWebSocketClient(ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

TlsWebSocketClient::~TlsWebSocketClient() {
  impl_->cut();
}

Status TlsWebSocketClient::connect_tcp_only() {
  PARLEY_ASSIGN_OR_RETURN(auto endpoint, resolve(impl_->options.host, impl_->options.port));
  auto& socket = beast::get_lowest_layer(impl_->ws);
  if (impl_->options.receive_buffer_bytes > 0) {
    socket.open(endpoint.protocol());
    socket.set_option(asio::socket_base::receive_buffer_size(impl_->options.receive_buffer_bytes));
  }
  PARLEY_ASSIGN_OR_RETURN(auto ec,
                          impl_->run([&](auto handler) { socket.async_connect(endpoint, handler); },
                                     impl_->options.timeout));
  if (ec) return unavailable("connect", ec);
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);  // no Nagle delay on request/response pairs
  return {};
}

Status TlsWebSocketClient::connect() {
  PARLEY_RETURN_IF_ERROR(connect_tcp_only());
  auto& tls_stream = impl_->ws.next_layer();
  SSL_set_tlsext_host_name(tls_stream.native_handle(), "localhost");
  PARLEY_ASSIGN_OR_RETURN(
      auto ec,
      impl_->run(
          [&](auto handler) { tls_stream.async_handshake(ssl::stream_base::client, handler); },
          impl_->options.timeout));
  if (ec) return unavailable("tls handshake", ec);
  impl_->ws.binary(true);
  impl_->ws.auto_fragment(false);
  impl_->ws.read_message_max(impl_->options.max_message_bytes);
  PARLEY_ASSIGN_OR_RETURN(ec, impl_->run(
                                  [&](auto handler) {
                                    impl_->ws.async_handshake("localhost", impl_->options.path,
                                                              handler);
                                  },
                                  impl_->options.timeout));
  if (ec) return unavailable("websocket upgrade", ec);
  return {};
}

Status TlsWebSocketClient::send(ByteView frame) {
  PARLEY_ASSIGN_OR_RETURN(auto ec, impl_->run(
                                       [&](auto handler) {
                                         impl_->ws.async_write(
                                             asio::buffer(frame.data(), frame.size()), handler);
                                       },
                                       impl_->options.timeout));
  if (ec) return unavailable("send", ec);
  return {};
}

Result<Bytes> TlsWebSocketClient::receive() {
  return receive(impl_->options.timeout);
}

Result<Bytes> TlsWebSocketClient::receive(std::chrono::milliseconds timeout) {
  impl_->buffer.clear();
  PARLEY_ASSIGN_OR_RETURN(
      auto ec,
      impl_->run([&](auto handler) { impl_->ws.async_read(impl_->buffer, handler); }, timeout));
  if (ec == websocket::error::closed) {
    impl_->close_code = impl_->ws.reason().code;
    return Status::error(ErrorCode::kConnectionClosed,
                         "closed with code " + std::to_string(impl_->close_code));
  }
  if (ec) return unavailable("receive", ec);
  auto data = impl_->buffer.cdata();
  const auto* begin = static_cast<const std::uint8_t*>(data.data());
  return Bytes(begin, begin + data.size());
}

int TlsWebSocketClient::close_code() const {
  return impl_->close_code;
}

Status TlsWebSocketClient::close() {
  PARLEY_ASSIGN_OR_RETURN(
      auto ec,
      impl_->run(
          [&](auto handler) { impl_->ws.async_close(websocket::close_code::normal, handler); },
          impl_->options.timeout));
  if (ec) return unavailable("close", ec);
  return {};
}

void TlsWebSocketClient::abort() {
  impl_->cut();
}

// ---- one-shot HTTP(S)
// -----------------------------------------------------------------------------

Result<HttpResponse> https_get(const std::string& host, std::uint16_t port,
                               const std::string& target,
                               const std::map<std::string, std::string>& headers,
                               std::chrono::milliseconds timeout) {
  PARLEY_ASSIGN_OR_RETURN(auto endpoint, resolve(host, port));
  asio::io_context ioc;
  ssl::context tls = make_tls_context(false);
  ssl::stream<tcp::socket> stream(ioc, tls);
  auto cut = [&] {
    error_code ec;
    stream.lowest_layer().close(ec);
  };
  bool done = false;
  error_code result;
  stream.lowest_layer().async_connect(endpoint, [&](error_code ec) {
    result = ec;
    done = true;
  });
  if (!drive(ioc, done, timeout, cut) || result) return unavailable("connect", result);
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  done = false;
  stream.async_handshake(ssl::stream_base::client, [&](error_code ec) {
    result = ec;
    done = true;
  });
  if (!drive(ioc, done, timeout, cut) || result) return unavailable("tls handshake", result);
  return do_get(ioc, stream, cut, host, target, headers, timeout);
}

Result<HttpResponse> http_get(const std::string& host, std::uint16_t port,
                              const std::string& target, std::chrono::milliseconds timeout) {
  PARLEY_ASSIGN_OR_RETURN(auto endpoint, resolve(host, port));
  asio::io_context ioc;
  tcp::socket socket(ioc);
  auto cut = [&] {
    error_code ec;
    socket.close(ec);
  };
  bool done = false;
  error_code result;
  socket.async_connect(endpoint, [&](error_code ec) {
    result = ec;
    done = true;
  });
  if (!drive(ioc, done, timeout, cut) || result) return unavailable("connect", result);
  return do_get(ioc, socket, cut, host, target, {}, timeout);
}

}  // namespace parley::testing
