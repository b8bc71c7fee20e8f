// POST /v1/forms/extract and POST /v1/forms/fill.
//
// extract: an image in (raw, multipart `file`, or JSON with base64 `image`); query
//   document_type (required), template_version (a stored version; default the active one or
//   its A/B candidate), engine=rules|llm|auto (default rules), mask=true|false (mask
//   sensitive values in the response; they are never logged). Out: core/forms.h's JSON. The
//   template version used is in the response and the request log.
// fill: a blank form image plus a `profile` field (multipart part or JSON member; a JSON
//   object of known values) or ?profile=<json>; image=true|false (default true) adds the
//   filled PNG as base64. Out: core/form_fill.h's JSON.
#pragma once

#include "handlers/context.h"

namespace scanline {

// Need services.config, services.ocr and services.templates; services.llm may be null.
Response HandleFormsExtract(const Request& request, RequestContext& context);
// Needs services.config and services.ocr.
Response HandleFormsFill(const Request& request, RequestContext& context);

}  // namespace scanline
