// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// What the gateway answers to anything that is not a WebSocket upgrade on its path: the pages of an
// ordinary small web server (an index, 404, 405), so a probe cannot tell Parley from a web site.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <utility>  // before Boost (see session.h)

namespace parley::gateway {

boost::beast::http::response<boost::beast::http::string_body> plain_page(
    const boost::beast::http::request<boost::beast::http::string_body>& request);

}  // namespace parley::gateway
