// A classifier of single plate characters (A-Z, 0-9), trained for plate lettering.
//
// Tesseract's stock `eng` model reads plates' condensed, heavy glyphs poorly (W/H, 7/T, G/6,
// A/4, 5/S) and the shipped data is integer (tessdata_fast), so it cannot be fine-tuned. This
// classifier reads one segmented character at a time: a small multi-layer perceptron (OpenCV
// ml) on the character's ink, scaled into a fixed box that keeps its width-to-height ratio.
// The model file is made by `scripts/train-plate-model` (tools/train/train_plate_chars.cc)
// from rendered characters and the character crops of the training half of the labelled
// photos; see docs/lpr.md.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/image.h"
#include "core/plate_reader.h"  // CharChoices

namespace scanline {

// The shipped model: DataDir("models") + "/plate_chars.yml.gz". Throws Error(kInternal) when
// the data directory is missing.
std::string PlateCharModelFile();

// One training example: the ink of one character (CV_8UC1-backed Image, ink = 255, cut to
// the character's bounding box) and its label (A-Z or 0-9).
struct GlyphSample {
  Image ink;
  char label = 0;
};

struct PlateCharTraining {
  int hidden = 160;      // neurons of the hidden layer
  int iterations = 300;  // back-propagation passes over the samples
};

// Loaded once per worker; Classify is const and keeps no state between calls.
class PlateCharClassifier {
 public:
  // Loads a model file written by Save. Throws Error(kInternal) naming the file when it is
  // missing or not a plate character model.
  explicit PlateCharClassifier(const std::string& model_file);
  ~PlateCharClassifier();
  PlateCharClassifier(PlateCharClassifier&&) noexcept;
  PlateCharClassifier& operator=(PlateCharClassifier&&) noexcept;

  // Trains a model on `samples` (at least one per class of the alphabet is expected; classes
  // with none are never predicted). Deterministic for a given sample order: OpenCV's ANN_MLP
  // draws its initial weights and its shuffles from a generator of its own with a fixed seed.
  static PlateCharClassifier Train(const std::vector<GlyphSample>& samples,
                                   const PlateCharTraining& options);

  // Writes the model (OpenCV FileStorage; a .gz name compresses). Throws Error(kInternal).
  void Save(const std::string& model_file) const;

  // The `limit` most likely characters of one glyph (ink = 255, any size), best first, with
  // probabilities summing to at most 1. An empty glyph gives an empty list.
  CharChoices Classify(const Image& ink, size_t limit = 4) const;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  PlateCharClassifier();
  std::unique_ptr<Impl> impl_;
};

}  // namespace scanline
