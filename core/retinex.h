// Low-light enhancement by multi-scale Retinex (MSR) on the luminance.
//
// Retinex treats a pixel as illumination times reflectance and estimates the illumination by
// a wide Gaussian blur; log(pixel) - log(blur) keeps the reflectance, that is local contrast,
// so a plate in a dark street comes out as legible as one in daylight. Scales 15, 80 and 250
// pixels with equal weights are the usual choice (Jobson, Rahman and Woodell, "A multiscale
// retinex for bridging the gap between color images and the human observation of scenes",
// IEEE TIP 1997). Only the luminance is processed and the colour is carried over by the same
// gain per pixel, so hues do not shift (the colour restoration of MSRCR is not needed for
// recognition).
//
// Speed: a Gaussian of sigma 250 on a 1280x720 frame is the cost. Each scale is blurred on an
// image downscaled so that the blur's sigma is a few pixels there, then upsampled; the
// illumination is smooth by definition, so nothing visible is lost.
#pragma once

#include <vector>

#include "core/image.h"

namespace scanline {

struct RetinexOptions {
  std::vector<double> sigmas = {15, 80, 250};  // pixels of the input image; equal weights
  double low_clip = 0.01;   // fraction of pixels clipped to black when stretching the result
  double high_clip = 0.01;  // fraction clipped to white
  // Weight of the Retinex output against the input luminance (1 = Retinex only). A little
  // of the input keeps the global tone, which helps nothing in recognition: default 1.
  double mix = 1.0;
};

// Mean luminance (0..255) of the image, measured on a downscaled copy. Cheap (< 1 ms).
double MeanBrightness(const Image& image);

// The brightness under which `enhance=auto` enhances an image.
inline constexpr double kDarkBrightness = 70;

// Returns the enhanced image: same size and channel count, 8-bit. Pure. Throws Error(kInternal)
// when the image is empty or not 8-bit with 1 or 3 channels.
Image EnhanceLowLight(const Image& image, const RetinexOptions& options = {});

}  // namespace scanline
