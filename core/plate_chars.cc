// Plate characters one at a time (see core/plate_chars.h).
//
// Choices a reader might question:
// - Features are the glyph's ink scaled to fit a 14x20 box (the glyph's aspect kept, centred;
//   a '1' stays narrow), lightly blurred so a pixel's shift costs little, the glyph's
//   width-to-height ratio, and a histogram of oriented gradients of the glyph in a 16x24 box
//   (cells of 4x4 pixels, blocks of 2x2 cells, 9 orientations): with the strokes' directions
//   the model read 85-86 % of the characters of left-out training photos right, 75-76 %
//   without. Plate glyphs are high-contrast blobs already cut out by the row finder: a
//   convolutional model would cost more than it adds here.
// - An OpenCV ANN_MLP (one hidden layer, symmetric sigmoid) rather than an SVM: it gives a
//   score per class, which a softmax turns into the per-character alternatives the ranking
//   needs, and it classifies a glyph in a few microseconds. Trained by back-propagation:
//   OpenCV's RPROP stopped after a few passes here (39 % of its own training samples right).
#include "core/plate_chars.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <opencv2/imgproc.hpp>
#include <opencv2/ml.hpp>
#include <opencv2/objdetect.hpp>

#include "core/data_files.h"
#include "core/detail/image_mat.h"
#include "core/error.h"

namespace scanline {
namespace {

constexpr char kClasses[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
constexpr int kClassCount = 36;
constexpr int kBoxW = 14;  // pixels
constexpr int kBoxH = 20;
constexpr int kHogW = 16;  // pixels: the glyph again, for gradient histograms
constexpr int kHogH = 24;
constexpr int kHogFeatures = 15 * 4 * 9;  // 3x5 blocks of 2x2 cells of 4x4 pixels, 9 bins
constexpr int kPixelFeatures = kBoxW * kBoxH;
constexpr int kFeatures = kPixelFeatures + 1 + kHogFeatures;
// MLP outputs (about -1.7..1.7) to log-odds: 2 leaves a confusable second choice a few
// percent, enough for a region's pattern to prefer it.
constexpr float kSoftmaxGain = 2.0f;

int ClassOf(char c) {
  const char* p = std::find(kClasses, kClasses + kClassCount, c);
  return p == kClasses + kClassCount ? -1 : static_cast<int>(p - kClasses);
}

// `glyph` scaled to fit a box_w x box_h box, its shape kept, centred on a blank canvas.
cv::Mat Centred(const cv::Mat& glyph, int box_w, int box_h) {
  const double s =
      std::min(box_h / static_cast<double>(glyph.rows), box_w / static_cast<double>(glyph.cols));
  const int w = std::clamp(static_cast<int>(std::lround(glyph.cols * s)), 1, box_w);
  const int h = std::clamp(static_cast<int>(std::lround(glyph.rows * s)), 1, box_h);
  cv::Mat scaled;
  cv::resize(glyph, scaled, cv::Size(w, h), 0, 0, cv::INTER_AREA);
  cv::Mat canvas(box_h, box_w, CV_8UC1, cv::Scalar(0));
  scaled.copyTo(canvas(cv::Rect((box_w - w) / 2, (box_h - h) / 2, w, h)));
  return canvas;
}

// One row of kFeatures floats for a glyph (CV_8UC1, ink > 0); false for an empty glyph.
bool GlyphFeatures(const cv::Mat& ink, float* out) {
  if (ink.empty()) return false;
  const cv::Rect box = cv::boundingRect(ink);
  if (box.width < 1 || box.height < 2) return false;
  const cv::Mat tight = ink(box);
  cv::Mat canvas = Centred(tight, kBoxW, kBoxH);
  cv::GaussianBlur(canvas, canvas, cv::Size(3, 3), 0.7);
  for (int r = 0; r < kBoxH; ++r) {
    const uint8_t* p = canvas.ptr<uint8_t>(r);
    for (int c = 0; c < kBoxW; ++c) out[r * kBoxW + c] = p[c] / 255.0f;
  }
  out[kPixelFeatures] = static_cast<float>(box.width) / box.height;
  // Gradient orientation histograms of the glyph in a 16x24 box: the strokes' directions.
  const cv::Mat hog_canvas = Centred(tight, kHogW, kHogH);
  static const cv::HOGDescriptor hog(cv::Size(kHogW, kHogH), cv::Size(8, 8), cv::Size(4, 4),
                                     cv::Size(4, 4), 9);
  std::vector<float> descriptor;
  hog.compute(hog_canvas, descriptor);
  std::copy_n(descriptor.begin(), std::min<size_t>(descriptor.size(), kHogFeatures),
              out + kPixelFeatures + 1);
  return true;
}

}  // namespace

struct PlateCharClassifier::Impl {
  cv::Ptr<cv::ml::ANN_MLP> mlp;
};

std::string PlateCharModelFile() { return DataDir("models") + "/plate_chars.yml.gz"; }

PlateCharClassifier::PlateCharClassifier() : impl_(std::make_unique<Impl>()) {}

PlateCharClassifier::PlateCharClassifier(const std::string& model_file)
    : impl_(std::make_unique<Impl>()) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(model_file, ec)) {
    throw Error(
        ErrorCode::kInternal, "plate character model missing",
        "no plate character model at " + model_file + " (made by scripts/train-plate-model)");
  }
  try {
    impl_->mlp = cv::ml::ANN_MLP::load(model_file);
  } catch (const cv::Exception& e) {
    throw Error(ErrorCode::kInternal, "plate character model unreadable",
                "cannot load " + model_file + ": " + e.what());
  }
  const cv::Mat layers = impl_->mlp ? impl_->mlp->getLayerSizes() : cv::Mat();
  if (layers.total() < 2 || layers.at<int>(0) != kFeatures ||
      layers.at<int>(static_cast<int>(layers.total()) - 1) != kClassCount) {
    throw Error(ErrorCode::kInternal, "plate character model unreadable",
                model_file + " is not a plate character model (" + std::to_string(kFeatures) +
                    " inputs, " + std::to_string(kClassCount) + " outputs expected)");
  }
}

