// Log-shipper process (see fcgi/shipper_process.h).
#include "fcgi/shipper_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>

#include "core/database.h"
#include "core/log.h"
#include "core/log_shipper.h"
#include "fcgi/scoreboard.h"

namespace scanline {
namespace {

volatile sig_atomic_t g_stop = 0;
int g_wake = -1;

void OnStop(int) {
  g_stop = 1;
  uint64_t one = 1;
  ssize_t ignored = write(g_wake, &one, sizeof one);
  (void)ignored;
}

}  // namespace

int RunShipperProcess(const Config& config, Scoreboard& scoreboard, int master_pid) {
  g_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  struct sigaction sa {};
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sa.sa_handler = OnStop;
  sigaction(SIGTERM, &sa, nullptr);
  sa.sa_handler = SIG_IGN;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  sigaction(SIGPIPE, &sa, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  Database database(config.postgres.conninfo, config.postgres.connect_timeout_s);
  LogShipper shipper(config.log.spool_dir, database, config.log.batch_rows);
  ScoreboardHeader& header = scoreboard.header();
  header.spool_limit_bytes.store(config.log.spool_max_bytes);

  int warned_percent = 0;
  auto last_failure_log = std::chrono::steady_clock::time_point{};
  bool was_failing = false;
  while (true) {
    bool stopping = g_stop;
    uint64_t failures_before = shipper.stats().failures;
    shipper.RunOnce();
    const ShipperStats& stats = shipper.stats();
    header.spool_bytes.store(stats.pending_bytes);
    header.log_rows_shipped.store(stats.rows_shipped);
    header.log_ship_failures.store(stats.failures);

    auto now = std::chrono::steady_clock::now();
    if (stats.failures > failures_before) {
      if (!was_failing || now - last_failure_log > std::chrono::seconds(30)) {
        LogError("request log: cannot write to PostgreSQL (" + shipper.last_error() +
                 "); keeping " + std::to_string(stats.pending_bytes) +
                 " bytes in the spool until it is back");
        last_failure_log = now;
      }
      was_failing = true;
    } else if (was_failing) {
      LogInfo("request log: PostgreSQL is back; spool drained to " +
              std::to_string(stats.pending_bytes) + " bytes");
      was_failing = false;
    }
    int percent = static_cast<int>(100 * stats.pending_bytes / config.log.spool_max_bytes);
    for (int mark : {50, 80, 95, 100}) {
      if (percent >= mark && warned_percent < mark) {
        LogError("request log spool is " + std::to_string(percent) + "% full (" +
                 std::to_string(stats.pending_bytes) + " of " +
                 std::to_string(config.log.spool_max_bytes) +
                 " bytes); at 100% logged requests are refused with 503");
        warned_percent = mark;
      }
    }
    if (percent < 50) warned_percent = 0;

    if (stopping) break;
    if (getppid() != master_pid) {
      LogWarning("master is gone; shipping once more and exiting");
      shipper.RunOnce();
      break;
    }
    pollfd pfd{g_wake, POLLIN, 0};
    poll(&pfd, 1, config.log.flush_interval_ms);
  }
  return 0;
}

}  // namespace scanline
