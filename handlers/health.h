// GET /v1/health: version, uptime and one check per dependency (PostgreSQL, Redis, Tesseract
// language data). 200 when every check passes, 503 naming the ones that failed. No auth.
#pragma once

#include "handlers/context.h"

namespace scanline {

Response HandleHealth(const Request& request, RequestContext& context);

}  // namespace scanline
