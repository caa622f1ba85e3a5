// SPDX-License-Identifier: AGPL-3.0-or-later
#include "admin.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>  // before Asio (see session.h)

namespace parley::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kRequestTimeout = std::chrono::seconds(10);
constexpr int kMaxRequestsPerConnection = 1000;

constexpr std::string_view kPowDifficultyPath = "/admin/pow-difficulty";

// "22" or "22\n": a small unsigned number, nothing else.
std::optional<std::uint32_t> parse_bits(std::string_view body) {
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r' || body.back() == ' ')) {
    body.remove_suffix(1);
  }
  std::uint32_t value = 0;
  if (body.empty() || body.size() > 3) return std::nullopt;
  auto [end, error] = std::from_chars(body.data(), body.data() + body.size(), value);
  if (error != std::errc() || end != body.data() + body.size()) return std::nullopt;
  return value;
}

http::response<http::string_body> answer(const http::request<http::string_body>& request,
                                         const AdminContext& context) {
  http::response<http::string_body> response;
  response.version(request.version());
  response.keep_alive(request.keep_alive());
  response.set(http::field::content_type, "text/plain; charset=utf-8");

  std::string_view path(request.target().data(), request.target().size());
  if (auto end = path.find('?'); end != std::string_view::npos) path = path.substr(0, end);

  if (path == kPowDifficultyPath && context.set_pow_difficulty) {
    if (request.method() != http::verb::put) {
      response.result(http::status::method_not_allowed);
      response.set(http::field::allow, "PUT");
      response.body() = "method not allowed; PUT the number of bits\n";
    } else if (auto bits = parse_bits(request.body()); !bits) {
      response.result(http::status::bad_request);
      response.body() = "the body must be the number of leading zero bits, e.g. 22\n";
    } else if (Status changed = context.set_pow_difficulty(*bits); !changed.ok()) {
      response.result(http::status::bad_request);
      response.body() = changed.message() + "\n";
    } else {
      response.result(http::status::ok);
      response.body() = "pow difficulty " + std::to_string(*bits) + " bits\n";
    }
  } else if (request.method() != http::verb::get && request.method() != http::verb::head) {
    response.result(http::status::method_not_allowed);
    response.set(http::field::allow, "GET, HEAD");
    response.body() = "method not allowed\n";
  } else if (path == "/healthz") {
    const bool healthy = context.healthy();
    response.result(healthy ? http::status::ok : http::status::service_unavailable);
    response.body() = healthy ? "ok\n" : "stopping\n";
  } else if (path == "/metrics") {
    response.result(http::status::ok);
    response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    response.body() = context.metrics.render_prometheus();
  } else {
    response.result(http::status::not_found);
    response.body() = "not found; try /healthz or /metrics\n";
  }
  response.prepare_payload();
  if (request.method() == http::verb::head) response.body().clear();
  return response;
}

asio::awaitable<void> serve(beast::tcp_stream stream, const AdminContext& context) {
  beast::flat_buffer buffer;
  beast::error_code ec;
  for (int i = 0; i < kMaxRequestsPerConnection; ++i) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(8 * 1024);
    parser.body_limit(std::uint64_t{8} * 1024);
    stream.expires_after(kRequestTimeout);
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    auto response = answer(parser.get(), context);
    const bool keep_alive = response.keep_alive();
    co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep_alive) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace

void start_admin_connection(tcp::socket socket, const AdminContext& context) {
  auto executor = socket.get_executor();
  asio::co_spawn(executor, serve(beast::tcp_stream(std::move(socket)), context), asio::detached);
}

}  // namespace parley::gateway
