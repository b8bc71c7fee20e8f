// Quotas (see core/quota.h). Fixed windows: simple, one round trip for both, and exact at the
// window's end, which is what a client reading Retry-After expects.
#include "core/quota.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "core/redis.h"

namespace scanline {

namespace {

// Both windows in one round trip (a request's cost is dominated by round trips to Redis on a
// busy host): count the minute; when it is over its limit stop there (a refused request does
// not use up the day); else count the day. Each counter expires with its window, set when the
// counter is created. Returns {allowed, minute_count, day_count}.
constexpr std::string_view kCountScript = R"lua(
local m, d = 0, 0
if tonumber(ARGV[1]) > 0 then
  m = redis.call('INCR', KEYS[1])
  if m == 1 then redis.call('EXPIRE', KEYS[1], 120) end
  if m > tonumber(ARGV[1]) then return {0, m, 0} end
end
if tonumber(ARGV[2]) > 0 then
  d = redis.call('INCR', KEYS[2])
  if d == 1 then redis.call('EXPIRE', KEYS[2], 90000) end
  if d > tonumber(ARGV[2]) then return {0, m, d} end
end
return {1, m, d}
)lua";

}  // namespace

QuotaDecision CountRequest(RedisClient& redis, const std::string& key_id, const QuotaLimits& limits,
                           int64_t now_s) {
  QuotaDecision d;
  if (limits.per_minute <= 0 && limits.per_day <= 0) return d;
  try {
    std::vector<int64_t> r =
        redis.EvalIntegers(kCountScript,
                           {"quota:m:" + key_id + ":" + std::to_string(now_s / 60),
                            "quota:d:" + key_id + ":" + std::to_string(now_s / 86400)},
                           {std::to_string(std::max<int64_t>(limits.per_minute, 0)),
                            std::to_string(std::max<int64_t>(limits.per_day, 0))});
    if (r.size() != 3) {
      throw Error(ErrorCode::kServiceUnavailable, "the cache is unavailable",
                  "quota script returned " + std::to_string(r.size()) + " values");
    }
    d.allowed = r[0] == 1;
    d.minute_count = r[1];
    d.day_count = r[2];
    if (!d.allowed) {
      bool minute = limits.per_minute > 0 && d.minute_count > limits.per_minute;
      d.retry_after_s = static_cast<int>(minute ? 60 - now_s % 60 : 86400 - now_s % 86400);
    }
  } catch (const Error&) {
    d.allowed = true;
    d.counted = false;
  }
  return d;
}

}  // namespace scanline
