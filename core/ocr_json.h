// OCR results read back from the JSON that POST /v1/ocr and `scanline ocr --format json`
// write (core/ocr_render.h). Lets `scanline templates eval --ocr-cache` and the accuracy
// benchmarks run extraction again and again on one OCR pass, OCR being most of the cost.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/ocr.h"

namespace scanline {

// Pages with blocks, lines, words, boxes and confidences from one JSON document. Throws
// Error(kBadRequest) when it is not the API's OCR JSON.
std::vector<OcrPage> OcrPagesFromJson(std::string_view json);

// A file of such documents, one per line, each with a "file" member (the output of
// `scanline ocr --level words FILE...` for several files), keyed by the file name without
// its directory. Missing file: empty map. Lines that do not parse are skipped.
std::map<std::string, std::vector<OcrPage>> ReadOcrJsonLines(const std::string& path);

}  // namespace scanline
