// Per-key request quotas: requests per minute and per day (UTC), counted in Redis with one
// INCR per window and key, the window's key expiring with the window; both windows in one
// round trip (a Lua script). A request refused by the minute is not counted for the day.
//
// Redis holds caches and counters only: when it is down the quota cannot be counted and
// requests are let through (the per-key nginx rate limit still applies); the caller logs it.
#pragma once

#include <cstdint>
#include <string>

namespace scanline {

class RedisClient;

struct QuotaLimits {
  int64_t per_minute = 0;  // 0 = unlimited
  int64_t per_day = 0;     // 0 = unlimited
};

struct QuotaDecision {
  bool allowed = true;
  bool counted = true;       // false when Redis was unavailable
  int retry_after_s = 0;     // when refused: seconds until the window that refused ends
  int64_t minute_count = 0;  // requests counted in the current minute, this one included
  int64_t day_count = 0;
};

// Counts one request of `key_id` at unix time `now_s` and decides. Never throws.
QuotaDecision CountRequest(RedisClient& redis, const std::string& key_id, const QuotaLimits& limits,
                           int64_t now_s);

}  // namespace scanline
