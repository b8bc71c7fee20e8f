// POST /v1/lpr (see handlers/lpr.h): options, one core call, rendering.
#include "handlers/lpr.h"

#include "core/image.h"
#include "core/lpr.h"
#include "core/lpr_render.h"
#include "core/request_body.h"

namespace scanline {
Response HandleLpr(const Request& request, RequestContext& context) {
  const Config& config = *context.services.config;
  if (context.services.lpr == nullptr) {
    // The worker could not load its plate engines (logged at its start): the operator's
    // side is missing something, not the client's.
    throw Error(ErrorCode::kServiceUnavailable, "plate recognition is not available",
                "Services::lpr is null");
  }
  LprOptions options;
  for (const auto& [name, value] : ParseQuery(request.query)) {
    if (!IsSigningParameter(name)) SetLprOption(options, name, value);
  }

  const RequestBody body = ExtractRequestBody(request);
  context.log.image_bytes = static_cast<int64_t>(body.image.size());
  const LprResult result =
      RecognizePlates(*context.services.lpr, body.image, ImageLimitsFrom(config.limits), options,
                      body.image_sha256);

  context.log.image_sha256 = result.sha256;
  context.log.image_width = result.info.width;
  context.log.image_height = result.info.height;
  if (!result.plates.empty()) context.log.confidence = result.plates.front().confidence;
  for (const auto& timing : result.timings) context.log.stages.push_back(timing);

  Response response;
  response.content_type = "application/json";
  response.body = RenderLprJson(result);
  return response;
}

}  // namespace scanline
