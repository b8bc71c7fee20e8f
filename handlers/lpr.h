// POST /v1/lpr: a photo in (raw body, multipart `file` part, or JSON with base64 `image`;
// see core/request_body.h), every licence plate in it out, as JSON (core/lpr_render.h).
//
// Query options: region (a loaded region code; default lpr.default_region), top_n (1..50,
// default 10), enhance=auto|on|off. A bad value is 400 invalid_option naming the option; an
// image over the limits 413; an undecodable one 422; a photo with no plate 200 with an empty
// `plates` list. Fills the request's log record: image sha256, bytes and size, the best
// plate's confidence, stage timings.
#pragma once

#include "handlers/context.h"

namespace scanline {

// Needs services.config and services.lpr.
Response HandleLpr(const Request& request, RequestContext& context);

}  // namespace scanline
