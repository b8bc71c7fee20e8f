// Quotas (see core/quota.h). Fixed windows: simple, one round trip each, and exact at the
// window's end, which is what a client reading Retry-After expects.
#include "core/quota.h"

#include "core/error.h"
#include "core/redis.h"

namespace scanline {

QuotaDecision CountRequest(RedisClient& redis, const std::string& key_id,
                           const QuotaLimits& limits, int64_t now_s) {
  QuotaDecision d;
  if (limits.per_minute <= 0 && limits.per_day <= 0) return d;
  try {
    if (limits.per_minute > 0) {
      int64_t minute = now_s / 60;
      d.minute_count = redis.Increment("quota:m:" + key_id + ":" + std::to_string(minute), 1, 120);
      if (d.minute_count > limits.per_minute) {
        d.allowed = false;
        d.retry_after_s = static_cast<int>(60 - now_s % 60);
        return d;
      }
    }
    if (limits.per_day > 0) {
      int64_t day = now_s / 86400;
      d.day_count = redis.Increment("quota:d:" + key_id + ":" + std::to_string(day), 1, 90000);
      if (d.day_count > limits.per_day) {
        d.allowed = false;
        d.retry_after_s = static_cast<int>(86400 - now_s % 86400);
      }
    }
  } catch (const Error&) {
    d.allowed = true;
    d.counted = false;
  }
  return d;
}

}  // namespace scanline
