// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The TCP socket of the WebSocket channel's first hop (parleyd, the relay or the proxy), counting
// the bytes it reads for FrameChannel::bytes_received(). Asio only: shared by the channel
// (websocket_channel.cpp) and the proxy handshakes that run on it (proxy_handshake.cpp).

// clang-format off
#include <utility>  // before Asio: Boost 1.74's headers need std::exchange declared (GCC 12)
// clang-format on

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace parley::net {

// Every read from the first hop's socket adds its size to the channel's counter.
template <class Handler>
struct CountingHandler {
  Handler handler;
  std::atomic<std::uint64_t>* counter;
  void operator()(boost::system::error_code ec, std::size_t size) {
    if (counter != nullptr) counter->fetch_add(size, std::memory_order_relaxed);
    handler(ec, size);
  }
};

// The TCP socket of the first hop (parleyd, the relay or the proxy), counting what it reads.
class CountingSocket {
 public:
  using tcp = boost::asio::ip::tcp;
  using executor_type = tcp::socket::executor_type;
  using lowest_layer_type = tcp::socket::lowest_layer_type;

  explicit CountingSocket(boost::asio::io_context& ioc) : socket_(ioc) {}

  executor_type get_executor() { return socket_.get_executor(); }
  lowest_layer_type& lowest_layer() { return socket_.lowest_layer(); }
  const lowest_layer_type& lowest_layer() const { return socket_.lowest_layer(); }
  tcp::socket& socket() { return socket_; }
  void set_counter(std::atomic<std::uint64_t>* counter) { counter_ = counter; }

  template <class Buffers, class Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    socket_.async_read_some(
        buffers, CountingHandler<std::decay_t<Handler>>{std::forward<Handler>(handler), counter_});
  }
  template <class Buffers, class Handler>
  void async_write_some(const Buffers& buffers, Handler&& handler) {
    socket_.async_write_some(buffers, std::forward<Handler>(handler));
  }

 private:
  tcp::socket socket_;
  std::atomic<std::uint64_t>* counter_ = nullptr;
};

}  // namespace parley::net