PlateCharClassifier::~PlateCharClassifier() = default;
PlateCharClassifier::PlateCharClassifier(PlateCharClassifier&&) noexcept = default;
PlateCharClassifier& PlateCharClassifier::operator=(PlateCharClassifier&&) noexcept = default;

PlateCharClassifier PlateCharClassifier::Train(const std::vector<GlyphSample>& samples,
                                               const PlateCharTraining& options) {
  cv::Mat features(0, kFeatures, CV_32F), targets(0, kClassCount, CV_32F);
  std::vector<float> row(kFeatures);
  for (const auto& sample : samples) {
    const int k = ClassOf(sample.label);
    if (k < 0 || !GlyphFeatures(MatOf(sample.ink), row.data())) continue;
    features.push_back(cv::Mat(1, kFeatures, CV_32F, row.data()));
    cv::Mat target(1, kClassCount, CV_32F, cv::Scalar(-1));
    target.at<float>(0, k) = 1;
    targets.push_back(target);
  }
  if (features.rows == 0) {
    throw Error(ErrorCode::kInternal, "no plate character samples", "nothing to train on");
  }
  PlateCharClassifier out;
  auto mlp = cv::ml::ANN_MLP::create();
  mlp->setLayerSizes(std::vector<int>{kFeatures, options.hidden, kClassCount});
  mlp->setActivationFunction(cv::ml::ANN_MLP::SIGMOID_SYM);
  mlp->setTrainMethod(cv::ml::ANN_MLP::BACKPROP, 0.05, 0.1);
  mlp->setTermCriteria(cv::TermCriteria(cv::TermCriteria::MAX_ITER, options.iterations, 0));
  mlp->train(cv::ml::TrainData::create(features, cv::ml::ROW_SAMPLE, targets));
  out.impl_->mlp = mlp;
  return out;
}

void PlateCharClassifier::Save(const std::string& model_file) const {
  try {
    impl_->mlp->save(model_file);
  } catch (const cv::Exception& e) {
    throw Error(ErrorCode::kInternal, "cannot write plate character model",
                model_file + ": " + e.what());
  }
}

CharChoices PlateCharClassifier::Classify(const Image& ink, size_t limit) const {
  float row[kFeatures];
  if (!GlyphFeatures(MatOf(ink), row)) return {};
  cv::Mat out;
  impl_->mlp->predict(cv::Mat(1, kFeatures, CV_32F, row), out);
  const float* o = out.ptr<float>(0);
  const float top = *std::max_element(o, o + kClassCount);
  float p[kClassCount];
  float sum = 0;
  for (int k = 0; k < kClassCount; ++k) {
    p[k] = std::exp(kSoftmaxGain * (o[k] - top));
    sum += p[k];
  }
  CharChoices choices;
  for (int k = 0; k < kClassCount; ++k) choices.push_back({kClasses[k], p[k] / sum});
  std::sort(choices.begin(), choices.end(),
            [](const CharChoice& a, const CharChoice& b) { return a.p > b.p; });
  if (choices.size() > limit) choices.resize(limit);
  return choices;
}

}  // namespace scanline
