// POST /v1/ocr (see handlers/ocr.h): options, one core call, rendering.
#include "handlers/ocr.h"

#include "core/image.h"
#include "core/ocr.h"
#include "core/ocr_options.h"
#include "core/ocr_render.h"
#include "core/request_body.h"

namespace scanline {
Response HandleOcr(const Request& request, RequestContext& context) {
  const Config& config = *context.services.config;
  if (context.services.ocr == nullptr) {
    // The worker could not start its engines (logged at its start): missing language data,
    // say. The operator's side is missing something, not the client's.
    throw Error(ErrorCode::kServiceUnavailable, "OCR is not available", "Services::ocr is null");
  }
  OcrEngines& engines = *context.services.ocr;

  OcrRequestOptions options = DefaultOcrRequestOptions(config.ocr);
  for (const auto& [name, value] : ParseQuery(request.query)) {
    if (!IsSigningParameter(name)) SetOcrOption(options, name, value, config.ocr);
  }
  options.ocr.lang = engines.CheckLanguages(options.ocr.lang);

  const RequestBody body = ExtractRequestBody(request);
  context.log.image_bytes = static_cast<int64_t>(body.image.size());
  const OcrDocument document = RecognizeDocument(
      engines, body.image, ImageLimitsFrom(config.limits), options.ocr, body.image_sha256);

  context.log.image_sha256 = document.sha256;
  context.log.image_width = document.info.width;
  context.log.image_height = document.info.height;
  context.log.confidence = DocumentConfidence(document);
  for (const auto& timing : document.timings) context.log.stages.push_back(timing);

  RenderedOcr rendered = RenderOcrDocument(document, options);
  Response response;
  response.content_type = std::move(rendered.content_type);
  response.body = std::move(rendered.body);
  return response;
}

}  // namespace scanline
