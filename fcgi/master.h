// The pool's master process: owns the listening socket and the scoreboard, forks workers,
// and otherwise sleeps until a signal or its one-second tick.
//
// Signals (taken through a signalfd, so handlers never run inside the loop's work):
//   SIGCHLD  reap; respawn a worker that died, with a back-off when they crash in a loop
//   SIGHUP   reload: re-read the config; start a new generation of workers; once they are
//            ready, ask the old ones to finish their request and exit. No request dropped.
//   SIGTERM, SIGINT  graceful stop: workers finish their request (up to
//            server.graceful_timeout_s), then the master exits 0
//   SIGQUIT  immediate stop
// Each tick it kills workers stuck past server.request_timeout_s (SIGUSR2, then SIGKILL),
// measures the listen queue, and tells systemd its status and that it is alive (sd_notify
// READY, RELOADING, STOPPING, STATUS, WATCHDOG); without systemd those calls do nothing.
#pragma once

#include <string>

#include "core/config.h"

namespace scanline {

// Runs the pool until stopped. `config_path` is re-read on SIGHUP. Returns the exit status.
int RunMaster(const std::string& config_path, Config config);

// Runs one worker in this process, with no master (for debugging, like nginx's
// `master_process off`).
int RunSingleProcess(const Config& config);

}  // namespace scanline
