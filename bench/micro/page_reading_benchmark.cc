// The two ends of a recognition (core/detail/tesseract_page.h), each against the way most
// programs do it, on the first five receipts of ../shared/data/receipts, one thread:
//   BM_HandOver  giving Tesseract the decoded page: raw=1 converts BGR to RGB and calls
//                SetImage with the buffer; raw=0 is scanline's PixForTesseract and SetImage
//                with the Leptonica image.
//   BM_Reading   reading a recognised page's text and words: in_page_order=0 is GetUTF8Text
//                and a walk with Tesseract's ResultIterator (ReadPageInReadingOrder);
//                in_page_order=1 is scanline's one walk in page order (ReadPageInPageOrder).
// Times are per page. Setup checks that both readings give the same text and words, and
// stops with an error if not.
//   OMP_THREAD_LIMIT=1 build/bench/page_reading_benchmark --benchmark_repetitions=5
//     --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
//   (one command line)
#include <benchmark/benchmark.h>
#include <tesseract/baseapi.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "core/detail/tesseract_page.h"
#include "core/ocr.h"
#include "core/tessdata.h"

namespace scanline {
namespace {

constexpr size_t kPages = 5;

std::unique_ptr<tesseract::TessBaseAPI> NewEngine() {
  auto api = std::make_unique<tesseract::TessBaseAPI>();
  if (api->Init(TessdataDir("").c_str(), "eng", tesseract::OEM_DEFAULT) != 0) return nullptr;
  api->SetVariable("debug_file", "/dev/null");
  api->SetPageSegMode(tesseract::PSM_SINGLE_BLOCK);
  return api;
}

bool SameReading(const OcrPage& a, const OcrPage& b) {
  if (a.text != b.text || a.blocks.size() != b.blocks.size()) return false;
  for (size_t i = 0; i < a.blocks.size(); ++i) {
    const auto &x = a.blocks[i].lines, &y = b.blocks[i].lines;
    if (x.size() != y.size()) return false;
    for (size_t j = 0; j < x.size(); ++j) {
      if (x[j].words.size() != y[j].words.size()) return false;
      for (size_t k = 0; k < x[j].words.size(); ++k) {
        const OcrWord &u = x[j].words[k], &v = y[j].words[k];
        if (u.text != v.text || u.box != v.box || u.confidence != v.confidence) return false;
      }
    }
  }
  return true;
}

struct Receipts {
  std::vector<cv::Mat> pages;                                 // BGR, as decoded
  std::vector<std::unique_ptr<tesseract::TessBaseAPI>> read;  // one per page, recognised
  std::unique_ptr<tesseract::TessBaseAPI> feed;               // for the hand-over
  std::string error;

  Receipts() {
    PrepareTesseractProcess();
    PrepareTesseractThread();
    const std::string dir = std::string(SCANLINE_SOURCE_DIR) + "/../shared/data/receipts/img";
    std::vector<std::string> paths;
    if (std::filesystem::is_directory(dir)) {
      for (const auto& e : std::filesystem::directory_iterator(dir)) paths.push_back(e.path());
    }
    std::sort(paths.begin(), paths.end());
    for (size_t i = 0; i < std::min(paths.size(), kPages); ++i) {
      pages.push_back(cv::imread(paths[i], cv::IMREAD_COLOR));
    }
    feed = NewEngine();
    if (pages.size() < kPages || !feed) {
      error = "the receipts of ../shared/data or eng.traineddata are missing";
      return;
    }
    for (const cv::Mat& page : pages) {
      read.push_back(NewEngine());
      read.back()->SetImage(detail::PixForTesseract(page).get());
      read.back()->Recognize(nullptr);
      const detail::BoxMapper map{kIdentityTransform, 0, 0, page.cols, page.rows};
      OcrPage in_page_order, in_reading_order;
      const bool left_to_right = detail::ReadPageInPageOrder(*read.back(), map, in_page_order);
      detail::ReadPageInReadingOrder(*read.back(), map, in_reading_order);
      if (!left_to_right || !SameReading(in_page_order, in_reading_order)) {
        error = "a receipt read differently in page order";
      }
    }
  }
};

// The receipts, or null with `state` skipped if they could not be read.
Receipts* TheReceipts(benchmark::State& state) {
  static Receipts receipts;
  if (receipts.error.empty()) return &receipts;
  state.SkipWithError(receipts.error.c_str());
  return nullptr;
}

void PerPage(benchmark::State& state, size_t pages) {
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(pages));
  state.counters["per_page"] =
      benchmark::Counter(static_cast<double>(state.iterations() * static_cast<int64_t>(pages)),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_HandOver(benchmark::State& state) {
  Receipts* receipts = TheReceipts(state);
  if (!receipts) return;
  const bool raw = state.range(0) != 0;
  tesseract::TessBaseAPI& api = *receipts->feed;
  for (auto _ : state) {
    for (const cv::Mat& page : receipts->pages) {
      if (raw) {
        cv::Mat rgb;
        cv::cvtColor(page, rgb, cv::COLOR_BGR2RGB);
        api.SetImage(rgb.data, rgb.cols, rgb.rows, 3, static_cast<int>(rgb.step));
      } else {
        api.SetImage(detail::PixForTesseract(page).get());
      }
      api.Clear();
    }
  }
  PerPage(state, receipts->pages.size());
}
BENCHMARK(BM_HandOver)->ArgName("raw")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

void BM_Reading(benchmark::State& state) {
  Receipts* receipts = TheReceipts(state);
  if (!receipts) return;
  const bool in_page_order = state.range(0) != 0;
  for (auto _ : state) {
    for (size_t i = 0; i < receipts->read.size(); ++i) {
      const cv::Mat& page = receipts->pages[i];
      const detail::BoxMapper map{kIdentityTransform, 0, 0, page.cols, page.rows};
      OcrPage read;
      if (in_page_order) {
        detail::ReadPageInPageOrder(*receipts->read[i], map, read);
      } else {
        detail::ReadPageInReadingOrder(*receipts->read[i], map, read);
      }
      benchmark::DoNotOptimize(read.text.data());
    }
  }
  PerPage(state, receipts->read.size());
}
BENCHMARK(BM_Reading)->ArgName("in_page_order")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace scanline
