// OCR option parsing (see core/ocr_options.h).
#include "core/ocr_options.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/error.h"

namespace scanline {
namespace {

// A whole number in [lo, hi], or InvalidOption(name).
int ParseInt(std::string_view name, std::string_view text, int lo, int hi) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < lo || value > hi) {
    throw InvalidOption(name, "must be a whole number from " + std::to_string(lo) + " to " +
                                  std::to_string(hi) + ", got '" + std::string(text) + "'");
  }
  return value;
}

}  // namespace

OcrRequestOptions DefaultOcrRequestOptions(const OcrConfig& config) {
  OcrRequestOptions options;
  options.ocr.lang = config.default_lang;
  options.ocr.psm = config.default_psm;
  options.ocr.deadline_ms = config.max_deadline_ms;
  return options;
}

Roi ParseRoi(std::string_view text) {
  std::vector<double> values;
  bool has_point = false;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view part = text.substr(start, comma - start);
    double v = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || ec != std::errc() || end != part.data() + part.size() ||
        !std::isfinite(v) || v < 0) {
      throw InvalidOption("roi",
                          "must be x,y,w,h: four numbers >= 0, got '" + std::string(text) + "'");
    }
    if (part.find('.') != std::string_view::npos) has_point = true;
    values.push_back(v);
    start = comma + 1;
  }
  if (values.size() != 4) {
    throw InvalidOption("roi", "must be x,y,w,h (four numbers), got '" + std::string(text) + "'");
  }
  Roi roi{values[0], values[1], values[2], values[3], false};
  if (roi.w <= 0 || roi.h <= 0) throw InvalidOption("roi", "width and height must be > 0");
  const bool all_small = values[0] <= 1 && values[1] <= 1 && values[2] <= 1 && values[3] <= 1;
  if (all_small && has_point) {
    roi.fractional = true;
    if (roi.x + roi.w > 1.0 + 1e-9 || roi.y + roi.h > 1.0 + 1e-9) {
      throw InvalidOption("roi", "fractions must keep x+w and y+h within 1");
    }
  } else {
    for (double v : values) {
      if (v != std::floor(v) || v > 1e6) {
        throw InvalidOption("roi",
                            "pixel values must be whole numbers; fractions must all be "
                            "<= 1, got '" +
                                std::string(text) + "'");
      }
    }
  }
  return roi;
}

std::string RoiText(const Roi& roi) {
  char buf[128];
  if (roi.fractional) {
    std::snprintf(buf, sizeof buf, "%.4g,%.4g,%.4g,%.4g", roi.x, roi.y, roi.w, roi.h);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f,%.0f,%.0f,%.0f", roi.x, roi.y, roi.w, roi.h);
  }
  return buf;
}

std::string_view LevelName(OcrLevel level) {
  switch (level) {
    case OcrLevel::kText:
      return "text";
    case OcrLevel::kLines:
      return "lines";
    case OcrLevel::kWords:
      return "words";
  }
  return "?";
}

std::string_view FormatName(OcrFormat format) {
  switch (format) {
    case OcrFormat::kJson:
      return "json";
    case OcrFormat::kHocr:
      return "hocr";
    case OcrFormat::kTsv:
      return "tsv";
    case OcrFormat::kText:
      return "text";
  }
  return "?";
}

void SetOcrOption(OcrRequestOptions& options, std::string_view name, std::string_view value,
                  const OcrConfig& config) {
  OcrOptions& ocr = options.ocr;
  if (name == "lang") {
    if (value.empty() || value.size() > 200) {
      throw InvalidOption("lang", "must be language codes joined by '+', e.g. eng+deu");
    }
    ocr.lang = std::string(value);
  } else if (name == "psm") {
    ocr.psm = ParseInt("psm", value, 1, 13);
  } else if (name == "roi") {
    ocr.roi = ParseRoi(value);
  } else if (name == "preprocess") {
    ocr.preprocess = ParsePreprocess(value);
  } else if (name == "level") {
    if (value == "text") {
      ocr.level = OcrLevel::kText;
    } else if (value == "lines") {
      ocr.level = OcrLevel::kLines;
    } else if (value == "words") {
      ocr.level = OcrLevel::kWords;
    } else {
      throw InvalidOption("level",
                          "must be text, lines or words, got '" + std::string(value) + "'");
    }
  } else if (name == "format") {
    if (value == "json") {
      options.format = OcrFormat::kJson;
    } else if (value == "hocr") {
      options.format = OcrFormat::kHocr;
    } else if (value == "tsv") {
      options.format = OcrFormat::kTsv;
    } else if (value == "text") {
      options.format = OcrFormat::kText;
    } else {
      throw InvalidOption("format",
                          "must be json, hocr, tsv or text, got '" + std::string(value) + "'");
    }
    ocr.hocr = options.format == OcrFormat::kHocr;
    ocr.tsv = options.format == OcrFormat::kTsv;
  } else if (name == "deadline_ms") {
    ocr.deadline_ms =
        std::min(ParseInt("deadline_ms", value, 1, 24 * 3600 * 1000), config.max_deadline_ms);
  } else {
    throw InvalidOption(name,
                        "unknown option; OCR options are lang, psm, roi, preprocess, "
                        "level, format, deadline_ms");
  }
}

}  // namespace scanline
