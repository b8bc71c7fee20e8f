// The OCR options by name, as the HTTP API (query string) and the CLI (flags) spell them:
//   lang=eng+deu  psm=1..13  roi=x,y,w,h  preprocess=auto|none|<steps>
//   level=text|lines|words  format=json|hocr|tsv|text  deadline_ms=N
// One parser for both, so a value means the same everywhere. Every bad value throws
// InvalidOption naming the option.
#pragma once

#include <string>
#include <string_view>

#include "core/config.h"
#include "core/ocr.h"

namespace scanline {

enum class OcrFormat { kJson, kHocr, kTsv, kText };

struct OcrRequestOptions {
  OcrOptions ocr;
  OcrFormat format = OcrFormat::kJson;
};

// The options a request starts from: ocr.default_lang, ocr.default_psm, preprocess=auto,
// level=words, format=json, deadline_ms = ocr.max_deadline_ms.
OcrRequestOptions DefaultOcrRequestOptions(const OcrConfig& config);

// Sets one option from its text. `name` is one of the names above; anything else throws
// InvalidOption(name, "unknown option ..."). deadline_ms above ocr.max_deadline_ms is capped
// to it. lang is checked for shape here and against installed data by OcrEngines.
void SetOcrOption(OcrRequestOptions& options, std::string_view name, std::string_view value,
                  const OcrConfig& config);

// roi: "x,y,w,h", four numbers >= 0 with w, h > 0. All four <= 1 (and at least one with a
// decimal point) means fractions of the image; otherwise pixels (integers).
Roi ParseRoi(std::string_view text);
std::string RoiText(const Roi& roi);

std::string_view LevelName(OcrLevel level);     // "text", "lines", "words"
std::string_view FormatName(OcrFormat format);  // "json", "hocr", "tsv", "text"

}  // namespace scanline
