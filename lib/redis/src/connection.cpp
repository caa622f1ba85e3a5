// SPDX-License-Identifier: AGPL-3.0-or-later
#include "connection.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include <vector>

namespace parley::redis::detail {
namespace {

// Owns one redisReply: every reply is freed on every path, including early returns.
struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

RedisValue convert(const redisReply& reply) {
  switch (reply.type) {
    case REDIS_REPLY_INTEGER:
      return RedisValue::integer(reply.integer);
    case REDIS_REPLY_STRING:
      return RedisValue::string(std::string(reply.str, reply.len));
    case REDIS_REPLY_STATUS:
      return RedisValue::status(std::string(reply.str, reply.len));
    case REDIS_REPLY_ERROR:
      return RedisValue::error(std::string(reply.str, reply.len));
    case REDIS_REPLY_ARRAY: {
      std::vector<RedisValue> elements;
      elements.reserve(reply.elements);
      for (std::size_t i = 0; i < reply.elements; ++i)
        elements.push_back(convert(*reply.element[i]));
      return RedisValue::array(std::move(elements));
    }
    default:
      return RedisValue::nil();
  }
}

// hiredis writes with write(2), so writing to a node that has closed the connection raises
// SIGPIPE, which kills a process that does not ignore it. A library must not change process-wide
// signal handling, so (as libpq does) SIGPIPE is blocked in this thread around each write and a
// SIGPIPE the write raised is consumed before unblocking; the write itself fails with EPIPE.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &previous_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        timespec zero{};
        sigtimedwait(&pipe_, nullptr, &zero);
      }
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_;
  sigset_t previous_;
  bool was_pending_ = false;
};

// argv as hiredis wants it: pointers and lengths (binary-safe).
struct Argv {
  explicit Argv(const Args& args) {
    pointers.reserve(args.size());
    lengths.reserve(args.size());
    for (const std::string& arg : args) {
      pointers.push_back(arg.data());
      lengths.push_back(arg.size());
    }
  }
  int count() const { return static_cast<int>(pointers.size()); }
  std::vector<const char*> pointers;
  std::vector<std::size_t> lengths;
};

}  // namespace

Result<std::unique_ptr<Connection>> Connection::open(const NodeAddress& node,
                                                     std::chrono::milliseconds connect_timeout,
                                                     std::chrono::milliseconds io_timeout) {
  redisContext* context =
      redisConnectWithTimeout(node.host.c_str(), node.port, to_timeval(connect_timeout));
  if (context == nullptr) {
    return Status::error(ErrorCode::kResourceExhausted, "out of memory connecting to redis");
  }
  if (context->err != 0) {
    redisFree(context);
    return Status::error(ErrorCode::kUnavailable,
                         "cannot connect to redis node " + node.to_string());
  }
  if (io_timeout.count() > 0 && redisSetTimeout(context, to_timeval(io_timeout)) != REDIS_OK) {
    redisFree(context);
    return Status::error(ErrorCode::kUnavailable,
                         "cannot set a timeout on redis node " + node.to_string());
  }
  return std::unique_ptr<Connection>(new Connection(node, context));
}

Connection::Connection(NodeAddress node, redisContext* context)
    : node_(std::move(node)), context_(context) {}

Connection::~Connection() {
  redisFree(context_);
}

int Connection::fd() const {
  return context_->fd;
}

Status Connection::transport_error(std::string_view what) {
  broken_ = true;
  // hiredis reports a read timeout as an I/O error with EAGAIN.
  bool timeout = context_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
  return Status::error(timeout ? ErrorCode::kTimeout : ErrorCode::kUnavailable,
                       std::string(what) + " redis node " + node_.to_string() +
                           (timeout ? " timed out" : " failed"));
}

Result<RedisValue> Connection::read_reply() {
  if (broken_) return Status::error(ErrorCode::kUnavailable, "connection to redis is broken");
  void* raw = nullptr;
  if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) {
    return transport_error("reading from");
  }
  ReplyPtr reply(static_cast<redisReply*>(raw));
  return convert(*reply);
}

Result<RedisValue> Connection::call(const Args& argv) {
  if (broken_) return Status::error(ErrorCode::kUnavailable, "connection to redis is broken");
  Argv a(argv);
  SigpipeGuard guard;
  void* raw = redisCommandArgv(context_, a.count(), a.pointers.data(), a.lengths.data());
  if (raw == nullptr) return transport_error("calling");
  ReplyPtr reply(static_cast<redisReply*>(raw));
  return convert(*reply);
}

Result<RedisValue> Connection::call_asking(const Args& argv) {
  if (broken_) return Status::error(ErrorCode::kUnavailable, "connection to redis is broken");
  append({"ASKING"});
  append(argv);
  SigpipeGuard guard;  // the first read flushes both commands
  PARLEY_ASSIGN_OR_RETURN(RedisValue asking, read_reply());
  PARLEY_ASSIGN_OR_RETURN(RedisValue reply, read_reply());
  if (asking.is_error()) return asking;
  return reply;
}

void Connection::append(const Args& argv) {
  Argv a(argv);
  if (redisAppendCommandArgv(context_, a.count(), a.pointers.data(), a.lengths.data()) !=
      REDIS_OK) {
    broken_ = true;
  }
}

Status Connection::flush() {
  if (broken_) return Status::error(ErrorCode::kUnavailable, "connection to redis is broken");
  SigpipeGuard guard;
  int done = 0;
  while (done == 0) {
    if (redisBufferWrite(context_, &done) != REDIS_OK) return transport_error("writing to");
  }
  return Status();
}

Status Connection::read_available() {
  if (broken_) return Status::error(ErrorCode::kUnavailable, "connection to redis is broken");
  if (redisBufferRead(context_) != REDIS_OK) return transport_error("reading from");
  return Status();
}

Result<std::optional<RedisValue>> Connection::next_buffered_reply() {
  void* raw = nullptr;
  if (redisGetReplyFromReader(context_, &raw) != REDIS_OK) {
    broken_ = true;
    return Status::error(ErrorCode::kMalformedInput,
                         "malformed reply from redis node " + node_.to_string());
  }
  if (raw == nullptr) return std::optional<RedisValue>();
  ReplyPtr reply(static_cast<redisReply*>(raw));
  return std::optional<RedisValue>(convert(*reply));
}

}  // namespace parley::redis::detail
