// Multi-scale Retinex on the luminance (see core/retinex.h).
//
// R = log(Y + 1) - (1/n) * sum_i log(G_i * Y + 1) is computed as log(Y + 1) - log(prod_i
// (G_i * Y + 1)) / n: two vectorised logs per pixel instead of n + 1. The result is stretched
// to 0..255 between two percentiles (simplest colour balance), and each BGR channel is
// scaled by the gain the luminance received.
#include "core/retinex.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "core/detail/image_mat.h"
#include "core/error.h"

namespace scanline {
namespace {

cv::Mat Luminance(const cv::Mat& mat) {
  if (mat.channels() == 1) return mat;
  cv::Mat grey;
  cv::cvtColor(mat, grey, cv::COLOR_BGR2GRAY);
  return grey;
}

void CheckInput(const cv::Mat& mat) {
  if (mat.empty() || mat.depth() != CV_8U || (mat.channels() != 1 && mat.channels() != 3)) {
    throw Error(ErrorCode::kInternal, "image cannot be enhanced",
                "EnhanceLowLight needs a non-empty 8-bit image with 1 or 3 channels");
  }
}

// A Gaussian of `sigma` input pixels, computed at a scale where sigma is about 4 pixels.
cv::Mat WideBlur(const cv::Mat& y, double sigma) {
  const double factor = std::max(1.0, sigma / 4.0);
  if (factor <= 1.5) {
    cv::Mat out;
    cv::GaussianBlur(y, out, cv::Size(), sigma, sigma, cv::BORDER_REFLECT);
    return out;
  }
  cv::Size small(std::max(4, static_cast<int>(std::lround(y.cols / factor))),
                 std::max(4, static_cast<int>(std::lround(y.rows / factor))));
  cv::Mat down;
  cv::resize(y, down, small, 0, 0, cv::INTER_AREA);
  const double small_sigma = sigma * small.width / static_cast<double>(y.cols);
  cv::GaussianBlur(down, down, cv::Size(), small_sigma, small_sigma, cv::BORDER_REFLECT);
  cv::Mat up;
  cv::resize(down, up, y.size(), 0, 0, cv::INTER_LINEAR);
  return up;
}

// The values at the low and high fractions of the sorted pixels, from a 1024-bin histogram.
std::pair<float, float> Percentiles(const cv::Mat& r, double low, double high) {
  double min_value = 0, max_value = 0;
  cv::minMaxLoc(r, &min_value, &max_value);
  if (max_value - min_value < 1e-6) return {float(min_value), float(min_value + 1e-3)};
  constexpr int kBins = 1024;
  std::vector<int> hist(kBins, 0);
  const double scale = (kBins - 1) / (max_value - min_value);
  for (int row = 0; row < r.rows; ++row) {
    const float* p = r.ptr<float>(row);
    for (int col = 0; col < r.cols; ++col) {
      ++hist[static_cast<int>((p[col] - min_value) * scale)];
    }
  }
  const double total = static_cast<double>(r.total());
  auto value_at = [&](double fraction) {
    double seen = 0;
    for (int bin = 0; bin < kBins; ++bin) {
      seen += hist[bin];
      if (seen >= fraction * total) return static_cast<float>(min_value + bin / scale);
    }
    return static_cast<float>(max_value);
  };
  float lo = value_at(low);
  float hi = value_at(1.0 - high);
  if (hi - lo < 1e-6f) hi = lo + 1e-3f;
  return {lo, hi};
}

}  // namespace

double MeanBrightness(const Image& image) {
  const cv::Mat& mat = MatOf(image);
  CheckInput(mat);
  cv::Mat small = mat;
  if (mat.cols > 320) {
    const double f = 320.0 / mat.cols;
    cv::resize(mat, small, cv::Size(), f, f, cv::INTER_AREA);
  }
  return cv::mean(Luminance(small))[0];
}

Image EnhanceLowLight(const Image& image, const RetinexOptions& options) {
  const cv::Mat& mat = MatOf(image);
  CheckInput(mat);
  if (options.sigmas.empty()) return image;
  cv::Mat y;
  Luminance(mat).convertTo(y, CV_32F);
  cv::Mat product;
  for (double sigma : options.sigmas) {
    cv::Mat blur = WideBlur(y, sigma);
    blur += 1.0f;
    if (product.empty()) {
      product = blur;
    } else {
      cv::multiply(product, blur, product);
    }
  }
  cv::Mat log_y, log_product;
  cv::log(y + 1.0f, log_y);
  cv::log(product, log_product);
  cv::Mat r = log_y - log_product * (1.0 / options.sigmas.size());

  auto [lo, hi] = Percentiles(r, options.low_clip, options.high_clip);
  cv::Mat stretched;  // 0..255, float
  r.convertTo(stretched, CV_32F, 255.0 / (hi - lo), -lo * 255.0 / (hi - lo));
  cv::threshold(stretched, stretched, 255.0, 255.0, cv::THRESH_TRUNC);
  cv::max(stretched, 0.0, stretched);
  if (options.mix < 1.0) {
    cv::addWeighted(stretched, options.mix, y, 1.0 - options.mix, 0.0, stretched);
  }

  cv::Mat out;
  if (mat.channels() == 1) {
    stretched.convertTo(out, CV_8U);
    return ImageFromMat(out);
  }
  cv::Mat gain = (stretched + 1.0f) / (y + 1.0f);
  cv::Mat bgr;
  mat.convertTo(bgr, CV_32FC3);
  cv::Mat gain3;
  cv::merge(std::vector<cv::Mat>{gain, gain, gain}, gain3);
  cv::multiply(bgr, gain3, bgr);
  bgr.convertTo(out, CV_8UC3);  // saturates
  return ImageFromMat(out);
}

}  // namespace scanline
