#include "core/retinex.h"

#include <gtest/gtest.h>

#include <chrono>
#include <opencv2/imgproc.hpp>

#include "core/detail/image_mat.h"

namespace scanline {
namespace {

// A dark 1280x720 frame: a faint text-like pattern on an uneven, very dim background.
cv::Mat DarkFrame() {
  cv::Mat m(720, 1280, CV_8UC3);
  for (int y = 0; y < m.rows; ++y) {
    for (int x = 0; x < m.cols; ++x) {
      const int base = 4 + x / 160;  // 4..11
      const bool ink = ((x / 12) % 2 == 0) && ((y / 30) % 2 == 0);
      const uint8_t v = static_cast<uint8_t>(ink ? base / 2 : base);
      m.at<cv::Vec3b>(y, x) = cv::Vec3b(v, v, v);
    }
  }
  return m;
}

double LocalContrast(const cv::Mat& bgr) {
  cv::Mat grey;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  cv::Mat lap;
  cv::Laplacian(grey, lap, CV_32F);
  return cv::mean(cv::abs(lap))[0];
}

TEST(RetinexTest, BrightensADarkFrameAndRaisesLocalContrast) {
  const Image dark = ImageFromMat(DarkFrame());
  EXPECT_LT(MeanBrightness(dark), kDarkBrightness);
  const Image out = EnhanceLowLight(dark);
  ASSERT_EQ(out.width(), 1280);
  ASSERT_EQ(out.height(), 720);
  ASSERT_EQ(out.channels(), 3);
  EXPECT_GT(MeanBrightness(out), 3 * MeanBrightness(dark));
  EXPECT_GT(LocalContrast(MatOf(out)), 5 * LocalContrast(MatOf(dark)));
}

TEST(RetinexTest, KeepsGreyImagesGrey) {
  cv::Mat grey;
  cv::cvtColor(DarkFrame(), grey, cv::COLOR_BGR2GRAY);
  const Image out = EnhanceLowLight(ImageFromMat(grey));
  EXPECT_EQ(out.channels(), 1);
}

TEST(RetinexTest, RefusesAnEmptyImage) {
  EXPECT_ANY_THROW(EnhanceLowLight(ImageFromMat(cv::Mat())));
}

// Not a benchmark (bench/micro/retinex_benchmark.cc measures): a guard against the wide
// Gaussian being computed at full size again, which takes seconds on a 1280x720 frame.
TEST(RetinexTest, EnhancesA1280x720FrameWellUnderASecond) {
  const Image dark = ImageFromMat(DarkFrame());
  EnhanceLowLight(dark);  // warm-up
  const auto start = std::chrono::steady_clock::now();
  EnhanceLowLight(dark);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(ms, 500);
}

}  // namespace
}  // namespace scanline
