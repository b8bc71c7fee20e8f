// The pool's scoreboard: one slot per worker in shared memory, mapped by the master before
// it forks so every worker of every generation sees the same pages.
//
// A worker writes only its own slot; the master writes the header and claims/frees slots.
// Fields are atomics (lock-free on the platforms we build for), strings are fixed arrays
// written before the state flips to busy: a reader may see a slightly stale URI, never a
// torn number. Metrics blocks stay with their slot after a worker exits, so counters
// summed over all slots only grow.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/metrics.h"
#include "core/pool_stats.h"

namespace scanline {

struct ScoreboardHeader {
  int64_t started_at_us;
  std::atomic<uint64_t> accepted;
  std::atomic<int32_t> max_active;
  std::atomic<int64_t> listen_queue;  // -1 = unknown
  std::atomic<int32_t> backlog;
  std::atomic<uint64_t> slow_requests;
  std::atomic<uint64_t> restarts;
  std::atomic<uint64_t> recycles;
  std::atomic<uint64_t> timeouts;
  std::atomic<int32_t> generation;
  // Request-log spool, kept current by the log shipper.
  std::atomic<int64_t> spool_bytes;
  std::atomic<int64_t> spool_limit_bytes;
  std::atomic<uint64_t> log_rows_shipped;
  std::atomic<uint64_t> log_ship_failures;
  // Replay protection: unix seconds until which signatures go to PostgreSQL as well as
  // Redis, shared so every worker knows of a Redis outage one of them saw (core/replay.h).
  std::atomic<int64_t> replay_fallback_until;
};

struct ScoreboardSlot {
  std::atomic<int32_t> pid;  // 0: free
  std::atomic<int32_t> generation;
  std::atomic<int32_t> state;  // WorkerState
  std::atomic<uint64_t> requests;
  std::atomic<int64_t> started_at_us;
  std::atomic<int64_t> request_started_at_us;
  std::atomic<int64_t> last_duration_us;
  std::atomic<int64_t> rss_bytes;
  char method[8];
  char uri[192];
  char request_id[48];
  MetricsBlock metrics;
};

class Scoreboard {
 public:
  // Maps `slots` slots of zeroed shared memory. Throws std::system_error.
  explicit Scoreboard(int slots);
  ~Scoreboard();
  Scoreboard(const Scoreboard&) = delete;
  Scoreboard& operator=(const Scoreboard&) = delete;

  ScoreboardHeader& header() { return *header_; }
  ScoreboardSlot& slot(int i) { return slots_[i]; }
  int slot_count() const { return count_; }

  // Master: a free slot for a new worker (its counters reset, its metrics kept), or -1.
  int Claim(int pid, int generation);
  // Master: the slot of a reaped worker becomes free.
  void Release(int index);
  // The slot holding `pid`, or -1.
  int Find(int pid) const;

  // Worker: mark busy with the current request / idle after it.
  void MarkBusy(int index, std::string_view method, std::string_view uri,
                std::string_view request_id, int64_t now_us);
  void MarkIdle(int index, int64_t duration_us, int64_t rss_bytes);

  PoolStatus Snapshot() const;
  std::string RenderMetrics() const;

 private:
  ScoreboardHeader* header_ = nullptr;
  ScoreboardSlot* slots_ = nullptr;
  int count_ = 0;
  size_t bytes_ = 0;
};

// Current time as unix microseconds.
int64_t NowUs();

}  // namespace scanline
