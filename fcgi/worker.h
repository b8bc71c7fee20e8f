// A worker process: accepts one FastCGI connection at a time on the shared listening socket,
// turns it into a plain Request, dispatches it, writes the Response. This file and
// fcgi/fcgi_io.cc are the only code that knows libfcgi.
//
// Lifecycle: it exits 0 when told to stop (SIGTERM: finish the current request first) or when
// its master is gone, and kExitRecycle after server.max_requests requests or above
// server.max_memory_mb. On SIGUSR2 (the master's hard-timeout signal) it answers the stuck
// request with a 504 problem+json, if nothing was written yet, and exits at once.
#pragma once

#include "core/config.h"

namespace scanline {

class Scoreboard;

inline constexpr int kExitRecycle = 3;
inline constexpr int kExitTimeout = 4;

struct WorkerSetup {
  const Config* config = nullptr;
  int listen_fd = -1;
  Scoreboard* scoreboard = nullptr;  // null in single-process mode
  int slot = 0;
  int master_pid = 0;  // 0 in single-process mode
};

// Runs until stopped; returns the process exit status.
int RunWorker(const WorkerSetup& setup);

}  // namespace scanline
