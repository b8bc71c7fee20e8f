// One request through the pool's phases, in order, as nginx runs its phases:
//   1. route lookup (404, 405 with Allow)
//   2. access: local-only routes refuse remote peers (403)
//   3. signature: AWS SigV4 (core/sigv4.h) with auth.region, auth.service, auth.max_skew_s,
//      the key looked up in the worker's ApiKeyStore (401)
//   4. replay: the signature is recorded once, in Redis or else PostgreSQL (401; 503 when
//      neither can record it)
//   5. scope: the key holds the route's scope (403)
//   6. quota: the key's requests per minute and per day (429 with Retry-After)
//   7. the handler
// Phases 3-6 run for a route with a scope (when auth.required; always for kAnyScope
// routes), and for any request that carries an Authorization header, open routes included:
// a signature that is sent is checked, never ignored. Unsigned requests to open routes skip
// them.
//
// Any scanline::Error on the way becomes RFC 9457 problem+json; any other exception a
// generic 500 whose details go only to the log. Refusals of phases 3-6 are counted in the
// process's metrics block by code (CountAuthFailure). No FastCGI here: tests call Dispatch
// directly.
#pragma once

#include <string>
#include <string_view>

#include "fcgi/router.h"

namespace scanline {

// Handles `request` and always returns a response; never throws. Sets X-Request-Id and fills
// context.log (endpoint, status, error code, the caller's key id, the auth stage time) and
// context.caller (for signed requests). 401 answers carry `WWW-Authenticate:
// AWS4-HMAC-SHA256`; 429 answers `Retry-After` (seconds); a signature_mismatch carries
// `X-Scanline-Canonical-Request` (our canonical request, newlines as "\n") only when
// auth.debug_signature_header is on.
Response Dispatch(const Router& router, const Request& request, RequestContext& context);

// True for a loopback address or a unix-socket peer (nginx on the same host).
bool IsLocalPeer(std::string_view peer);

// A canonical request made fit for one header line: '\' as "\\", newline as "\n", other
// control and non-ASCII bytes as "\xHH".
std::string EscapeForHeader(std::string_view text);

}  // namespace scanline
