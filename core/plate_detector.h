// Finding licence plates in a photo: more than one detector, merged.
//
// - "chars": rows of character-like blobs of one height, evenly spaced (any plate, any
//   country, light or dark characters; core/detail/plate_detail.h).
// - "cascade": OpenCV's Haar cascade for plates from the opencv-data package
//   (haarcascade_licence_plate_rus_16stages.xml), and any cascade files the operator
//   configures (lpr.cascade_files; e.g. opencv-data's haarcascade_russian_plate_number.xml,
//   left out by default: it tripled the cascade time here and found no plate the rows missed
//   on the benchmark photos).
// - "onnx": an operator's ONNX detector run with OpenCV's DNN module (lpr.onnx_model): a
//   YOLO-style single-class model, input 640x640 RGB 0..1, output rows of
//   (cx, cy, w, h, objectness[, class scores]) or the transposed (YOLOv8) layout.
// A box from a cascade or ONNX is kept only where a row of characters is found inside it;
// where detectors agree, the candidate ranks higher.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "core/image.h"
#include "core/plate_patterns.h"

namespace scanline {

struct PlatePoint {
  float x = 0;  // pixels
  float y = 0;
};
using PlateCorners = std::array<PlatePoint, 4>;  // clockwise from the top-left

struct PlateDetectorOptions {
  bool builtin_cascades = true;  // opencv-data's licence_plate_rus_16stages cascade
  std::string builtin_cascade_dir = "/usr/share/opencv4/haarcascades";
  std::vector<std::string> cascade_files;  // the operator's own
  std::string onnx_model;                  // "" = none
};

// Splits lpr.cascade_files (":"-separated, empty parts ignored).
std::vector<std::string> SplitCascadeFiles(const std::string& text);

struct PlateProposal {
  PlateCorners corners;
  std::string methods;  // detectors that saw it: "chars", "cascade", "onnx", '+'-joined
  double score = 0;     // higher = more plate-like; for ordering only
};

// Loaded once per worker. Not thread-safe (OpenCV's cascade and DNN objects are not).
class PlateDetector {
 public:
  // Throws Error(kInternal) naming the file when a cascade or the ONNX model cannot be
  // loaded.
  explicit PlateDetector(const PlateDetectorOptions& options);
  ~PlateDetector();
  PlateDetector(const PlateDetector&) = delete;
  PlateDetector& operator=(const PlateDetector&) = delete;

  // Plate candidates in `image`, best first, outlined with the region's plate shape. Many
  // are not plates: the reader decides.
  std::vector<PlateProposal> Detect(const Image& image, const PlateRegion& region);

  int cascades() const;  // cascades loaded
  bool has_onnx() const;

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace scanline
