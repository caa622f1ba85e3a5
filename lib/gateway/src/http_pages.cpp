// SPDX-License-Identifier: AGPL-3.0-or-later
#include "http_pages.h"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <ctime>
#include <string>
#include <string_view>

namespace parley::gateway {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view kIndexPage =
    "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>Welcome</title>\n</head>\n"
    "<body>\n<h1>Welcome</h1>\n<p>This site is up and running.</p>\n</body>\n</html>\n";

constexpr std::string_view kNotFoundPage =
    "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
    "<center><h1>404 Not Found</h1></center>\r\n</body>\r\n</html>\r\n";

constexpr std::string_view kNotAllowedPage =
    "<html>\r\n<head><title>405 Not Allowed</title></head>\r\n<body>\r\n"
    "<center><h1>405 Not Allowed</h1></center>\r\n</body>\r\n</html>\r\n";

// RFC 9110 IMF-fixdate, as every web server sends it.
std::string http_date() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[64];
  std::size_t n = std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &utc);
  return std::string(buffer, n);
}

}  // namespace

http::response<http::string_body> plain_page(const http::request<http::string_body>& request) {
  http::response<http::string_body> response;
  response.version(request.version());
  response.keep_alive(request.keep_alive());
  response.set(http::field::date, http_date());
  response.set(http::field::content_type, "text/html");

  std::string_view path(request.target().data(), request.target().size());
  if (auto end = path.find_first_of("?#"); end != std::string_view::npos) {
    path = path.substr(0, end);
  }
  const bool readable = request.method() == http::verb::get || request.method() == http::verb::head;
  if (!readable) {
    response.result(http::status::method_not_allowed);
    response.set(http::field::allow, "GET, HEAD");
    response.body() = std::string(kNotAllowedPage);
  } else if (path == "/" || path == "/index.html") {
    response.result(http::status::ok);
    response.body() = std::string(kIndexPage);
  } else {
    response.result(http::status::not_found);
    response.body() = std::string(kNotFoundPage);
  }
  response.prepare_payload();
  if (request.method() == http::verb::head) {
    // Same headers (including Content-Length), no body.
    response.body().clear();
  }
  return response;
}

}  // namespace parley::gateway
