// Form extraction: a template and a document's OCR in, typed and validated fields out.
//
// Engines: `rules` (core/rule_engine.h, the default, no network), `llm` (core/llm_client.h,
// every field asked of the model) and `auto` (rules first, then the model only for the
// fields that are missing or invalid; without a configured endpoint `auto` is rules alone).
// Every field is reported with its value as read, its normalised value, a confidence, its box
// when the rules found it, the engine that produced it and its validation; required fields
// without a valid value are listed as missing.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/image.h"
#include "core/ocr.h"
#include "core/rule_engine.h"
#include "core/template.h"

namespace scanline {

class LlmClient;   // core/llm_client.h
class OcrEngines;  // core/ocr.h

enum class ExtractEngine { kRules, kLlm, kAuto };
// "rules", "llm", "auto".
std::string_view EngineName(ExtractEngine engine);
// Throws InvalidOption("engine", ...) for another name.
ExtractEngine ParseEngine(std::string_view name);

struct FormExtraction {
  std::string document_type;
  int template_version = 0;
  bool ab_candidate = false;  // the version came from an A/B split
  std::string engine;         // the engine asked for
  std::vector<ExtractedField> fields;
  std::vector<KeyValuePair> key_values;
  std::vector<std::string> missing_required;
  std::string llm_model;             // when the model was asked
  double mean_confidence = 0;        // over found fields, 0..1
  std::vector<StageTiming> timings;  // "rules", "reread", "llm" (ms)
};

// What a second reading of lines needs (core/line_reread.h): the decoded pages the OCR was
// made from and the engines to read with.
struct SecondReading {
  OcrEngines* engines = nullptr;
  std::vector<Image> images;  // the pages, in the order and pixels of the OCR
  // Lines are not begun after this moment (steady clock); max() = no limit.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

// Runs the engine over the pages. With `second` (engines and images given), the rules run
// twice when a field sets rules.reread: the lines the first run took that field's value from
// (also a value withheld for low confidence) are read again (RereadLines), and the rules run
// again over the pages with those readings; timings then hold "reread" (the second reading
// and the second run). `llm` may be null: then `llm` is refused with InvalidOption("engine")
// and `auto` runs the rules alone. Errors of the LLM endpoint propagate for `llm`
// (Error(kUpstreamFailed)); for `auto` they leave the rules' result and are noted in the log.
// The LLM is not waited for past `llm_deadline`. With `llm`, a template's key -> value pairs
// are the model's too (without boxes); `auto` keeps the layout's.
FormExtraction ExtractForm(const Template& t, const std::vector<OcrPage>& pages,
                           ExtractEngine engine, LlmClient* llm,
                           const SecondReading* second = nullptr,
                           std::chrono::steady_clock::time_point llm_deadline =
                               std::chrono::steady_clock::time_point::max());

// The response body: {"document_type","template_version","ab_candidate","engine",
// "fields":{name:{"value","normalised","currency"?,"confidence","box","page","engine","valid",
// "problems","label"?,"found"}},"missing_required":[...],"key_values":[...]?,"timings_ms":{}}
// With `mask`, values of sensitive fields are masked (core/field_types.h MaskValue).
std::string FormExtractionToJson(const FormExtraction& result, const Template& t, bool mask);

struct OcrConfig;  // core/config.h
// OCR options for extraction with `t`: the configured defaults, the template's languages,
// words with boxes, and the template's page segmentation mode when it sets one.
OcrOptions FormOcrOptions(const Template& t, const OcrConfig& config);

// The OCR text of the pages, lines in reading order (what the LLM is given).
std::string PagesText(const std::vector<OcrPage>& pages);

}  // namespace scanline
