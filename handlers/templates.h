// /v1/templates...: the operator's API for prompt templates (scope "templates:admin").
//
//   GET  /v1/templates                           every version of every type
//   GET  /v1/templates/export                    everything as one JSON document
//   POST /v1/templates/import                    load such a document
//   GET  /v1/templates/{type}                    the versions of a type
//   GET  /v1/templates/{type}/active             the active version's template
//   GET  /v1/templates/{type}/versions/{n}       one version's template
//   POST /v1/templates/{type}/versions           body: a template; 201 with its new version
//   POST /v1/templates/{type}/activate?version=N
//   POST /v1/templates/{type}/rollback
//   POST /v1/templates/{type}/split?version=N&percent=P   (percent 0 ends the split)
// "export" and "import" are therefore not usable as document types here.
#pragma once

#include "handlers/context.h"

namespace scanline {

// Needs services.templates.
Response HandleTemplates(const Request& request, RequestContext& context);

}  // namespace scanline
