// Multi-scale Retinex on a 1280x720 colour frame (the low-light stage of /v1/lpr).
#include <benchmark/benchmark.h>

#include <opencv2/core.hpp>

#include "core/detail/image_mat.h"
#include "core/retinex.h"

namespace scanline {
namespace {

void BM_EnhanceLowLight1280x720(benchmark::State& state) {
  cv::setNumThreads(0);
  cv::Mat frame(720, 1280, CV_8UC3);
  cv::randu(frame, 0, 40);
  const Image image = ImageFromMat(frame);
  for (auto _ : state) benchmark::DoNotOptimize(EnhanceLowLight(image));
}
BENCHMARK(BM_EnhanceLowLight1280x720)->Unit(benchmark::kMillisecond);

void BM_MeanBrightness1280x720(benchmark::State& state) {
  cv::Mat frame(720, 1280, CV_8UC3);
  cv::randu(frame, 0, 255);
  const Image image = ImageFromMat(frame);
  for (auto _ : state) benchmark::DoNotOptimize(MeanBrightness(image));
}
BENCHMARK(BM_MeanBrightness1280x720)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace scanline
