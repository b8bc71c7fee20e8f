// Replay protection: a SigV4 signature is accepted once.
//
// A signed request stays inside the clock-skew window for at most 2 × max_skew seconds (from
// max_skew before its x-amz-date to max_skew after), so a signature needs remembering only
// that long. It is remembered in Redis (SET NX with that expiry: one round trip). When Redis
// cannot be reached, in PostgreSQL (INSERT ... ON CONFLICT DO NOTHING into
// request_signatures, keyed by SHA-256 of the signature). When neither can be reached the
// request is refused with 503: a signature is never accepted unrecorded.
//
// Across a Redis outage: for one window after the last fallback, signatures are recorded in
// both stores (PostgreSQL decides), so a signature accepted during the outage cannot be
// replayed through a Redis that never saw it. The "last fallback" time is shared by the
// workers of a pool when the pool passes an atomic in shared memory (else it is per process,
// and a worker that never fell back does not know). What remains: a signature accepted
// through Redis shortly before Redis became unreachable is unknown to PostgreSQL, so during
// the outage it could be replayed once within its window; closing that would cost a
// PostgreSQL write on every request.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

namespace scanline {

class Database;
class RedisClient;

enum class ReplayStore { kRedis, kPostgres };

class ReplayGuard {
 public:
  // window_s is how long a signature is remembered: 2 × auth.max_skew_s. Nothing is owned;
  // all must outlive the guard. `fallback_until`, when given, is a pool-wide slot in shared
  // memory (unix seconds until which both stores are written, initially 0); without it each
  // process keeps its own.
  ReplayGuard(RedisClient& redis, Database& database, int64_t window_s,
              std::atomic<int64_t>* fallback_until = nullptr);

  // Records `signature` (the hex SigV4 signature) as used at unix time now_s. Returns where
  // it was recorded. Throws Error(kReplayedRequest) when it was recorded before within the
  // window, Error(kServiceUnavailable) when neither Redis nor PostgreSQL can record it.
  ReplayStore AcceptOnce(std::string_view signature, int64_t now_s);

  // Deletes expired rows of request_signatures (up to `limit`); returns how many. Each
  // PostgreSQL insert of AcceptOnce already deletes a few, so this is optional upkeep.
  int64_t PurgeExpired(int64_t now_s, int64_t limit = 10000);

 private:
  bool InsertIntoPostgres(std::string_view signature, int64_t now_s);

  RedisClient& redis_;
  Database& database_;
  int64_t window_s_;
  std::atomic<int64_t> own_fallback_until_{0};
  std::atomic<int64_t>* fallback_until_;  // also write to PostgreSQL until then (unix s)
};

}  // namespace scanline
