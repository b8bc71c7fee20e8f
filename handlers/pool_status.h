// GET /status (JSON, like PHP-FPM's status page) and GET /metrics (Prometheus text format
// 0.0.4). Both describe the whole pool, read from the scoreboard; local addresses only.
#pragma once

#include "handlers/context.h"

namespace scanline {

Response HandleStatus(const Request& request, RequestContext& context);
Response HandleMetrics(const Request& request, RequestContext& context);

}  // namespace scanline
