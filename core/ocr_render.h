// An OCR result in the response formats of the API and the CLI: JSON (our shape, below),
// plain text (pages separated by form feeds, as the `tesseract` command writes them), hOCR
// (one XHTML document, Tesseract's page markup inside) and TSV (Tesseract's columns, one
// header line).
//
// JSON shape:
//   {"image": {"format", "width", "height", "pages", "bytes", "sha256"},
//    "options": {"lang", "psm", "roi", "preprocess", "level", "format", "deadline_ms"},
//    "text", "mean_confidence", "word_count",
//    "pages": [{"page", "width", "height", "text", "mean_confidence", "word_count",
//               "preprocess": [steps run], "timings_ms": {"preprocess", "recognise"},
//               "blocks": [{"box", "lines": [{"text", "confidence", "box",
//                                             "words": [{"text", "confidence", "box"}]}]}]}],
//    "timings_ms": {"decode", "preprocess", "recognise", "total"}}
// Boxes are {"x", "y", "w", "h"} in pixels of the page; confidences 0..100. "blocks" is
// absent at level=text, "words" absent at level=lines.
#pragma once

#include <string>

#include "core/ocr.h"
#include "core/ocr_options.h"

namespace scanline {

struct RenderedOcr {
  std::string content_type;
  std::string body;
};

RenderedOcr RenderOcrDocument(const OcrDocument& document, const OcrRequestOptions& options);

// Mean word confidence over all pages, weighting each page by its word count.
float DocumentConfidence(const OcrDocument& document);

}  // namespace scanline
