// GET /v1/whoami: who the signature says the caller is — key id, name, scopes — and how much
// of its quota is left after this request. Needs a valid signature of any key, no scope: a
// client checks its signer and credentials here before calling a recognition endpoint.
// POST /v1/whoami answers the same plus the size and SHA-256 of the body received, to check
// a signer's handling of bodies; the body is not kept.
#pragma once

#include "handlers/context.h"

namespace scanline {

Response HandleWhoami(const Request& request, RequestContext& context);

}  // namespace scanline
