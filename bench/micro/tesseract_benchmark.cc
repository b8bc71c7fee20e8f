// Tesseract on receipts, in-process on one thread with one warm TessBaseAPI, with each of
// scanline's two process settings for it on and off: its OpenMP regions run inline
// (RunOpenMpRegionsInline) and its line and word images stored uncompressed
// (StoreTesseractImagesUncompressed); both off is Tesseract as installed. An iteration reads
// the first five receipts of ../shared/data/receipts (decode, SetImage, Recognize,
// GetUTF8Text, as ocr_load's bare loop); the time is per page. A configuration whose text
// differs from the others' stops with an error: the settings change no result.
// BM_ScanlinePages reads the same pages with scanline's RecognizeDocument (preprocess=none,
// psm 6, one warm OcrEngines, both settings on): what a worker does with a page, against
// BM_Receipts/inline:1/stored:1, the bare loop with the same settings (ocr_load's (d) against
// its (c), on one thread). Its text must be the bare loop's too.
//   OMP_THREAD_LIMIT=1 build/bench/tesseract_benchmark --benchmark_repetitions=5
//     --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
//   (one command line)
#include <benchmark/benchmark.h>
#include <leptonica/allheaders.h>
#include <tesseract/baseapi.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/ocr.h"
#include "core/tessdata.h"

namespace scanline {
namespace {

constexpr size_t kPages = 5;

struct Receipts {
  std::vector<std::string> bytes;
  std::unique_ptr<tesseract::TessBaseAPI> api;
  std::map<size_t, std::string> texts;  // the first configuration's, page by page

  Receipts() {
    PrepareTesseractProcess();
    cv::setNumThreads(0);  // as in a worker: BM_ScanlinePages's decode gets no helper thread
    const std::string dir = std::string(SCANLINE_SOURCE_DIR) + "/../shared/data/receipts/img";
    std::vector<std::string> paths;
    for (const auto& e : std::filesystem::directory_iterator(dir)) paths.push_back(e.path());
    std::sort(paths.begin(), paths.end());
    for (size_t i = 0; i < std::min(paths.size(), kPages); ++i) {
      std::ifstream in(paths[i], std::ios::binary);
      bytes.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    api = std::make_unique<tesseract::TessBaseAPI>();
    api->Init(TessdataDir("").c_str(), "eng", tesseract::OEM_DEFAULT);
    api->SetVariable("debug_file", "/dev/null");
    api->SetPageSegMode(tesseract::PSM_SINGLE_BLOCK);
  }
};

// One set for every benchmark, so each compares its text with the same first reading.
Receipts& TheReceipts() {
  static Receipts receipts;
  return receipts;
}

// Reports the pages read, and the time per page as the counter per_page.
void CountPages(benchmark::State& state, size_t pages_per_iteration) {
  const int64_t pages = state.iterations() * static_cast<int64_t>(pages_per_iteration);
  state.SetItemsProcessed(pages);
  state.counters["per_page"] = benchmark::Counter(
      static_cast<double>(pages), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_Receipts(benchmark::State& state) {
  Receipts& receipts = TheReceipts();
  if (receipts.bytes.size() < kPages) {
    state.SkipWithError("the receipts of ../shared/data are missing");
    return;
  }
  RunOpenMpRegionsInline(state.range(0) != 0);
  StoreTesseractImagesUncompressed(state.range(1) != 0);
  tesseract::TessBaseAPI& api = *receipts.api;
  for (auto _ : state) {
    for (size_t i = 0; i < receipts.bytes.size(); ++i) {
      const std::string& b = receipts.bytes[i];
      Pix* pix = pixReadMem(reinterpret_cast<const l_uint8*>(b.data()), b.size());
      api.SetImage(pix);
      api.Recognize(nullptr);
      char* text = api.GetUTF8Text();
      const std::string read = text ? text : "";
      delete[] text;
      const auto [first, inserted] = receipts.texts.emplace(i, read);
      const bool same = inserted || first->second == read;
      api.Clear();
      pixDestroy(&pix);
      if (!same) {
        state.SkipWithError("a page read differently");
        break;
      }
    }
  }
  CountPages(state, receipts.bytes.size());
  RunOpenMpRegionsInline(true);  // as PrepareTesseractProcess left them
  StoreTesseractImagesUncompressed(true);
}
BENCHMARK(BM_Receipts)
    ->ArgNames({"inline", "stored"})
    ->ArgsProduct({{0, 1}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

void BM_ScanlinePages(benchmark::State& state) {
  Receipts& receipts = TheReceipts();
  static OcrEngines engines(TessdataDir(""));
  static const bool warm = (engines.Preload("eng"), true);  // before the first page, as a worker
  (void)warm;
  if (receipts.bytes.size() < kPages) {
    state.SkipWithError("the receipts of ../shared/data are missing");
    return;
  }
  OcrOptions options;
  options.psm = 6;
  options.preprocess = ParsePreprocess("none");
  const ImageLimits limits;
  for (auto _ : state) {
    for (size_t i = 0; i < receipts.bytes.size(); ++i) {
      const OcrDocument document = RecognizeDocument(engines, receipts.bytes[i], limits, options);
      const std::string read = document.pages.empty() ? "" : document.pages[0].text;
      const auto [first, inserted] = receipts.texts.emplace(i, read);
      if (!inserted && first->second != read) {
        state.SkipWithError("a page read differently from the bare loop");
        break;
      }
    }
  }
  CountPages(state, receipts.bytes.size());
}
BENCHMARK(BM_ScanlinePages)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace scanline
