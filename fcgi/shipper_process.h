// The pool's log-shipper process: every log.flush_interval_ms it ships the request-log spool
// to PostgreSQL (core/log_shipper.h) and publishes the spool's numbers on the scoreboard.
// On SIGTERM it makes one last pass, so a graceful stop leaves nothing behind that
// PostgreSQL could take.
#pragma once

#include "core/config.h"

namespace scanline {

class Scoreboard;

int RunShipperProcess(const Config& config, Scoreboard& scoreboard, int master_pid);

}  // namespace scanline
