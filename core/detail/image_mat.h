// The OpenCV side of core/image.h, for core .cc files that work on pixels. Not for handlers,
// tools or public headers: they see scanline::Image only.
#pragma once

#include <opencv2/core.hpp>

#include "core/image.h"

namespace scanline {

struct Image::Pixels {
  cv::Mat mat;  // CV_8UC1 or CV_8UC3 (BGR)
};

inline const cv::Mat& MatOf(const Image& image) { return image.pixels()->mat; }
inline Image ImageFromMat(cv::Mat mat) {
  return Image(std::make_shared<Image::Pixels>(Image::Pixels{std::move(mat)}));
}

}  // namespace scanline
