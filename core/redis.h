// A Redis connection owned by one process. Redis holds caches only (templates, results,
// replay markers, rate counters): when it is down these calls throw
// Error(kServiceUnavailable) and callers fall back (to PostgreSQL) or degrade; nothing is
// lost. Connects lazily, reconnects after a pause. Every key gets the configured prefix.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scanline {

class RedisClient {
 public:
  // `address` is "unix:PATH" or "tcp:HOST:PORT"; timeout_ms bounds connect and each command.
  RedisClient(std::string address, int timeout_ms, std::string key_prefix);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // PING. Returns "" when it works, else why not (for /v1/health).
  std::string Check();

  std::optional<std::string> Get(std::string_view key);
  // SET with an expiry in seconds (0: none).
  void Set(std::string_view key, std::string_view value, int ttl_s);
  // SET NX PX: true when the key was absent and is now set.
  bool SetIfAbsent(std::string_view key, std::string_view value, int64_t ttl_ms);
  // INCRBY, setting the expiry when the key is new. Returns the new value.
  int64_t Increment(std::string_view key, int64_t by, int ttl_s);
  // EVAL: runs a Lua `script` on the server in one round trip, with `keys` (each gets the
  // prefix) and `args`. The script must return an array of integers, which is returned.
  // Throws Error(kServiceUnavailable) like every call, also for a script error.
  std::vector<int64_t> EvalIntegers(std::string_view script, const std::vector<std::string>& keys,
                                    const std::vector<std::string>& args);
  // Remaining time to live in milliseconds; -1 without expiry, -2 when absent.
  int64_t TtlMs(std::string_view key);
  void Delete(std::string_view key);

  const std::string& key_prefix() const { return key_prefix_; }

 private:
  struct Impl;
  std::string key_prefix_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace scanline
