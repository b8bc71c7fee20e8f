// Request metrics of one worker process, in a fixed-size plain block that the pool keeps in
// shared memory (one block per scoreboard slot) and sums across slots when /metrics is read,
// so the numbers are the pool's, not one worker's, and survive worker restarts.
//
// Rendering follows the Prometheus text exposition format 0.0.4. Labels come from fixed
// lists (endpoints, statuses, stages, caches, error codes), which keeps the block fixed-size
// and the label cardinality bounded.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/pool_stats.h"
#include "core/request_log.h"

namespace scanline {

inline constexpr int kMetricEndpoints = 11;
inline constexpr int kMetricStatuses = 24;
inline constexpr int kLatencyBuckets = 16;  // the last is +Inf
inline constexpr int kMetricStages = 11;
inline constexpr int kConfidenceBuckets = 11;  // 10, 20, ... 100, +Inf
inline constexpr int kMetricCaches = 4;
inline constexpr int kMetricErrorCodes = 48;

struct Histogram {
  std::atomic<uint64_t> buckets[kLatencyBuckets];  // not cumulative; summed when rendered
  std::atomic<uint64_t> count;
  std::atomic<uint64_t> sum_us;  // microseconds
};

// Zero-initialised memory is a valid empty block.
struct MetricsBlock {
  std::atomic<uint64_t> requests[kMetricEndpoints][kMetricStatuses];
  Histogram latency[kMetricEndpoints];
  Histogram stages[kMetricStages];
  std::atomic<uint64_t> confidence[kConfidenceBuckets];
  std::atomic<uint64_t> confidence_count;
  std::atomic<uint64_t> confidence_sum;  // hundredths of a point
  std::atomic<uint64_t> cache_hits[kMetricCaches];
  std::atomic<uint64_t> cache_misses[kMetricCaches];
  std::atomic<uint64_t> auth_failures[kMetricErrorCodes];
};

enum class CacheKind { kTemplate = 0, kApiKey = 1, kResult = 2, kReplay = 3 };

// Records one finished request: status by endpoint, latency, stage timings, confidence.
void RecordRequest(MetricsBlock& block, std::string_view endpoint, int status, double seconds,
                   const std::vector<StageTiming>& stages, std::optional<double> confidence);
void RecordAuthFailure(MetricsBlock& block, ErrorCode code);

// The block of this process, set once by a worker at start; CountCacheLookup is a no-op
// before that (the CLI has no pool to report to).
void SetProcessMetrics(MetricsBlock* block);
void CountCacheLookup(CacheKind cache, bool hit);
// A request refused by the signature, replay, scope or quota phase, into this process's block.
void CountAuthFailure(ErrorCode code);

// Gauges the pool adds beside the summed blocks.
struct PoolGauges {
  PoolStatus status;
  int64_t spool_bytes = 0;     // request-log records not yet in PostgreSQL
  int64_t spool_records = -1;  // -1 when unknown
  int64_t spool_limit_bytes = 0;
  uint64_t log_rows_shipped = 0;
  uint64_t log_ship_failures = 0;
};

// Prometheus text for the sum of `blocks` plus the pool gauges.
std::string RenderPrometheus(const std::vector<const MetricsBlock*>& blocks,
                             const PoolGauges& gauges);

}  // namespace scanline
