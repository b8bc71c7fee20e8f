// Licence-plate recognition: a photo in, every plate's text, outline, confidence and
// next-best readings out. The one core function behind POST /v1/lpr, `scanline lpr` and the
// accuracy benchmark.
//
// Stages (each timed): decode (core/image.h, with the request limits), enhance (multi-scale
// Retinex when the photo is dark, core/retinex.h), detect (character rows, cascades, optional
// ONNX; core/plate_detector.h), read (the rectified row with Tesseract and the plate
// character model on several binarisations; core/plate_reader.h, core/plate_chars.h) and
// rank (region patterns; core/plate_patterns.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/image.h"
#include "core/plate_detector.h"
#include "core/plate_patterns.h"
#include "core/plate_reader.h"
#include "core/request_log.h"  // StageTiming

namespace scanline {

enum class EnhanceMode { kAuto, kOn, kOff };

// "auto", "on", "off"; nullopt-like false return on anything else.
bool ParseEnhanceMode(std::string_view text, EnhanceMode* out);
std::string_view EnhanceModeName(EnhanceMode mode);

struct LprOptions {
  std::string region;  // a code of the loaded regions ("us", "br", "eu"); "" = the default
  size_t top_n = 10;   // candidates per plate, 1..kMaxTopN
  EnhanceMode enhance = EnhanceMode::kAuto;
};

inline constexpr size_t kMaxTopN = 50;

struct PlateCandidate {
  std::string text;      // A-Z0-9
  float confidence = 0;  // 0..100
  bool matches_pattern = false;
};

struct PlateResult {
  std::string text;      // the best candidate
  float confidence = 0;  // 0..100, of the best candidate
  PlateCorners corners;  // clockwise from the top-left, input pixels
  std::string region;    // the region code whose patterns were applied
  bool matches_pattern = false;
  std::string methods;  // detectors that found it: "chars", "cascade", "onnx", '+'-joined
  std::vector<PlateCandidate> candidates;  // best first, at most top_n; [0] is `text`
};

struct LprResult {
  ImageInfo info;
  std::string sha256;  // hex, of the bytes ("" for RecognizePlatesInImage)
  int64_t bytes = 0;
  double brightness = 0;  // mean luminance 0..255 before enhancement
  bool enhanced = false;
  std::vector<PlateResult> plates;   // most confident first
  std::vector<StageTiming> timings;  // "decode", "enhance", "detect", "read", "total" (ms)
};

// The warm parts of the pipeline, created once per worker (or CLI run). Not thread-safe.
class LprEngines {
 public:
  // Loads the region files (lpr.data_dir, else DataDir("regions")), the cascades and ONNX
  // model of `lpr`, and a Tesseract engine from `tessdata_dir`. Throws Error(kInternal)
  // naming what failed; Error(kInternal) too when lpr.default_region is not a loaded region.
  LprEngines(const LprConfig& lpr, const std::string& tessdata_dir);
  ~LprEngines();

  // The region for a request's `region` option ("" = the default). Throws
  // Error(kInvalidOption) with option "region" naming the known codes when unknown.
  const PlateRegion& Region(std::string_view code) const;
  const std::map<std::string, PlateRegion>& regions() const { return regions_; }

  PlateDetector& detector() { return *detector_; }
  PlateReader& reader() { return *reader_; }

 private:
  std::map<std::string, PlateRegion> regions_;
  std::string default_region_;
  std::unique_ptr<PlateDetector> detector_;
  std::unique_ptr<PlateReader> reader_;
};

// Decodes `bytes` (first page only; the errors of DecodeImage) and recognises its plates.
// A photo with no plate gives an empty list. Throws Error(kInvalidOption) for an unknown
// region or top_n out of 1..kMaxTopN. `sha256`: as for RecognizeDocument (core/ocr.h).
LprResult RecognizePlates(LprEngines& engines, std::string_view bytes, const ImageLimits& limits,
                          const LprOptions& options, std::string_view sha256 = {});

// The same on a decoded image (tests and benchmarks).
LprResult RecognizePlatesInImage(LprEngines& engines, const Image& image,
                                 const LprOptions& options);

}  // namespace scanline
