// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Private to session.cpp (the gateway's one Beast translation unit): a TLS AsyncStream on which
// OpenSSL reads and writes the non-blocking socket itself, through a minimal BIO on the fd.
//
// Why not asio::ssl::stream / beast::ssl_stream: Asio's SSL engine puts a BIO pair with two
// 17 KB buffers and two 17 KB staging vectors in every connection, and Beast's flat_stream adds a
// coalescing buffer; that was ~73 KB per idle connection. Here an idle connection holds only the
// SSL object (whose record buffers SSL_MODE_RELEASE_BUFFERS gives back between records) and the
// socket. Waiting is done with socket.async_wait() on the direction OpenSSL asks for.
//
// Concurrency: one read and one write may be outstanding at once (Beast's websocket reader and
// writer), always on the socket's strand, so SSL_read and SSL_write never run at the same time.
// With TLS 1.3 only and renegotiation off (gateway.cpp load_tls), SSL_read may need to write (a
// KeyUpdate answer) and then waits for writability, which depends on the kernel only; SSL_write
// never needs to read. Should an operation ever wait in the other operation's direction anyway,
// the other operation's completion "pokes" it (cancels the socket's waits, and the waiters
// retry), so it cannot sleep on data the other one already consumed.

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/role.hpp>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>  // before Asio (see session.h)

namespace parley::gateway {

class TlsSocketStream {
 public:
  using socket_type = boost::asio::ip::tcp::socket;
  using executor_type = socket_type::executor_type;
  using error_code = boost::system::error_code;

  // Server side. Throws std::bad_alloc when OpenSSL cannot allocate the connection's SSL object.
  TlsSocketStream(socket_type socket, boost::asio::ssl::context& context)
      : socket_(std::move(socket)) {
    error_code ignored;
    socket_.non_blocking(true, ignored);  // OpenSSL calls recv/send on the fd directly
    bio_.socket = &socket_;
    ssl_ = SSL_new(context.native_handle());
    BIO_METHOD* method = fd_bio_method();
    BIO* bio = ssl_ != nullptr && method != nullptr ? BIO_new(method) : nullptr;
    if (bio == nullptr) {
      if (ssl_) SSL_free(ssl_);
      throw std::bad_alloc();
    }
    BIO_set_data(bio, &bio_);
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl_, bio, bio);  // the SSL owns the BIO; the BIO never closes the fd
    // Partial writes: one record per SSL_write, like a socket's write_some. Moving buffer: a
    // retried write passes the same bytes from a fresh stack copy (see write_attempt).
    SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_set_accept_state(ssl_);
  }

  ~TlsSocketStream() {
    cancel_deadline();
    SSL_free(ssl_);
  }

  TlsSocketStream(const TlsSocketStream&) = delete;
  TlsSocketStream& operator=(const TlsSocketStream&) = delete;

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  socket_type& socket() noexcept { return socket_; }
  SSL* native_handle() noexcept { return ssl_; }

  // Like beast::tcp_stream: when the deadline passes the socket is closed, and the pending and
  // later operations fail with beast::error::timeout.
  template <class Rep, class Period>
  void expires_after(std::chrono::duration<Rep, Period> timeout) {
    if (!deadline_) deadline_ = std::make_shared<Deadline>(socket_.get_executor());
    deadline_->owner = this;
    const std::uint64_t serial = ++deadline_->serial;
    deadline_->timer.expires_after(timeout);
    // The handler holds the Deadline, not the stream: it may run after the stream is gone.
    deadline_->timer.async_wait([deadline = deadline_, serial](const error_code& ec) {
      if (ec || deadline->owner == nullptr || deadline->serial != serial) return;
      deadline->owner->time_out();
    });
  }

  // Drops the timer altogether: an established connection keeps no deadline state.
  void expires_never() { cancel_deadline(); }

  // Closes the socket now; pending operations fail. Safe to call more than once.
  void close() {
    cancel_deadline();
    error_code ignored;
    socket_.close(ignored);
  }

