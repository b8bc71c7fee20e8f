// Multi-scale Retinex on the luminance (see core/retinex.h).
//
// R = log(Y + 1) - (1/n) * sum_i log(G_i * Y + 1). Each log-illumination is taken on its
// downscaled blur (it is smooth), the mean of them is upsampled once, log(Y + 1) comes from a
// 256-entry table, and stretching and the per-channel gain run in one pass: fresh full-size
// float images are few, since allocating them (page faults) cost more than the arithmetic
// here. The result is stretched to 0..255 between two percentiles (simplest colour balance),
// and each BGR channel is scaled by the gain the luminance received.
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

// log(G_sigma * Y + 1) for a Gaussian of `sigma` input pixels, computed on a copy downscaled
// so that sigma is about 4 pixels there, and returned at `size`.
cv::Mat LogIllumination(const cv::Mat& y8, double sigma, cv::Size size) {
  const double factor = std::max(1.0, sigma / 4.0);
  cv::Size small(std::max(4, static_cast<int>(std::lround(y8.cols / factor))),
                 std::max(4, static_cast<int>(std::lround(y8.rows / factor))));
  cv::Mat down;
  if (small == y8.size()) {
    down = y8;
  } else {
    cv::resize(y8, down, small, 0, 0, cv::INTER_AREA);
  }
  cv::Mat f;
  down.convertTo(f, CV_32F, 1.0, 1.0);
  const double small_sigma = sigma * small.width / static_cast<double>(y8.cols);
  cv::GaussianBlur(f, f, cv::Size(), small_sigma, small_sigma, cv::BORDER_REFLECT);
  cv::log(f, f);
  if (f.size() == size) return f;
  cv::Mat out;
  cv::resize(f, out, size, 0, 0, cv::INTER_LINEAR);
  return out;
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
  const cv::Mat y8 = Luminance(mat);
  float log_y[256];
  for (int v = 0; v < 256; ++v) log_y[v] = std::log(v + 1.0f);

  // The mean of the scales' log-illuminations, summed at the finest scale's size and then
  // upsampled once: one full-size float image instead of one per scale.
  const double finest = *std::min_element(options.sigmas.begin(), options.sigmas.end());
  const double factor = std::max(1.0, finest / 4.0);
  const cv::Size work(std::max(4, static_cast<int>(std::lround(y8.cols / factor))),
                      std::max(4, static_cast<int>(std::lround(y8.rows / factor))));
  cv::Mat sum(work, CV_32F, cv::Scalar(0));
  for (double sigma : options.sigmas) sum += LogIllumination(y8, sigma, work);
  sum *= 1.0 / options.sigmas.size();
  cv::Mat illumination;
  cv::resize(sum, illumination, y8.size(), 0, 0, cv::INTER_LINEAR);

  // R = log(Y + 1) - illumination, in place.
  for (int row = 0; row < y8.rows; ++row) {
    const uint8_t* yp = y8.ptr<uint8_t>(row);
    float* rp = illumination.ptr<float>(row);
    for (int col = 0; col < y8.cols; ++col) rp[col] = log_y[yp[col]] - rp[col];
  }
  const cv::Mat& r = illumination;
  auto [lo, hi] = Percentiles(r, options.low_clip, options.high_clip);
  const float k = 255.0f / (hi - lo);
  const float mix = static_cast<float>(options.mix);

  cv::Mat out(mat.size(), mat.type());
  for (int row = 0; row < mat.rows; ++row) {
    const uint8_t* yp = y8.ptr<uint8_t>(row);
    const float* rp = r.ptr<float>(row);
    const uint8_t* in = mat.ptr<uint8_t>(row);
    uint8_t* o = out.ptr<uint8_t>(row);
    for (int col = 0; col < mat.cols; ++col) {
      float s = std::clamp((rp[col] - lo) * k, 0.0f, 255.0f);
      if (mix < 1.0f) s = mix * s + (1.0f - mix) * yp[col];
      if (mat.channels() == 1) {
        o[col] = cv::saturate_cast<uint8_t>(s);
      } else {
        // Each channel gets the luminance's gain, so hues stay.
        const float gain = (s + 1.0f) / (yp[col] + 1.0f);
        for (int ch = 0; ch < 3; ++ch) {
          o[3 * col + ch] = cv::saturate_cast<uint8_t>(in[3 * col + ch] * gain);
        }
      }
    }
  }
  return ImageFromMat(out);
}

}  // namespace scanline
