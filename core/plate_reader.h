// Reading the characters of one plate with a warm Tesseract engine, and ranking the readings.
//
// A plate is read as one text line restricted to A-Z and 0-9, with Tesseract's dictionaries
// off. The straightened crop is binarised more than one way (each way fails on different
// plates: a global threshold on uneven light, a local one on thin strokes); every reading
// keeps, for each character, Tesseract's alternatives with their probabilities, and the
// letter/digit pairs plates are known to confuse (O/0, I/1, B/8, S/5, Z/2, G/6, D/0, A/4).
// RankCandidates turns the readings into the N most likely plate texts; a region's patterns
// put the texts that fit them first. With a plate character model (core/plate_chars.h), the
// binarised lines are also read one segmented character at a time, as further readings.
//
// Tesseract's types stay in core/plate_reader.cc.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/image.h"
#include "core/plate_patterns.h"

namespace scanline {

struct CharChoice {
  char c = 0;   // A-Z or 0-9
  float p = 0;  // probability, 0..1
};
using CharChoices = std::vector<CharChoice>;    // one character's alternatives, best first
using PlateReading = std::vector<CharChoices>;  // one reading, left to right

struct PlateText {
  std::string text;      // A-Z0-9
  float confidence = 0;  // 0..100
  bool matches_pattern = false;
};

// A plate whose best text fits none of the region's patterns (a vanity plate) is reported
// only from this confidence (0..100) on; one that fits a pattern from kMinPatternConfidence.
constexpr float kMinPatternConfidence = 10;
constexpr float kMinFreeConfidence = 55;

// Combines readings of one plate into at most `top_n` ranked texts. Readings of one length
// are merged position by position (each character's probability averaged over them); every
// merged reading's most likely character combinations (best-first over the alternatives)
// are scored by the geometric mean of their characters' probabilities, weighted by the
// number of readings merged, and averaged. Texts that fit one of the region's patterns
// rank by their likelihood times weight^0.15, a text that fits none and is read with at
// least kMinFreeConfidence by the region's free_text share of its likelihood among them
// (when that is not 0), other texts
// after them; a region's same_glyph pairs are applied; readings longer than the region's
// longest pattern also contribute with an edge character dropped.
// Pure.
std::vector<PlateText> RankCandidates(const std::vector<PlateReading>& readings,
                                      const PlateRegion& region, size_t top_n);

// A warm Tesseract engine for plate characters. Not thread-safe: one per worker.
class PlateReader {
 public:
  // `tessdata_dir` holds `model`.traineddata ("eng", or a plate model). Throws
  // Error(kInternal) when Tesseract cannot initialise.
  // `char_model`: a plate character model file (core/plate_chars.h) whose readings of the
  // segmented characters join Tesseract's; "" = Tesseract alone. Throws Error(kInternal)
  // naming the file when it cannot be loaded.
  PlateReader(const std::string& tessdata_dir, const std::string& model,
              const std::string& char_model = "");
  ~PlateReader();
  PlateReader(const PlateReader&) = delete;
  PlateReader& operator=(const PlateReader&) = delete;

  // Reads one line of plate characters from an image that holds a single plate or its row
  // of characters, roughly level (the rows found in it are straightened). Returns the
  // readings, one per binarisation; empty when nothing character-like is found.
  std::vector<PlateReading> ReadCrop(const Image& crop);

  const std::string& model() const;
  int64_t recognitions() const;  // Tesseract calls so far

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace scanline