  template <class Token>
  auto async_handshake(Token&& token) {
    return boost::asio::async_compose<Token, void(error_code)>(
        Op<HandshakeAttempt, false>(*this, HandshakeAttempt{}, Direction::kBoth), token, socket_);
  }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_compose<Token, void(error_code, std::size_t)>(
        Op<ReadAttempt<MutableBuffers>, true>(*this, ReadAttempt<MutableBuffers>{buffers},
                                              Direction::kRead),
        token, socket_);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_compose<Token, void(error_code, std::size_t)>(
        Op<WriteAttempt<ConstBuffers>, true>(*this, WriteAttempt<ConstBuffers>{buffers},
                                             Direction::kWrite),
        token, socket_);
  }

  // Sends close_notify and waits for the peer's (or its EOF); bounded by the deadline or by the
  // caller closing the socket. With close_after, the socket is shut down and closed at the end.
  template <class Token>
  auto async_shutdown(Token&& token, bool close_after = false) {
    return boost::asio::async_compose<Token, void(error_code)>(
        Op<ShutdownAttempt, false>(*this, ShutdownAttempt{close_after}, Direction::kBoth), token,
        socket_);
  }

  // Non-blocking best effort for Beast's synchronous teardown: one close_notify, then close.
  void shutdown_now() {
    if (socket_.is_open() && SSL_is_init_finished(ssl_)) {
      ERR_clear_error();
      SSL_shutdown(ssl_);
      ERR_clear_error();
    }
    error_code ignored;
    socket_.shutdown(socket_type::shutdown_both, ignored);
    close();
  }

 private:
  // What the BIO needs: the socket (checked open on every call, so a closed and reused fd
  // number is never read) and the last errno, which OpenSSL may clobber before we look.
  struct BioState {
    socket_type* socket = nullptr;
    int last_errno = 0;
  };

  struct Deadline {
    explicit Deadline(const executor_type& executor) : timer(executor) {}
    boost::asio::steady_timer timer;
    TlsSocketStream* owner = nullptr;
    std::uint64_t serial = 0;
  };

  enum class Direction { kRead, kWrite, kBoth };

  // One OpenSSL call's outcome: finished (with ec and bytes), or wants the socket readable or
  // writable first.
  struct Step {
    enum class Kind { kFinished, kWantRead, kWantWrite };
    Kind kind = Kind::kFinished;
    error_code ec;
    std::size_t bytes = 0;
  };

  // ---- The BIO on the fd: recv/send with MSG_NOSIGNAL (no SIGPIPE on a reset peer).

  static int bio_read(BIO* bio, char* data, int size) {
    BIO_clear_retry_flags(bio);
    auto* state = static_cast<BioState*>(BIO_get_data(bio));
    if (!state->socket->is_open()) {
      state->last_errno = EBADF;
      return -1;
    }
    ssize_t n;
    do {
      n = ::recv(state->socket->native_handle(), data, static_cast<std::size_t>(size), 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      state->last_errno = errno;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        state->last_errno = 0;
        BIO_set_retry_read(bio);
      }
    }
    return static_cast<int>(n);
  }

  static int bio_write(BIO* bio, const char* data, int size) {
    BIO_clear_retry_flags(bio);
    auto* state = static_cast<BioState*>(BIO_get_data(bio));
    if (!state->socket->is_open()) {
      state->last_errno = EBADF;
      return -1;
    }
    ssize_t n;
    do {
      n = ::send(state->socket->native_handle(), data, static_cast<std::size_t>(size),
                 MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      state->last_errno = errno;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        state->last_errno = 0;
        BIO_set_retry_write(bio);
      }
    }
    return static_cast<int>(n);
  }

  static long bio_ctrl(BIO* /*bio*/, int command, long /*number*/, void* /*pointer*/) {
    // Writes go straight to the socket, so there is never anything to flush.
    return command == BIO_CTRL_FLUSH ? 1 : 0;
  }

  static int bio_create(BIO* bio) {
    BIO_set_init(bio, 0);
    BIO_set_data(bio, nullptr);
    return 1;
  }

  static int bio_destroy(BIO* bio) { return bio != nullptr ? 1 : 0; }  // the fd is not ours

  // One method table for the process, built on first use (thread-safe static), never freed.
  static BIO_METHOD* fd_bio_method() {
    static BIO_METHOD* const method = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "parley fd");
      if (m != nullptr) {
        BIO_meth_set_read(m, &bio_read);
        BIO_meth_set_write(m, &bio_write);
        BIO_meth_set_ctrl(m, &bio_ctrl);
        BIO_meth_set_create(m, &bio_create);
        BIO_meth_set_destroy(m, &bio_destroy);
      }
      return m;
    }();
    return method;
  }

  // ---- Attempts: one OpenSSL call each, retried after the socket is ready.

  // `call(ssl, bytes)` returns OpenSSL's result: > 0 success, otherwise see SSL_get_error.
  template <class Call>
  Step call_ssl(Call&& call) {
    Step step;
    if (!socket_.is_open()) {
      step.ec = closed_error();
      return step;
    }
    ERR_clear_error();
    bio_.last_errno = 0;
    std::size_t bytes = 0;
    const int result = call(ssl_, bytes);
    if (result > 0) {
      step.bytes = bytes;
      return step;
    }
    const int error = SSL_get_error(ssl_, result);
    switch (error) {
      case SSL_ERROR_WANT_READ:
        step.kind = Step::Kind::kWantRead;
        return step;
      case SSL_ERROR_WANT_WRITE:
        step.kind = Step::Kind::kWantWrite;
        return step;
      case SSL_ERROR_ZERO_RETURN:  // the peer's close_notify
        step.ec = boost::asio::error::eof;
        break;
      case SSL_ERROR_SYSCALL:
        if (bio_.last_errno != 0) {
          step.ec = error_code(bio_.last_errno, boost::asio::error::get_system_category());
        } else if (const unsigned long queued = ERR_get_error(); queued != 0) {
          step.ec = error_code(static_cast<int>(queued), boost::asio::error::get_ssl_category());
        } else {
          step.ec = boost::asio::ssl::error::stream_truncated;  // TCP EOF without close_notify
        }
        break;
      default: {
        const unsigned long queued = ERR_get_error();
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
        if (ERR_GET_REASON(queued) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
          step.ec = boost::asio::ssl::error::stream_truncated;
          break;
        }
#endif
        step.ec = error_code(static_cast<int>(queued != 0 ? queued : ERR_R_INTERNAL_ERROR),
                             boost::asio::error::get_ssl_category());
        break;
      }
    }
    ERR_clear_error();  // the queue is per thread: leave nothing for the next connection
    if (timed_out_) step.ec = boost::beast::error::timeout;
    return step;
  }

  struct HandshakeAttempt {
    Step operator()(TlsSocketStream& stream) const {
      return stream.call_ssl([](SSL* ssl, std::size_t&) { return SSL_do_handshake(ssl); });
    }
  };

  template <class MutableBuffers>
  struct ReadAttempt {
    MutableBuffers buffers;
    Step operator()(TlsSocketStream& stream) const {
      boost::asio::mutable_buffer target;
      for (auto it = boost::asio::buffer_sequence_begin(buffers);
           it != boost::asio::buffer_sequence_end(buffers); ++it) {
        boost::asio::mutable_buffer buffer(*it);
        if (buffer.size() != 0) {
          target = buffer;
          break;
        }
      }
      if (target.size() == 0) return Step{};
      return stream.call_ssl([&](SSL* ssl, std::size_t& bytes) {
        return SSL_read_ex(ssl, target.data(), target.size(), &bytes);
      });
    }
  };

  // TLS records hold at most 16 KiB of plaintext.
  static constexpr std::size_t kMaxRecordBytes = 16384;

  template <class ConstBuffers>
  struct WriteAttempt {
    ConstBuffers buffers;
    Step operator()(TlsSocketStream& stream) const {
      const std::size_t total = boost::asio::buffer_size(buffers);
      if (total == 0) return Step{};
      boost::asio::const_buffer first;
      for (auto it = boost::asio::buffer_sequence_begin(buffers);
           it != boost::asio::buffer_sequence_end(buffers); ++it) {
        boost::asio::const_buffer buffer(*it);
        if (buffer.size() != 0) {
          first = buffer;
          break;
        }
      }
      if (first.size() == total || first.size() >= kMaxRecordBytes) {
        return stream.call_ssl([&](SSL* ssl, std::size_t& bytes) {
          return SSL_write_ex(ssl, first.data(), first.size(), &bytes);
        });
      }
      // A WebSocket frame header and its payload (or HTTP headers and body) arrive as separate
      // buffers: gather them on the stack into one record instead of one record each. A retry
      // after WANT_WRITE copies the same bytes again (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER).
      std::array<unsigned char, kMaxRecordBytes> staging;
      const std::size_t size = boost::asio::buffer_copy(boost::asio::buffer(staging), buffers);
      return stream.call_ssl([&](SSL* ssl, std::size_t& bytes) {
        return SSL_write_ex(ssl, staging.data(), size, &bytes);
      });
    }
  };

  struct ShutdownAttempt {
    bool close_after = false;
    Step operator()(TlsSocketStream& stream) const {
      if (!SSL_is_init_finished(stream.ssl_)) return Step{};  // nothing to close at TLS level
      Step step = stream.call_ssl([](SSL* ssl, std::size_t&) {
        int result = SSL_shutdown(ssl);               // sends close_notify: 0 when sent
        if (result == 0) result = SSL_shutdown(ssl);  // then reads the peer's: 1 when received
        return result;
      });
      // The peer closing the TCP connection instead of answering also ends the shutdown.
      if (step.ec == boost::asio::ssl::error::stream_truncated) step.ec = boost::asio::error::eof;
      return step;
    }
    void finish(TlsSocketStream& stream) const {
      if (!close_after) return;
      error_code ignored;
      stream.socket_.shutdown(socket_type::shutdown_both, ignored);
      stream.close();
    }
  };

  template <class Attempt>
  static auto finish_hook(const Attempt& attempt, TlsSocketStream& stream, int)
      -> decltype(attempt.finish(stream)) {
    attempt.finish(stream);
  }
  template <class Attempt>
  static void finish_hook(const Attempt&, TlsSocketStream&, long) {}

  // The composed operation: try, wait for the socket if OpenSSL asks, try again. A result on the
  // first try is posted, so a handler never runs inside the initiating call.
  template <class Attempt, bool kWithBytes>
  class Op {
   public:
    Op(TlsSocketStream& stream, Attempt attempt, Direction direction)
        : stream_(stream), attempt_(std::move(attempt)), direction_(direction) {}

    template <class Self>
    void operator()(Self& self, error_code wait_error = {}) {
      if (state_ == State::kPosted) {
        complete(self);
        return;
      }
      if (state_ == State::kWaiting) {
        if (crossed_) {
          --stream_.cross_waiters_;
          crossed_ = false;
        }
        if (wait_error && !stream_.poked(poke_mark_, wait_error)) {
          result_ = stream_.timed_out_ ? error_code(boost::beast::error::timeout) : wait_error;
          bytes_ = 0;
          finish_hook(attempt_, stream_, 0);
          complete(self);
          return;
        }
      }
      Step step = attempt_(stream_);
      if (step.kind == Step::Kind::kFinished) {
        stream_.poke_cross_waiters();  // a crossed waiter may need what this one just did
        result_ = step.ec;
        bytes_ = step.bytes;
        finish_hook(attempt_, stream_, 0);
        if (state_ == State::kStart) {
          state_ = State::kPosted;
          auto executor = stream_.socket_.get_executor();
          boost::asio::post(executor, std::move(self));
          return;
        }
        complete(self);
        return;
      }
      const bool want_read = step.kind == Step::Kind::kWantRead;
      crossed_ = (direction_ == Direction::kRead && !want_read) ||
                 (direction_ == Direction::kWrite && want_read);
      if (crossed_) ++stream_.cross_waiters_;
      poke_mark_ = stream_.pokes_;
      state_ = State::kWaiting;
      stream_.socket_.async_wait(want_read ? socket_type::wait_read : socket_type::wait_write,
                                 std::move(self));
    }

   private:
    enum class State { kStart, kWaiting, kPosted };

    template <class Self>
    void complete(Self& self) {
      const error_code ec = result_;
      if constexpr (kWithBytes) {
        self.complete(ec, bytes_);
      } else {
        self.complete(ec);
      }
    }

    TlsSocketStream& stream_;
    Attempt attempt_;
    Direction direction_;
    State state_ = State::kStart;
    bool crossed_ = false;
    std::uint64_t poke_mark_ = 0;
    error_code result_;
    std::size_t bytes_ = 0;
  };

  // True when a wait ended only because another operation poked: the socket is fine, retry.
  bool poked(std::uint64_t mark, const error_code& ec) const {
    return ec == boost::asio::error::operation_aborted && pokes_ != mark && socket_.is_open() &&
           !timed_out_;
  }

  void poke_cross_waiters() {
    if (cross_waiters_ == 0 || !socket_.is_open()) return;
    ++pokes_;
    error_code ignored;
    socket_.cancel(ignored);
  }

  error_code closed_error() const {
    return timed_out_ ? error_code(boost::beast::error::timeout)
                      : error_code(boost::asio::error::operation_aborted);
  }

  void time_out() {
    timed_out_ = true;
    error_code ignored;
    socket_.close(ignored);
  }

  void cancel_deadline() {
    if (!deadline_) return;
    deadline_->owner = nullptr;
    deadline_->timer.cancel();
    deadline_.reset();
  }

  socket_type socket_;
  BioState bio_;
  SSL* ssl_ = nullptr;
  std::shared_ptr<Deadline> deadline_;
  std::uint64_t pokes_ = 0;
  int cross_waiters_ = 0;
  bool timed_out_ = false;
};

// ---- Beast customization points, found by argument-dependent lookup.

// WebSocket timeouts close the lowest layer, which is this stream.
inline void beast_close_socket(TlsSocketStream& stream) {
  stream.close();
}

// After the closing handshake: TLS close_notify, then the TCP connection.
inline void teardown(boost::beast::role_type /*role*/, TlsSocketStream& stream,
                     boost::system::error_code& ec) {
  stream.shutdown_now();
  ec = {};
}

template <class TeardownHandler>
void async_teardown(boost::beast::role_type /*role*/, TlsSocketStream& stream,
                    TeardownHandler&& handler) {
  stream.async_shutdown(std::forward<TeardownHandler>(handler), /*close_after=*/true);
}

}  // namespace parley::gateway
