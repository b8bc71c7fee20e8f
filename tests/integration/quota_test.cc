// Quotas against a real Redis: per-minute and per-day windows, Retry-After, and letting
// requests through (uncounted) while Redis is away.
#include "core/quota.h"

#include <gtest/gtest.h>

#include <csignal>

#include "core/redis.h"
#include "tests/integration/testbed.h"

namespace scanline::testing {
namespace {

TEST(QuotaTest, RefusesPastThePerMinuteLimitUntilTheMinuteEnds) {
  TempDir dir;
  Redis server(dir.path());
  RedisClient redis(server.address(), 500, "t:");
  QuotaLimits limits{3, 0};
  int64_t now = 1'700'000'000 - 1'700'000'000 % 60 + 15;  // 15 s into a minute
  for (int i = 1; i <= 3; ++i) {
    QuotaDecision d = CountRequest(redis, "KEY1", limits, now);
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.minute_count, i);
  }
  QuotaDecision refused = CountRequest(redis, "KEY1", limits, now + 10);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_s, 35);
  // Another key has its own count; the next minute starts afresh.
  EXPECT_TRUE(CountRequest(redis, "KEY2", limits, now).allowed);
  EXPECT_TRUE(CountRequest(redis, "KEY1", limits, now + 60).allowed);
  // The window's counter expires on its own.
  EXPECT_GT(redis.TtlMs("quota:m:KEY1:" + std::to_string(now / 60)), 60'000);
}

TEST(QuotaTest, RefusesPastTheDailyLimit) {
  TempDir dir;
  Redis server(dir.path());
  RedisClient redis(server.address(), 500, "t:");
  QuotaLimits limits{0, 2};
  int64_t now = 1'700'000'000;
  EXPECT_TRUE(CountRequest(redis, "K", limits, now).allowed);
  EXPECT_TRUE(CountRequest(redis, "K", limits, now + 100).allowed);
  QuotaDecision d = CountRequest(redis, "K", limits, now + 200);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_s, 86400 - (now + 200) % 86400);
}

TEST(QuotaTest, LetsRequestsThroughUncountedWhileRedisIsDown) {
  TempDir dir;
  Redis server(dir.path());
  RedisClient redis(server.address(), 200, "t:");
  server.Stop();
  QuotaDecision d = CountRequest(redis, "K", QuotaLimits{1, 1}, 1'700'000'000);
  EXPECT_TRUE(d.allowed);
  EXPECT_FALSE(d.counted);
}

// A restarted Redis: the client's connection to the old server is closed, and the next
// request is counted by the new one at once, not refused a connection and let through
// uncounted for the reconnect pause.
TEST(QuotaTest, CountsAtOnceOnARestartedRedis) {
  std::signal(SIGPIPE, SIG_IGN);  // as in the pool: a write to a closed socket is an error
  TempDir dir;
  Redis server(dir.path());
  RedisClient redis(server.address(), 500, "t:");
  const int64_t now = 1'700'000'000;
  EXPECT_TRUE(CountRequest(redis, "K", QuotaLimits{10, 0}, now).counted);
  server.Stop();
  server.Start();
  const QuotaDecision d = CountRequest(redis, "K", QuotaLimits{10, 0}, now);
  EXPECT_TRUE(d.counted);
  EXPECT_EQ(d.minute_count, 1);  // the new server's count (nothing was saved)
  EXPECT_TRUE(redis.Check().empty()) << redis.Check();
}

}  // namespace
}  // namespace scanline::testing
