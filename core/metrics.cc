// Metrics recording and Prometheus rendering (see core/metrics.h).
#include "core/metrics.h"

#include <array>
#include <cstdio>
#include <sstream>

namespace scanline {
namespace {

constexpr std::array<std::string_view, kMetricEndpoints> kEndpoints = {
    "/v1/health", "/v1/ocr",  "/v1/lpr",    "/v1/forms/extract", "/v1/forms/fill", "/v1/templates",
    "/status",    "/metrics", "/v1/whoami", "unmatched",         "other"};
constexpr std::array<int, kMetricStatuses> kStatuses = {200, 201, 204, 304, 400, 401, 403, 404,
                                                        405, 409, 413, 415, 422, 429, 499, 500,
                                                        502, 503, 504, 0,   0,   0,   0,   0};
constexpr std::array<double, kLatencyBuckets - 1> kLatencyBounds = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
constexpr std::array<std::string_view, kMetricStages> kStages = {
    "decode", "preprocess", "recognise", "enhance", "detect", "rectify",
    "read",   "extract",    "llm",       "auth",    "other"};
constexpr std::array<std::string_view, kMetricCaches> kCaches = {"template", "api_key", "result",
                                                                 "replay"};

MetricsBlock* g_process_block = nullptr;

int EndpointIndex(std::string_view endpoint) {
  for (int i = 0; i < kMetricEndpoints; ++i) {
    if (kEndpoints[i] == endpoint) return i;
  }
  if (endpoint.starts_with("/v1/templates")) return 5;
  return kMetricEndpoints - 1;
}

int StatusIndex(int status) {
  for (int i = 0; i < kMetricStatuses; ++i) {
    if (kStatuses[i] == status) return i;
  }
  return 19;  // "other"
}

int StageIndex(std::string_view stage) {
  for (int i = 0; i < kMetricStages; ++i) {
    if (kStages[i] == stage) return i;
  }
  return kMetricStages - 1;
}

void Observe(Histogram& h, double seconds) {
  size_t b = 0;
  while (b < kLatencyBounds.size() && seconds > kLatencyBounds[b]) ++b;
  h.buckets[b].fetch_add(1, std::memory_order_relaxed);
  h.count.fetch_add(1, std::memory_order_relaxed);
  h.sum_us.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

std::string FormatDouble(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

void RenderHistogram(std::ostream& out, std::string_view name, std::string_view labels,
                     const std::vector<const Histogram*>& parts) {
  uint64_t cumulative = 0;
  std::string sep = labels.empty() ? "" : ",";
  for (int b = 0; b < kLatencyBuckets; ++b) {
    for (const Histogram* h : parts) cumulative += h->buckets[b].load(std::memory_order_relaxed);
    std::string le = b + 1 < kLatencyBuckets ? FormatDouble(kLatencyBounds[b]) : "+Inf";
    out << name << "_bucket{" << labels << sep << "le=\"" << le << "\"} " << cumulative << "\n";
  }
  uint64_t count = 0, sum_us = 0;
  for (const Histogram* h : parts) {
    count += h->count.load(std::memory_order_relaxed);
    sum_us += h->sum_us.load(std::memory_order_relaxed);
  }
  std::string braces = labels.empty() ? "" : "{" + std::string(labels) + "}";
  out << name << "_sum" << braces << " " << FormatDouble(static_cast<double>(sum_us) / 1e6) << "\n";
  out << name << "_count" << braces << " " << count << "\n";
}

}  // namespace

void RecordRequest(MetricsBlock& block, std::string_view endpoint, int status, double seconds,
                   const std::vector<StageTiming>& stages, std::optional<double> confidence) {
  int e = EndpointIndex(endpoint);
  block.requests[e][StatusIndex(status)].fetch_add(1, std::memory_order_relaxed);
  Observe(block.latency[e], seconds);
  for (const StageTiming& s : stages) Observe(block.stages[StageIndex(s.stage)], s.ms / 1000.0);
  if (confidence) {
    double c = *confidence;
    int b = c <= 0 ? 0 : static_cast<int>((c - 1e-9) / 10.0);
    if (b > kConfidenceBuckets - 1) b = kConfidenceBuckets - 1;
    if (b < 0) b = 0;
    block.confidence[b].fetch_add(1, std::memory_order_relaxed);
    block.confidence_count.fetch_add(1, std::memory_order_relaxed);
    block.confidence_sum.fetch_add(static_cast<uint64_t>(c * 100), std::memory_order_relaxed);
  }
}

void RecordAuthFailure(MetricsBlock& block, ErrorCode code) {
  int i = static_cast<int>(code);
  if (i >= 0 && i < kMetricErrorCodes) {
    block.auth_failures[i].fetch_add(1, std::memory_order_relaxed);
  }
}

void SetProcessMetrics(MetricsBlock* block) { g_process_block = block; }

void CountAuthFailure(ErrorCode code) {
  if (g_process_block) RecordAuthFailure(*g_process_block, code);
}

void CountCacheLookup(CacheKind cache, bool hit) {
  if (!g_process_block) return;
  int i = static_cast<int>(cache);
  (hit ? g_process_block->cache_hits : g_process_block->cache_misses)[i].fetch_add(
      1, std::memory_order_relaxed);
}

std::string RenderPrometheus(const std::vector<const MetricsBlock*>& blocks,
                             const PoolGauges& gauges) {
  std::ostringstream out;
  auto sum = [&](auto get) {
    uint64_t total = 0;
    for (const MetricsBlock* b : blocks) total += get(*b).load(std::memory_order_relaxed);
    return total;
  };

  out << "# HELP scanline_requests_total Requests answered, by endpoint and HTTP status.\n"
         "# TYPE scanline_requests_total counter\n";
  for (int e = 0; e < kMetricEndpoints; ++e) {
    for (int s = 0; s < kMetricStatuses; ++s) {
      if (s > 19) break;
      uint64_t n = sum([&](const MetricsBlock& b) -> auto& { return b.requests[e][s]; });
      if (n == 0) continue;
      std::string status = kStatuses[s] ? std::to_string(kStatuses[s]) : "other";
      out << "scanline_requests_total{endpoint=\"" << kEndpoints[e] << "\",status=\"" << status
          << "\"} " << n << "\n";
    }
  }

  out << "# HELP scanline_request_duration_seconds Time from request start to response, by "
         "endpoint.\n# TYPE scanline_request_duration_seconds histogram\n";
  for (int e = 0; e < kMetricEndpoints; ++e) {
    std::vector<const Histogram*> parts;
    parts.reserve(blocks.size());
    for (const MetricsBlock* b : blocks) parts.push_back(&b->latency[e]);
    if (sum([&](const MetricsBlock& b) -> auto& { return b.latency[e].count; }) == 0) continue;
    RenderHistogram(out, "scanline_request_duration_seconds",
                    "endpoint=\"" + std::string(kEndpoints[e]) + "\"", parts);
  }

  out << "# HELP scanline_stage_duration_seconds Time spent per processing stage.\n"
         "# TYPE scanline_stage_duration_seconds histogram\n";
  for (int s = 0; s < kMetricStages; ++s) {
    std::vector<const Histogram*> parts;
    parts.reserve(blocks.size());
    for (const MetricsBlock* b : blocks) parts.push_back(&b->stages[s]);
    if (sum([&](const MetricsBlock& b) -> auto& { return b.stages[s].count; }) == 0) continue;
    RenderHistogram(out, "scanline_stage_duration_seconds",
                    "stage=\"" + std::string(kStages[s]) + "\"", parts);
  }

  out << "# HELP scanline_recognition_confidence Mean recognition confidence per request "
         "(0-100).\n# TYPE scanline_recognition_confidence histogram\n";
  {
    uint64_t cumulative = 0;
    for (int b = 0; b < kConfidenceBuckets; ++b) {
      cumulative += sum([&](const MetricsBlock& m) -> auto& { return m.confidence[b]; });
      std::string le = b + 1 < kConfidenceBuckets ? std::to_string((b + 1) * 10) : "+Inf";
      out << "scanline_recognition_confidence_bucket{le=\"" << le << "\"} " << cumulative << "\n";
    }
    out << "scanline_recognition_confidence_sum "
        << FormatDouble(static_cast<double>(
                            sum([](const MetricsBlock& m) -> auto& { return m.confidence_sum; })) /
                        100.0)
        << "\n";
    out << "scanline_recognition_confidence_count "
        << sum([](const MetricsBlock& m) -> auto& { return m.confidence_count; }) << "\n";
  }

  out << "# HELP scanline_cache_lookups_total Cache lookups by cache and result.\n"
         "# TYPE scanline_cache_lookups_total counter\n";
  for (int c = 0; c < kMetricCaches; ++c) {
    out << "scanline_cache_lookups_total{cache=\"" << kCaches[c] << "\",result=\"hit\"} "
        << sum([&](const MetricsBlock& m) -> auto& { return m.cache_hits[c]; }) << "\n";
    out << "scanline_cache_lookups_total{cache=\"" << kCaches[c] << "\",result=\"miss\"} "
        << sum([&](const MetricsBlock& m) -> auto& { return m.cache_misses[c]; }) << "\n";
  }

  out << "# HELP scanline_auth_failures_total Refused signatures and scopes, by code.\n"
         "# TYPE scanline_auth_failures_total counter\n";
  for (int i = 0; i < kMetricErrorCodes; ++i) {
    uint64_t n = sum([&](const MetricsBlock& m) -> auto& { return m.auth_failures[i]; });
    if (n == 0) continue;
    out << "scanline_auth_failures_total{code=\"" << CodeName(static_cast<ErrorCode>(i)) << "\"} "
        << n << "\n";
  }

  const PoolStatus& p = gauges.status;
  out << "# HELP scanline_pool_workers Worker processes by state.\n"
         "# TYPE scanline_pool_workers gauge\n"
      << "scanline_pool_workers{state=\"busy\"} " << p.active << "\n"
      << "scanline_pool_workers{state=\"idle\"} " << p.idle << "\n"
      << "scanline_pool_workers{state=\"other\"} " << (p.total - p.active - p.idle) << "\n";
  out << "# HELP scanline_pool_accepted_total Requests accepted by the pool.\n"
         "# TYPE scanline_pool_accepted_total counter\n"
      << "scanline_pool_accepted_total " << p.accepted << "\n";
  out << "# HELP scanline_pool_max_active Most workers busy at once since start.\n"
         "# TYPE scanline_pool_max_active gauge\n"
      << "scanline_pool_max_active " << p.max_active_reached << "\n";
  if (p.listen_queue >= 0) {
    out << "# HELP scanline_pool_listen_queue Connections waiting in the listen backlog.\n"
           "# TYPE scanline_pool_listen_queue gauge\n"
        << "scanline_pool_listen_queue " << p.listen_queue << "\n";
  }
  out << "# HELP scanline_pool_listen_queue_length Size of the listen backlog.\n"
         "# TYPE scanline_pool_listen_queue_length gauge\n"
      << "scanline_pool_listen_queue_length " << p.listen_queue_len << "\n";
  out << "# HELP scanline_pool_slow_requests_total Requests slower than server.slow_request_ms.\n"
         "# TYPE scanline_pool_slow_requests_total counter\n"
      << "scanline_pool_slow_requests_total " << p.slow_requests << "\n";
  out << "# HELP scanline_pool_worker_restarts_total Workers respawned after dying.\n"
         "# TYPE scanline_pool_worker_restarts_total counter\n"
      << "scanline_pool_worker_restarts_total " << p.restarts << "\n";
  out << "# HELP scanline_pool_worker_recycles_total Workers replaced after max_requests or the "
         "memory ceiling.\n# TYPE scanline_pool_worker_recycles_total counter\n"
      << "scanline_pool_worker_recycles_total " << p.recycles << "\n";
  out << "# HELP scanline_pool_worker_timeouts_total Workers killed past the hard request "
         "timeout.\n# TYPE scanline_pool_worker_timeouts_total counter\n"
      << "scanline_pool_worker_timeouts_total " << p.timeouts << "\n";
  out << "# HELP scanline_pool_start_time_seconds Unix time the pool started.\n"
         "# TYPE scanline_pool_start_time_seconds gauge\n"
      << "scanline_pool_start_time_seconds " << p.started_at_us / 1000000 << "\n";
  out << "# HELP scanline_log_spool_bytes Request-log bytes waiting for PostgreSQL.\n"
         "# TYPE scanline_log_spool_bytes gauge\n"
      << "scanline_log_spool_bytes " << gauges.spool_bytes << "\n";
  out << "# HELP scanline_log_spool_limit_bytes Largest the spool may grow.\n"
         "# TYPE scanline_log_spool_limit_bytes gauge\n"
      << "scanline_log_spool_limit_bytes " << gauges.spool_limit_bytes << "\n";
  out << "# HELP scanline_log_rows_shipped_total Request-log rows written to PostgreSQL.\n"
         "# TYPE scanline_log_rows_shipped_total counter\n"
      << "scanline_log_rows_shipped_total " << gauges.log_rows_shipped << "\n";
  out << "# HELP scanline_log_ship_failures_total Failed attempts to write a batch.\n"
         "# TYPE scanline_log_ship_failures_total counter\n"
      << "scanline_log_ship_failures_total " << gauges.log_ship_failures << "\n";
  return out.str();
}

}  // namespace scanline
