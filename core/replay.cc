// Replay protection in Redis with a PostgreSQL fallback (see core/replay.h).
#include "core/replay.h"

#include <string>

#include "core/crypto.h"
#include "core/database.h"
#include "core/detail/pg.h"
#include "core/error.h"
#include "core/redis.h"

namespace scanline {
namespace {

// Each insert also deletes up to this many expired rows, so the table stays about one window
// of fallback traffic without a separate cleaner.
constexpr int kPurgePerInsert = 100;

[[noreturn]] void Replayed() {
  throw Error(ErrorCode::kReplayedRequest,
              "this signature was used before: sign each request anew");
}

}  // namespace

ReplayGuard::ReplayGuard(RedisClient& redis, Database& database, int64_t window_s,
                         std::atomic<int64_t>* fallback_until)
    : redis_(redis),
      database_(database),
      window_s_(window_s),
      fallback_until_(fallback_until ? fallback_until : &own_fallback_until_) {}

ReplayStore ReplayGuard::AcceptOnce(std::string_view signature, int64_t now_s) {
  std::string key = "replay:" + std::string(signature);
  bool redis_recorded = false;
  std::string redis_error;
  try {
    redis_recorded = redis_.SetIfAbsent(key, "1", window_s_ * 1000);
    if (!redis_recorded) Replayed();
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kServiceUnavailable) throw;
    redis_error = e.internal();
  }

  if (redis_recorded && now_s >= fallback_until_->load(std::memory_order_relaxed)) {
    return ReplayStore::kRedis;
  }
  if (!redis_recorded) {
    // Redis is away: from now on, and for a window after, PostgreSQL decides.
    int64_t until = now_s + window_s_;
    int64_t seen = fallback_until_->load(std::memory_order_relaxed);
    while (seen < until &&
           !fallback_until_->compare_exchange_weak(seen, until, std::memory_order_relaxed)) {
    }
  }
  bool inserted = false;
  try {
    inserted = InsertIntoPostgres(signature, now_s);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kServiceUnavailable) throw;
    throw Error(ErrorCode::kServiceUnavailable,
                "replay protection is unavailable; retry with a new signature",
                (redis_recorded ? std::string("redis ok but inside the fallback window; ")
                                : "redis: " + redis_error + "; ") +
                    e.internal());
  }
  if (!inserted) Replayed();
  return redis_recorded ? ReplayStore::kRedis : ReplayStore::kPostgres;
}

bool ReplayGuard::InsertIntoPostgres(std::string_view signature, int64_t now_s) {
  std::string hash = LowerHex(Sha256(signature));
  try {
    return WithConnection(database_, [&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      pqxx::result r = tx.exec_params(
          "WITH purged AS (DELETE FROM request_signatures WHERE signature_hash IN ("
          "SELECT signature_hash FROM request_signatures WHERE expires_at < to_timestamp($3) "
          "LIMIT $4)) "
          "INSERT INTO request_signatures (signature_hash, expires_at) "
          "VALUES (decode($1, 'hex'), to_timestamp($2)) "
          "ON CONFLICT (signature_hash) DO NOTHING RETURNING 1",
          hash, now_s + window_s_, now_s, kPurgePerInsert);
      return !r.empty();
    });
  } catch (const pqxx::sql_error& e) {
    throw Error(ErrorCode::kInternal, "internal error",
                std::string("request_signatures: ") + e.what() + " [" + e.sqlstate() + "]");
  }
}

int64_t ReplayGuard::PurgeExpired(int64_t now_s, int64_t limit) {
  try {
    return WithConnection(database_, [&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      pqxx::result r = tx.exec_params(
          "DELETE FROM request_signatures WHERE signature_hash IN ("
          "SELECT signature_hash FROM request_signatures WHERE expires_at < to_timestamp($1) "
          "LIMIT $2)",
          now_s, limit);
      return static_cast<int64_t>(r.affected_rows());
    });
  } catch (const pqxx::sql_error& e) {
    throw Error(ErrorCode::kInternal, "internal error",
                std::string("request_signatures purge: ") + e.what() + " [" + e.sqlstate() + "]");
  }
}

}  // namespace scanline
