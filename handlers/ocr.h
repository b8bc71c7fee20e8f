// POST /v1/ocr: an image in (raw body, multipart `file` part, or JSON with base64 `image`;
// see core/request_body.h), its text out, as JSON, hOCR, TSV or plain text.
//
// Query options (core/ocr_options.h): lang, psm, roi=x,y,w,h, preprocess=auto|none|<steps>,
// level=text|lines|words, format=json|hocr|tsv|text, deadline_ms (capped by
// ocr.max_deadline_ms, which is also the default). A bad value is 400 invalid_option naming
// the option; an image over the limits 413; an undecodable one 422; a passed deadline 504.
// Fills the request's log record: image sha256, bytes and size, mean confidence, stage
// timings (decode, preprocess, recognise, total).
#pragma once

#include "handlers/context.h"

namespace scanline {

// Needs services.config and services.ocr.
Response HandleOcr(const Request& request, RequestContext& context);

}  // namespace scanline
