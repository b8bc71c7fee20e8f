// A snapshot of the worker pool, as the scoreboard in shared memory holds it. Plain values:
// the pool fills it, the /status and /metrics handlers render it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace scanline {

enum class WorkerState { kStarting, kIdle, kBusy, kExiting };

struct WorkerStatus {
  int pid = 0;
  int generation = 0;  // bumps on every reload
  WorkerState state = WorkerState::kStarting;
  uint64_t requests = 0;  // served by this process
  int64_t started_at_us = 0;
  std::string current_method;         // while busy
  std::string current_uri;            // while busy
  std::string current_request_id;     // while busy
  int64_t request_started_at_us = 0;  // while busy; unix µs
  double last_duration_ms = 0;
  int64_t rss_bytes = 0;
};

struct PoolStatus {
  int64_t started_at_us = 0;  // pool start, unix µs
  uint64_t accepted = 0;      // requests accepted since start
  int active = 0;             // busy workers
  int idle = 0;
  int total = 0;
  int max_active_reached = 0;  // highest number of busy workers seen at once
  int64_t listen_queue = -1;   // connections waiting in the backlog; -1 when unknown
  int listen_queue_len = 0;    // the backlog size
  uint64_t slow_requests = 0;
  uint64_t restarts = 0;  // workers respawned after dying
  uint64_t recycles = 0;  // workers replaced after max_requests or the memory ceiling
  uint64_t timeouts = 0;  // workers killed past the hard request timeout
  int generation = 0;
  std::vector<WorkerStatus> workers;
};

std::string_view WorkerStateName(WorkerState state);

}  // namespace scanline
