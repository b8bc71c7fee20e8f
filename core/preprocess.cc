// Page preparation (see core/preprocess.h).
#include "core/preprocess.h"

#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "core/detail/image_mat.h"
#include "core/error.h"

namespace scanline {
namespace {

constexpr PreprocessStep kOrder[] = {
    PreprocessStep::kGrey,    PreprocessStep::kOrient,  PreprocessStep::kBorder,
    PreprocessStep::kDeskew,  PreprocessStep::kUpscale, PreprocessStep::kDenoise,
    PreprocessStep::kBinarise,
};

bool Has(const std::vector<PreprocessStep>& steps, PreprocessStep step) {
  return std::find(steps.begin(), steps.end(), step) != steps.end();
}

cv::Mat Grey(const cv::Mat& mat) {
  if (mat.channels() == 1) return mat;
  cv::Mat grey;
  cv::cvtColor(mat, grey, cv::COLOR_BGR2GRAY);
  return grey;
}

}  // namespace

std::string_view StepName(PreprocessStep step) {
  switch (step) {
    case PreprocessStep::kGrey: return "grey";
    case PreprocessStep::kOrient: return "orient";
    case PreprocessStep::kBorder: return "border";
    case PreprocessStep::kDeskew: return "deskew";
    case PreprocessStep::kUpscale: return "upscale";
    case PreprocessStep::kDenoise: return "denoise";
    case PreprocessStep::kBinarise: return "binarise";
  }
  return "?";
}

PreprocessOptions ParsePreprocess(std::string_view text) {
  PreprocessOptions options;
  if (text == "auto") return options;
  if (text == "none") {
    options.mode = PreprocessOptions::Mode::kNone;
    return options;
  }
  options.mode = PreprocessOptions::Mode::kSteps;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view name = text.substr(start, comma - start);
    bool found = false;
    for (PreprocessStep step : kOrder) {
      if (StepName(step) == name) {
        if (!Has(options.steps, step)) options.steps.push_back(step);
        found = true;
      }
    }
    if (!found) {
      throw InvalidOption("preprocess", "unknown step '" + std::string(name) +
                                            "'; use auto, none, or a comma list of grey, "
                                            "orient, border, deskew, upscale, denoise, binarise");
    }
    start = comma + 1;
  }
  return options;
}

std::string PreprocessText(const PreprocessOptions& options) {
  if (options.mode == PreprocessOptions::Mode::kAuto) return "auto";
  if (options.mode == PreprocessOptions::Mode::kNone) return "none";
  std::string out;
  for (PreprocessStep step : kOrder) {
    if (!Has(options.steps, step)) continue;
    if (!out.empty()) out += ',';
    out += StepName(step);
  }
  return out;
}

PageMeasures MeasurePage(const Image&) { return {}; }

PreparedImage Preprocess(const Image& image, const PreprocessOptions& options,
                         const OrientationDetector&) {
  PreparedImage out;
  out.image = image;
  if (options.mode == PreprocessOptions::Mode::kNone) return out;
  out.image = ImageFromMat(Grey(MatOf(image)));
  out.applied.push_back("grey");
  return out;
}

}  // namespace scanline
