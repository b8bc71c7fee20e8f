// Scoreboard in anonymous shared memory (see fcgi/scoreboard.h).
#include "fcgi/scoreboard.h"

#include <sys/mman.h>

#include <chrono>
#include <cstring>
#include <system_error>

namespace scanline {
namespace {

void CopyField(char* dest, size_t size, std::string_view value) {
  size_t n = std::min(size - 1, value.size());
  std::memcpy(dest, value.data(), n);
  dest[n] = '\0';
}

}  // namespace

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Scoreboard::Scoreboard(int slots) : count_(slots) {
  bytes_ = sizeof(ScoreboardHeader) + sizeof(ScoreboardSlot) * static_cast<size_t>(slots);
  void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
  // Anonymous mappings are zero-filled: every atomic starts at 0, every block is empty.
  header_ = static_cast<ScoreboardHeader*>(p);
  slots_ = reinterpret_cast<ScoreboardSlot*>(static_cast<char*>(p) + sizeof(ScoreboardHeader));
  header_->started_at_us = NowUs();
  header_->listen_queue.store(-1);
}

Scoreboard::~Scoreboard() {
  if (header_) munmap(header_, bytes_);
}

int Scoreboard::Claim(int pid, int generation) {
  for (int i = 0; i < count_; ++i) {
    ScoreboardSlot& s = slots_[i];
    if (s.pid.load() != 0) continue;
    s.generation.store(generation);
    s.state.store(static_cast<int32_t>(WorkerState::kStarting));
    s.requests.store(0);
    s.started_at_us.store(NowUs());
    s.request_started_at_us.store(0);
    s.last_duration_us.store(0);
    s.rss_bytes.store(0);
    s.method[0] = s.uri[0] = s.request_id[0] = '\0';
    s.pid.store(pid);
    return i;
  }
  return -1;
}

void Scoreboard::Release(int index) {
  slots_[index].state.store(static_cast<int32_t>(WorkerState::kExiting));
  slots_[index].pid.store(0);
}

int Scoreboard::Find(int pid) const {
  for (int i = 0; i < count_; ++i) {
    if (slots_[i].pid.load() == pid) return i;
  }
  return -1;
}

void Scoreboard::MarkBusy(int index, std::string_view method, std::string_view uri,
                          std::string_view request_id, int64_t now_us) {
  ScoreboardSlot& s = slots_[index];
  CopyField(s.method, sizeof s.method, method);
  CopyField(s.uri, sizeof s.uri, uri);
  CopyField(s.request_id, sizeof s.request_id, request_id);
  s.request_started_at_us.store(now_us);
  s.state.store(static_cast<int32_t>(WorkerState::kBusy));
  header_->accepted.fetch_add(1, std::memory_order_relaxed);
  int active = 0;
  for (int i = 0; i < count_; ++i) {
    if (slots_[i].pid.load(std::memory_order_relaxed) != 0 &&
        slots_[i].state.load(std::memory_order_relaxed) ==
            static_cast<int32_t>(WorkerState::kBusy)) {
      ++active;
    }
  }
  int32_t seen = header_->max_active.load(std::memory_order_relaxed);
  while (active > seen && !header_->max_active.compare_exchange_weak(seen, active)) {
  }
}

void Scoreboard::MarkIdle(int index, int64_t duration_us, int64_t rss_bytes) {
  ScoreboardSlot& s = slots_[index];
  s.requests.fetch_add(1, std::memory_order_relaxed);
  s.last_duration_us.store(duration_us, std::memory_order_relaxed);
  s.rss_bytes.store(rss_bytes, std::memory_order_relaxed);
  s.state.store(static_cast<int32_t>(WorkerState::kIdle));
}

PoolStatus Scoreboard::Snapshot() const {
  PoolStatus p;
  p.started_at_us = header_->started_at_us;
  p.accepted = header_->accepted.load();
  p.max_active_reached = header_->max_active.load();
  p.listen_queue = header_->listen_queue.load();
  p.listen_queue_len = header_->backlog.load();
  p.slow_requests = header_->slow_requests.load();
  p.restarts = header_->restarts.load();
  p.recycles = header_->recycles.load();
  p.timeouts = header_->timeouts.load();
  p.generation = header_->generation.load();
  for (int i = 0; i < count_; ++i) {
    const ScoreboardSlot& s = slots_[i];
    int pid = s.pid.load();
    if (pid <= 0) continue;  // free, or claimed for a fork not yet done
    WorkerStatus w;
    w.pid = pid;
    w.generation = s.generation.load();
    w.state = static_cast<WorkerState>(s.state.load());
    w.requests = s.requests.load();
    w.started_at_us = s.started_at_us.load();
    w.last_duration_ms = static_cast<double>(s.last_duration_us.load()) / 1000.0;
    w.rss_bytes = s.rss_bytes.load();
    if (w.state == WorkerState::kBusy) {
      w.current_method = s.method;
      w.current_uri = s.uri;
      w.current_request_id = s.request_id;
      w.request_started_at_us = s.request_started_at_us.load();
      ++p.active;
    } else if (w.state == WorkerState::kIdle) {
      ++p.idle;
    }
    ++p.total;
    p.workers.push_back(std::move(w));
  }
  return p;
}

std::string Scoreboard::RenderMetrics() const {
  std::vector<const MetricsBlock*> blocks;
  blocks.reserve(count_);
  for (int i = 0; i < count_; ++i) blocks.push_back(&slots_[i].metrics);
  PoolGauges gauges;
  gauges.status = Snapshot();
  gauges.spool_bytes = header_->spool_bytes.load();
  gauges.spool_limit_bytes = header_->spool_limit_bytes.load();
  gauges.log_rows_shipped = header_->log_rows_shipped.load();
  gauges.log_ship_failures = header_->log_ship_failures.load();
  return RenderPrometheus(blocks, gauges);
}

}  // namespace scanline
