// One request through the pool's phases, in order, as nginx runs its phases:
//   1. route lookup (404, 405 with Allow)
//   2. access: local-only routes refuse remote peers
//   3. signature, replay, scope and quota (routes with a scope, when auth.required)
//   4. the handler
// Any scanline::Error on the way becomes RFC 9457 problem+json; any other exception a
// generic 500 whose details go only to the log. No FastCGI here: tests call Dispatch directly.
#pragma once

#include "fcgi/router.h"

namespace scanline {

// Handles `request` and always returns a response; never throws. Sets X-Request-Id and fills
// context.log (endpoint, status, error code).
Response Dispatch(const Router& router, const Request& request, RequestContext& context);

// True for a loopback address or a unix-socket peer (nginx on the same host).
bool IsLocalPeer(std::string_view peer);

}  // namespace scanline
