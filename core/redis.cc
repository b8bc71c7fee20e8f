// hiredis adapter (see core/redis.h). One blocking connection per process with a command
// timeout: workers are single-threaded and a cache call must never hang a request.
#include "core/redis.h"

#include <hiredis/hiredis.h>
#include <poll.h>

#include <vector>

#include "core/error.h"

namespace scanline {
namespace {

constexpr std::chrono::milliseconds kReconnectPause{500};

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

[[noreturn]] void Unavailable(const std::string& why) {
  throw Error(ErrorCode::kServiceUnavailable, "the cache is unavailable", "redis: " + why);
}

// An idle connection to Redis has nothing to read: the server only answers commands. When it
// is readable, or hung up, before a command is sent, the server closed it (Redis restarted, or
// dropped an idle client): the caller reconnects instead of failing a command on it and then
// waiting out the reconnect pause while the server is already back.
bool ServerHasClosed(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  return poll(&p, 1, 0) != 0;
}

}  // namespace

struct RedisClient::Impl {
  std::string address;
  timeval timeout{};
  std::unique_ptr<redisContext, ContextDeleter> context;
  std::chrono::steady_clock::time_point retry_after{};

  redisContext& Connect() {
    if (context && !ServerHasClosed(context->fd)) return *context;
    context.reset();
    auto now = std::chrono::steady_clock::now();
    if (now < retry_after) Unavailable("waiting before the next reconnect");
    redisContext* c = nullptr;
    if (address.starts_with("unix:")) {
      c = redisConnectUnixWithTimeout(address.substr(5).c_str(), timeout);
    } else {
      std::string hostport = address.substr(4);
      size_t colon = hostport.rfind(':');
      c = redisConnectWithTimeout(hostport.substr(0, colon).c_str(),
                                  std::stoi(hostport.substr(colon + 1)), timeout);
    }
    if (!c || c->err) {
      std::string why = c ? c->errstr : "cannot allocate a context";
      if (c) redisFree(c);
      retry_after = now + kReconnectPause;
      Unavailable("connect " + address + ": " + why);
    }
    redisSetTimeout(c, timeout);
    context.reset(c);
    return *c;
  }

  // Runs one command given as separate arguments (binary safe). A failed connection is
  // dropped so the next call reconnects.
  ReplyPtr Command(const std::vector<std::string_view>& args) {
    redisContext& c = Connect();
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (std::string_view a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(&c, static_cast<int>(args.size()), argv.data(), lens.data()));
    if (!reply) {
      std::string why = c.errstr;
      context.reset();
      retry_after = std::chrono::steady_clock::now() + kReconnectPause;
      Unavailable(why);
    }
    ReplyPtr owned(reply);
    if (reply->type == REDIS_REPLY_ERROR) {
      // A server-side error (wrong type, OOM, read-only replica): not a connectivity problem,
      // but the cache cannot serve this call either.
      Unavailable(std::string("error reply: ") + std::string(reply->str, reply->len));
    }
    return owned;
  }
};

RedisClient::RedisClient(std::string address, int timeout_ms, std::string key_prefix)
    : key_prefix_(std::move(key_prefix)), impl_(std::make_unique<Impl>()) {
  impl_->address = std::move(address);
  impl_->timeout.tv_sec = timeout_ms / 1000;
  impl_->timeout.tv_usec = static_cast<suseconds_t>(timeout_ms % 1000) * 1000;
}

RedisClient::~RedisClient() = default;

std::string RedisClient::Check() {
  try {
    ReplyPtr reply = impl_->Command({"PING"});
    return {};
  } catch (const Error& e) {
    return e.internal();
  }
}

std::optional<std::string> RedisClient::Get(std::string_view key) {
  std::string k = key_prefix_ + std::string(key);
  ReplyPtr reply = impl_->Command({"GET", k});
  if (reply->type == REDIS_REPLY_NIL) return std::nullopt;
  return std::string(reply->str, reply->len);
}

void RedisClient::Set(std::string_view key, std::string_view value, int ttl_s) {
  std::string k = key_prefix_ + std::string(key);
  if (ttl_s > 0) {
    std::string ttl = std::to_string(ttl_s);
    impl_->Command({"SET", k, value, "EX", ttl});
  } else {
    impl_->Command({"SET", k, value});
  }
}

bool RedisClient::SetIfAbsent(std::string_view key, std::string_view value, int64_t ttl_ms) {
  std::string k = key_prefix_ + std::string(key);
  std::string ttl = std::to_string(ttl_ms);
  ReplyPtr reply = impl_->Command({"SET", k, value, "NX", "PX", ttl});
  return reply->type == REDIS_REPLY_STATUS;  // "OK"; nil when the key existed
}

int64_t RedisClient::Increment(std::string_view key, int64_t by, int ttl_s) {
  std::string k = key_prefix_ + std::string(key);
  std::string amount = std::to_string(by);
  ReplyPtr reply = impl_->Command({"INCRBY", k, amount});
  int64_t value = reply->integer;
  if (value == by && ttl_s > 0) {
    std::string ttl = std::to_string(ttl_s);
    impl_->Command({"EXPIRE", k, ttl});
  }
  return value;
}

std::vector<int64_t> RedisClient::EvalIntegers(std::string_view script,
                                               const std::vector<std::string>& keys,
                                               const std::vector<std::string>& args) {
  std::vector<std::string> prefixed;
  prefixed.reserve(keys.size());
  for (const std::string& k : keys) prefixed.push_back(key_prefix_ + k);
  std::string key_count = std::to_string(keys.size());
  std::vector<std::string_view> argv = {"EVAL", script, key_count};
  for (const std::string& k : prefixed) argv.push_back(k);
  for (const std::string& a : args) argv.push_back(a);
  ReplyPtr reply = impl_->Command(argv);
  if (reply->type != REDIS_REPLY_ARRAY) Unavailable("EVAL did not return an array");
  std::vector<int64_t> out;
  out.reserve(reply->elements);
  for (size_t i = 0; i < reply->elements; ++i) {
    const redisReply* element = reply->element[i];
    if (element->type != REDIS_REPLY_INTEGER) Unavailable("EVAL returned a non-integer");
    out.push_back(element->integer);
  }
  return out;
}

int64_t RedisClient::TtlMs(std::string_view key) {
  std::string k = key_prefix_ + std::string(key);
  ReplyPtr reply = impl_->Command({"PTTL", k});
  return reply->integer;
}

void RedisClient::Delete(std::string_view key) {
  std::string k = key_prefix_ + std::string(key);
  impl_->Command({"DEL", k});
}

}  // namespace scanline
