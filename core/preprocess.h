// Preparing a page before Tesseract reads it.
//
// Tesseract reads best from dark text on a light, clean background, upright and level, with
// capital letters some 20-40 pixels tall (about 10-12 pt at 300 dpi). Photos and scans often
// miss that: small text, a slight skew, a rotated page, speckle, uneven light, black scanner
// borders. Each step below fixes one of those; `auto` measures the page (character height
// from connected components, skew from text lines, contrast, noise) and runs only the steps
// the measurements call for.
//
// Steps always run in one fixed order, whatever order a caller lists them in:
//   grey, orient, border, deskew, upscale, join, denoise, binarise
// Every geometric step (orient, border, deskew, upscale) is recorded in a transform from the
// prepared image back to the input, so word boxes can be reported in the client's pixels.
#pragma once

#include <array>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/image.h"

namespace scanline {

enum class PreprocessStep {
  kGrey,      // to one channel (luminance)
  kOrient,    // turn the page upright (0/90/180/270 degrees), from an orientation detector
  kBorder,    // crop dark scanner borders and empty margins
  kDeskew,    // rotate text lines level (up to +-15 degrees)
  kUpscale,   // scale so characters are about as tall as at 300 dpi
  kJoin,      // join the dots of dot-matrix print into strokes
  kDenoise,   // remove speckle and JPEG noise, keeping strokes
  kBinarise,  // adaptive (local) threshold to black text on white
};

// "grey", "orient", "border", "deskew", "upscale", "join", "denoise", "binarise".
std::string_view StepName(PreprocessStep step);

struct PreprocessOptions {
  enum class Mode {
    kNone,   // the image as decoded
    kAuto,   // steps chosen from measurements of the image
    kSteps,  // exactly `steps` (in the fixed order above)
  };
  Mode mode = Mode::kAuto;
  std::vector<PreprocessStep> steps;  // for kSteps
};

// Parses the `preprocess` option: "auto", "none", or a comma-separated list of step names
// ("grey,deskew,binarise"). Throws InvalidOption("preprocess", ...) naming the bad step.
PreprocessOptions ParsePreprocess(std::string_view text);
// The canonical text of options: "auto", "none" or the step list in run order.
std::string PreprocessText(const PreprocessOptions& options);

// Maps a point of the prepared image back to the input image:
//   x_in = m[0]*x + m[1]*y + m[2],  y_in = m[3]*x + m[4]*y + m[5].
using PageTransform = std::array<double, 6>;
inline constexpr PageTransform kIdentityTransform = {1, 0, 0, 0, 1, 0};

// What the page looked like, measured on the input (after grey and orient).
struct PageMeasures {
  double char_height = 0;      // pixels: median height of character-sized components; 0 = none
                               // (of dot-matrix characters, not of their dots)
  bool dot_print = false;      // characters are made of separate dots (dot-matrix print):
                               // joining dots a pixel or two apart makes components at least
                               // twice as tall
  double skew_degrees = 0;     // positive = text rises to the right; 0 when not measurable
  double contrast = 0;         // 0..255: ink to paper difference
  double noise = 0;            // fraction of ink components that are specks (1-2 pixels)
  bool halftone = false;       // grey scanned as a dither of dots: joining dots a pixel or
                               // two apart makes over twice the character-sized components
  double background = 0;       // 0..255: spread of the paper's brightness over the page
  bool dark_border = false;    // a dark band along at least one edge (scanner lid, table)
  bool vertical_text = false;  // character components are mostly taller than wide in rows
                               // running down the page: the page is likely turned 90 degrees
};

struct PreparedImage {
  Image image;                       // 8-bit, 1 or 3 channels
  std::vector<std::string> applied;  // steps run, with their parameters ("upscale:1.6")
  PageTransform to_input = kIdentityTransform;
  PageMeasures measures;
  double scale = 1;  // prepared pixels per input pixel (for resolution hints)
  // Dots per inch the recogniser should assume for the prepared page, from the measured
  // character height (auto only); 0 = unknown, let Tesseract estimate it.
  int resolution = 0;
};

// Returns the clockwise rotation in degrees (0, 90, 180 or 270) that makes the page upright,
// or -1 when it cannot tell. Used by the orient step; OcrEngines provides one over Tesseract's
// OSD data.
using OrientationDetector = std::function<int(const Image&)>;

// Prepares `image` for recognition. With Mode::kNone returns the image unchanged. The orient
// step is skipped (and not listed in `applied`) when `detect_orientation` is empty.
// Pure: never modifies `image`. Throws Error(kInternal) only on an OpenCV failure.
PreparedImage Preprocess(const Image& image, const PreprocessOptions& options,
                         const OrientationDetector& detect_orientation = {});

// Measures the page (as `auto` does) without changing it.
PageMeasures MeasurePage(const Image& image);

}  // namespace scanline
