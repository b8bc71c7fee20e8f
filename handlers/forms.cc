// POST /v1/forms/extract and /v1/forms/fill (see handlers/forms.h).
#include "handlers/forms.h"

#include <chrono>
#include <regex>

#include "core/form_fill.h"
#include "core/forms.h"
#include "core/image.h"
#include "core/log.h"
#include "core/ocr.h"
#include "core/request_body.h"
#include "core/template_store.h"

namespace scanline {
namespace {

bool ParseBool(std::string_view option, const std::string& value) {
  if (value == "true" || value == "1") return true;
  if (value == "false" || value == "0") return false;
  throw InvalidOption(option, "must be true or false");
}

OcrEngines& Engines(RequestContext& context) {
  if (context.services.ocr == nullptr) {
    throw Error(ErrorCode::kServiceUnavailable, "OCR is not available", "Services::ocr is null");
  }
  return *context.services.ocr;
}

void LogDocument(RequestContext& context, const OcrDocument& document) {
  context.log.image_sha256 = document.sha256;
  context.log.image_bytes = document.bytes;
  context.log.image_width = document.info.width;
  context.log.image_height = document.info.height;
  for (const auto& timing : document.timings) context.log.stages.push_back(timing);
}

}  // namespace

Response HandleFormsExtract(const Request& request, RequestContext& context) {
  const Config& config = *context.services.config;
  if (context.services.templates == nullptr) {
    throw Error(ErrorCode::kServiceUnavailable, "templates are not available",
                "Services::templates is null");
  }
  std::string type;
  int version = 0;
  ExtractEngine engine = ExtractEngine::kRules;
  bool mask = false;
  for (const auto& [name, value] : ParseQuery(request.query)) {
    if (name == "document_type") {
      static const std::regex kType("[a-z][a-z0-9_]{0,63}");
      if (!std::regex_match(value, kType)) {
        throw InvalidOption("document_type", "must match [a-z][a-z0-9_]{0,63}");
      }
      type = value;
    } else if (name == "template_version") {
      static const std::regex kVersion("[1-9][0-9]{0,6}");
      if (!std::regex_match(value, kVersion)) {
        throw InvalidOption("template_version", "must be a positive integer");
      }
      version = std::stoi(value);
    } else if (name == "engine") {
      engine = ParseEngine(value);
    } else if (name == "mask") {
      mask = ParseBool("mask", value);
    } else if (!IsSigningParameter(name)) {
      // A misspelt `mask` must not hand out what the client meant to hide.
      throw InvalidOption(name,
                          "unknown option; extract options are document_type, "
                          "template_version, engine and mask");
    }
  }
  if (type.empty()) throw InvalidOption("document_type", "is required");
  if (engine == ExtractEngine::kLlm && context.services.llm == nullptr) {
    // Said before the image is read: no recognition for a request that cannot be answered.
    throw InvalidOption("engine", "llm needs an LLM endpoint (llm.endpoint), none is configured");
  }
  context.log.document_type = type;
  // The LLM must answer before the master's hard limit ends the worker (and the answer with it).
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(config.server.request_timeout_s * 900);

  const RequestBody body = ExtractRequestBody(request);
  context.log.image_bytes = static_cast<int64_t>(body.image.size());
  const auto start = std::chrono::steady_clock::now();
  ResolvedTemplate resolved =
      context.services.templates->Resolve(type, version, request.request_id);
  context.log.template_version = resolved.tmpl.version;
  context.log.stages.push_back({"template", std::chrono::duration<double, std::milli>(
                                                std::chrono::steady_clock::now() - start)
                                                .count()});
  const Template& t = resolved.tmpl;

  OcrOptions options = FormOcrOptions(t, config.ocr);
  options.deadline_ms = config.ocr.max_deadline_ms;
  const auto ocr_start = std::chrono::steady_clock::now();
  const OcrDocument document = RecognizeDocument(
      Engines(context), body.image, ImageLimitsFrom(config.limits), options, body.image_sha256);
  LogDocument(context, document);

  // The second reading of lines (fields with rules.reread) within the OCR's deadline.
  SecondReading second{&Engines(context), document.images};
  if (options.deadline_ms > 0) {
    second.deadline = ocr_start + std::chrono::milliseconds(options.deadline_ms);
  }
  FormExtraction result =
      ExtractForm(t, document.pages, engine, context.services.llm, &second, deadline);
  result.ab_candidate = resolved.candidate;
  for (const auto& timing : result.timings) context.log.stages.push_back(timing);
  context.log.confidence = result.mean_confidence * 100;
  // Which version answered (A/B); values never reach the log.
  LogInfo("forms extract " + request.request_id + ": " + t.document_type + " v" +
          std::to_string(t.version) + (resolved.candidate ? " (A/B candidate)" : "") + ", engine " +
          result.engine + ", " + std::to_string(result.missing_required.size()) +
          " required field(s) missing");

  Response response;
  response.body = FormExtractionToJson(result, t, mask);
  response.SetHeader("X-Template-Version", std::to_string(t.version));
  return response;
}

Response HandleFormsFill(const Request& request, RequestContext& context) {
  const Config& config = *context.services.config;
  bool with_image = true;
  std::optional<std::string> profile_json;
  for (const auto& [name, value] : ParseQuery(request.query)) {
    if (name == "image") {
      with_image = ParseBool("image", value);
    } else if (name == "profile") {
      // Query strings end up in access logs; personal data does not belong there.
      throw InvalidOption("profile",
                          "send the profile in the body (a multipart part or a JSON member), "
                          "not in the query string");
    } else if (!IsSigningParameter(name)) {
      throw InvalidOption(name, "unknown option; the fill option is image");
    }
  }
  const RequestBody body = ExtractRequestBody(request);
  if (auto field = body.Field("profile")) profile_json = *field;
  if (!profile_json) {
    throw Error(ErrorCode::kBadRequest,
                "a profile is required (multipart part or JSON member \"profile\")");
  }
  const Profile profile = ParseProfile(*profile_json);
  context.log.document_type = "fill";
  context.log.image_bytes = static_cast<int64_t>(body.image.size());

  ImageInfo info;
  std::vector<Image> pages =
      DecodeImage(body.image, ImageLimitsFrom(config.limits), &info, /*first_pages=*/1);
  if (pages.empty()) throw Error(ErrorCode::kCorruptImage, "the image has no page");
  context.log.image_width = info.width;
  context.log.image_height = info.height;
  OcrOptions options = FillOcrOptions(config.ocr);
  options.deadline_ms = config.ocr.max_deadline_ms;
  const OcrPage page = Recognize(Engines(context), pages[0], options);
  for (const auto& timing : page.timings) context.log.stages.push_back(timing);
  FillOptions fill;
  fill.render = with_image;
  const FillResult result = FillForm(pages[0], page, profile, fill);
  Response response;
  response.body = FillResultToJson(result, with_image);
  return response;
}

}  // namespace scanline
