// Tesseract behind OcrEngines and Recognize (see core/ocr.h).
//
// Choices a reader might question:
// - Engines are initialised with OEM_DEFAULT, as the `tesseract` command is, so results match
//   it for the same page segmentation mode and image.
// - Between images an engine is Clear()ed and its adaptive classifier reset, so no result
//   depends on an earlier request.
// - Word boxes come back in the prepared image's pixels; they are mapped through the
//   preprocessing transform and the ROI offset to the input page. hOCR and TSV get the same
//   mapping, so every format agrees on coordinates.
// - With preprocess=auto the words are tidied after recognition (TidyWords): unsure marks
//   without a letter or digit are dropped and amounts split at the decimal point joined. On
//   the receipts of the accuracy benchmark that was 1 point of word F1 and 0.5 of CER; the
//   page text follows the words, hOCR and TSV stay Tesseract's own.
// - The deadline is checked between stages and, during recognition, by Tesseract's cancel
//   callback. Layout analysis cannot be interrupted: a deadline can overrun by its length.
// - This file defines Leptonica's pixWriteMem, which the dynamic linker then finds before
//   Leptonica's own (see pixWriteMem below): Tesseract is the one caller of that function in
//   our processes (our own PNG output goes through OpenCV). Likewise the four libgomp entry
//   points libtesseract imports (see GOMP_parallel below): Tesseract is the only user of
//   OpenMP in our processes.
#include "core/ocr.h"

#include <dlfcn.h>
#include <leptonica/allheaders.h>
#include <malloc.h>
#include <tesseract/baseapi.h>
#include <tesseract/ocrclass.h>
#include <tesseract/osdetect.h>
#include <tesseract/resultiterator.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <list>
#include <opencv2/imgproc.hpp>
#include <regex>
#include <sstream>
#include <vector>

#include "core/config.h"
#include "core/crypto.h"
#include "core/detail/image_mat.h"
#include "core/detail/tesseract_page.h"
#include "core/error.h"
#include "core/tessdata.h"

namespace scanline {
namespace {

using Clock = std::chrono::steady_clock;

// 0..100: auto drops words without a letter or digit that Tesseract read with less
// confidence than this (its guesses at rules, barcodes and specks).
constexpr float kMarkConfidence = 30;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct TessDeleter {
  void operator()(tesseract::TessBaseAPI* api) const {
    api->End();
    delete api;
  }
};
using TessPtr = std::unique_ptr<tesseract::TessBaseAPI, TessDeleter>;

struct TextDeleter {
  void operator()(char* text) const { delete[] text; }
};
using TessText = std::unique_ptr<char[], TextDeleter>;

// Clears an engine's results and image when a recognition ends, however it ends.
class ClearOnExit {
 public:
  explicit ClearOnExit(tesseract::TessBaseAPI& api) : api_(api) {}
  ~ClearOnExit() {
    api_.Clear();
    api_.ClearAdaptiveClassifier();
  }
  ClearOnExit(const ClearOnExit&) = delete;
  ClearOnExit& operator=(const ClearOnExit&) = delete;

 private:
  tesseract::TessBaseAPI& api_;
};

std::atomic<bool> store_images_uncompressed{false};
std::atomic<uint64_t> images_stored_uncompressed{0};
std::atomic<bool> openmp_regions_inline{false};
// Per thread: one counter shared by threads recognising side by side would bounce between
// their cores tens of thousands of times a page.
thread_local uint64_t openmp_regions_run_inline = 0;

// Pages read through Tesseract's ResultIterator (see detail::ReadPageInPageOrder), on this
// thread.
thread_local uint64_t pages_walked_in_reading_order = 0;

// The library's own definition of a function this file defines before it (pixWriteMem and
// the OpenMP entry points below), or stop: only a broken installation gets there (Leptonica
// and libgomp are loaded with libtesseract, the only caller), and carrying on would hand
// Tesseract garbage.
template <typename F>
F NextDefinition(const char* library, const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (f == nullptr) {
    std::fprintf(stderr, "scanline: %s's %s not found\n", library, name);
    std::abort();
  }
  return reinterpret_cast<F>(f);
}

// The sections of the `parallel sections` regions run inline on this thread, innermost last.
struct InlineSections {
  unsigned next = 1;
  unsigned count = 0;
};
thread_local std::vector<InlineSections> inline_sections;

}  // namespace

uint64_t TesseractImagesStoredUncompressed() {
  return images_stored_uncompressed.load(std::memory_order_relaxed);
}

void StoreTesseractImagesUncompressed(bool on) {
  store_images_uncompressed.store(on, std::memory_order_relaxed);
}

uint64_t OpenMpRegionsRunInline() { return openmp_regions_run_inline; }

uint64_t PagesWalkedInReadingOrder() { return pages_walked_in_reading_order; }

void RunOpenMpRegionsInline(bool on) { openmp_regions_inline.store(on, std::memory_order_relaxed); }

void PrepareTesseractProcess() {
  StoreTesseractImagesUncompressed(true);
  RunOpenMpRegionsInline(true);
  setenv("OMP_THREAD_LIMIT", "1", 1);
  // libgomp reads its environment when it is loaded, before main(): when it is already in
  // the process, the variable above only reaches children.
  PrepareTesseractThread();
  // A page allocates and frees the same hundred megabytes or so each time. By default glibc
  // hands large blocks back to the kernel (mmap/munmap, heap trimming) and faults them in
  // again on the next page: about half of a worker's page faults, some 10 ms of system time a
  // receipt. Keeping freed memory for the next page costs nothing in resident size beyond the
  // largest page seen (the pool recycles a worker past server.max_memory_mb).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

void PrepareTesseractThread() {
  // libgomp (GCC 11 and later) keeps max-active-levels per thread: set on one thread, it
  // leaves every other thread's parallel regions at full width. Switched off here, this
  // thread's regions (Tesseract's LSTM uses `omp parallel`) run on the thread alone.
  thread_local bool done = false;
  if (done) return;
  done = true;
  using SetLevels = void (*)(int);
  static void* const set_levels = dlsym(RTLD_DEFAULT, "omp_set_max_active_levels");
  if (set_levels != nullptr) reinterpret_cast<SetLevels>(set_levels)(0);
}

}  // namespace scanline

// Tesseract 5.3 keeps every line and word image it hands its LSTM recogniser as PNG bytes
// (ImageData::SetPixInternal writes them with pixWriteMem, GetPixInternal reads them back
// with pixReadMem; upstream's TESSERACT_IMAGEDATA_AS_PIX build keeps the image instead,
// Debian's build does not). Leptonica compresses at zlib's default level unless the image's
// `special` field asks for another (10 + level), which Tesseract never sets: deflating and
// inflating those images took about an eighth of recognition's CPU time on the receipts, and
// even stored at level 0 the PNG path filters every row, checksums it and unfilters it again.
// This definition comes before Leptonica's in the dynamic linker's search (the executable is
// searched first; CMakeLists.txt exports it from every program that links core), and when
// switched on it writes the PNG images of callers that set no level in Leptonica's own
// serialised form instead ("spix": a header, then the pixel words as they are), which
// pixReadMem recognises by its first bytes and copies back: the same pixels, so every
// result is the same. Other formats, and images whose caller chose a level, go to
// Leptonica's function unchanged.
extern "C" l_ok pixWriteMem(l_uint8** data, size_t* size, PIX* pix, l_int32 format) {
  using Write = l_ok (*)(l_uint8**, size_t*, PIX*, l_int32);
  // Tesseract ignores a failed write and would read garbage: NextDefinition stops instead.
  static const auto leptonica = scanline::NextDefinition<Write>("Leptonica", "pixWriteMem");
  if (format != IFF_PNG || pix == nullptr ||
      !scanline::store_images_uncompressed.load(std::memory_order_relaxed) ||
      (pix->special >= 10 && pix->special < 20)) {
    return leptonica(data, size, pix, format);
  }
  const l_ok written = leptonica(data, size, pix, IFF_SPIX);  // copied, not encoded
  scanline::images_stored_uncompressed.fetch_add(1, std::memory_order_relaxed);
  return written;
}

// Tesseract's LSTM enters an OpenMP parallel region (`parallel sections`, and `parallel for`
// elsewhere) for every step of every line: some 40,000 regions a receipt. With one thread per
// engine, libgomp still makes a team for each and ends it at a barrier whose last thread
// always wakes the others with a futex system call, though there are none: on the receipts
// about a fifth of recognition's time, most of it in the kernel. These definitions of the four
// entry points libtesseract imports from libgomp come before libgomp's, as pixWriteMem above
// does. Switched on (RunOpenMpRegionsInline) they run a region's body on the calling thread
// with no team, as libgomp would run it with a team of one: omp_get_num_threads() is 1,
// omp_get_thread_num() 0, and a `parallel sections` region's sections run in order. The same
// instructions run in the same order, so every result is the same. Switched off, or for a
// sections construct not begun here, libgomp's functions are called.
extern "C" void GOMP_parallel(void (*fn)(void*), void* data, unsigned num_threads, unsigned flags) {
  using Parallel = void (*)(void (*)(void*), void*, unsigned, unsigned);
  static const auto libgomp = scanline::NextDefinition<Parallel>("libgomp", "GOMP_parallel");
  if (!scanline::openmp_regions_inline.load(std::memory_order_relaxed)) {
    libgomp(fn, data, num_threads, flags);
    return;
  }
  ++scanline::openmp_regions_run_inline;
  fn(data);
}

extern "C" void GOMP_parallel_sections(void (*fn)(void*), void* data, unsigned num_threads,
                                       unsigned count, unsigned flags) {
  using ParallelSections = void (*)(void (*)(void*), void*, unsigned, unsigned, unsigned);
  static const auto libgomp =
      scanline::NextDefinition<ParallelSections>("libgomp", "GOMP_parallel_sections");
  if (!scanline::openmp_regions_inline.load(std::memory_order_relaxed)) {
    libgomp(fn, data, num_threads, count, flags);
    return;
  }
  ++scanline::openmp_regions_run_inline;
  auto& stack = scanline::inline_sections;
  const size_t depth = stack.size();
  stack.push_back({1, count});
  fn(data);  // its sections come from GOMP_sections_next until it returns 0
  stack.resize(depth);
}

extern "C" unsigned GOMP_sections_next() {
  using Next = unsigned (*)();
  static const auto libgomp = scanline::NextDefinition<Next>("libgomp", "GOMP_sections_next");
  auto& stack = scanline::inline_sections;
  if (stack.empty()) return libgomp();
  scanline::InlineSections& sections = stack.back();
  return sections.next <= sections.count ? sections.next++ : 0;
}

extern "C" void GOMP_sections_end_nowait() {
  using End = void (*)();
  static const auto libgomp = scanline::NextDefinition<End>("libgomp", "GOMP_sections_end_nowait");
  if (scanline::inline_sections.empty()) libgomp();
}

namespace scanline {

struct OcrEngines::Impl {
  struct Entry {
    std::string lang;
    TessPtr api;
  };

  std::string tessdata_dir;
  int max_engines = 4;
  std::vector<std::string> installed;
  bool has_osd = false;
  std::list<Entry> engines;  // most recently used first
  TessPtr osd;
  int64_t inits = 0;

  TessPtr Init(const std::string& lang, tesseract::OcrEngineMode mode) {
    TessPtr api(new tesseract::TessBaseAPI());
    ++inits;
    // Tesseract's own diagnostics ("Estimating resolution as ...") would go to stderr for
    // every page; they say nothing a client or operator needs.
    if (api->Init(tessdata_dir.c_str(), lang.c_str(), mode) != 0) {
      throw Error(ErrorCode::kInternal, "the OCR engine could not start",
                  "TessBaseAPI::Init failed for '" + lang + "' in " + tessdata_dir);
    }
    api->SetVariable("debug_file", "/dev/null");
    return api;
  }

  tesseract::TessBaseAPI& Acquire(const std::string& lang) {
    for (auto it = engines.begin(); it != engines.end(); ++it) {
      if (it->lang == lang) {
        engines.splice(engines.begin(), engines, it);
        return *engines.front().api;
      }
    }
    TessPtr api = Init(lang, tesseract::OEM_DEFAULT);
    engines.push_front(Entry{lang, std::move(api)});
    while (static_cast<int>(engines.size()) > max_engines) engines.pop_back();
    return *engines.front().api;
  }

  tesseract::TessBaseAPI& Osd() {
    if (!osd) osd = Init("osd", tesseract::OEM_TESSERACT_ONLY);
    return *osd;
  }
};

OcrEngines::OcrEngines(std::string tessdata_dir, int max_engines)
    : impl_(std::make_unique<Impl>()) {
  // Leptonica reports every clipped box of Tesseract's layout analysis on stderr; in a pool
  // that is noise in the service log for every page.
  setMsgSeverity(L_SEVERITY_NONE);
  impl_->tessdata_dir = std::move(tessdata_dir);
  impl_->max_engines = std::max(1, max_engines);
  impl_->installed = InstalledLanguages(impl_->tessdata_dir);
  impl_->has_osd =
      std::filesystem::exists(std::filesystem::path(impl_->tessdata_dir) / "osd.traineddata");
}

OcrEngines::~OcrEngines() = default;

std::string OcrEngines::CheckLanguages(std::string_view lang) const {
  return CheckLanguageSet(lang, impl_->installed);
}

void OcrEngines::Preload(std::string_view lang) { impl_->Acquire(CheckLanguages(lang)); }
bool OcrEngines::HasOrientationData() const { return impl_->has_osd; }
const std::string& OcrEngines::tessdata_dir() const { return impl_->tessdata_dir; }
const std::vector<std::string>& OcrEngines::installed() const { return impl_->installed; }
int OcrEngines::initialised_engines() const { return static_cast<int>(impl_->engines.size()); }
int64_t OcrEngines::engine_inits() const { return impl_->inits; }

std::unique_ptr<OcrEngines> MakeOcrEngines(const OcrConfig& config) {
  auto engines = std::make_unique<OcrEngines>(TessdataDir(config.tessdata_dir), config.max_engines);
  std::string_view sets = config.preload_langs;
  while (!sets.empty()) {
    const size_t comma = sets.find(',');
    std::string_view set = sets.substr(0, comma);
    if (!set.empty()) engines->Preload(set);
    sets = comma == std::string_view::npos ? std::string_view() : sets.substr(comma + 1);
  }
  return engines;
}

namespace {

// The rectangle of `roi` in an image of width x height, clipped to it. Throws
// InvalidOption("roi") when it is empty or outside the image.
cv::Rect RoiRect(const Roi& roi, int width, int height) {
  double x = roi.x, y = roi.y, w = roi.w, h = roi.h;
  if (roi.fractional) {
    x *= width;
    y *= height;
    w *= width;
    h *= height;
  }
  const int x0 = static_cast<int>(std::floor(x));
  const int y0 = static_cast<int>(std::floor(y));
  const int x1 = std::min(width, static_cast<int>(std::ceil(x + w)));
  const int y1 = std::min(height, static_cast<int>(std::ceil(y + h)));
  if (x0 < 0 || y0 < 0 || x0 >= width || y0 >= height || x1 <= x0 || y1 <= y0) {
    throw InvalidOption("roi", "region lies outside the " + std::to_string(width) + "x" +
                                   std::to_string(height) + " image");
  }
  return cv::Rect(x0, y0, x1 - x0, y1 - y0);
}

// Maps a box of the prepared image to the input page: the bounding box of its four mapped
// corners, clipped to the page.
PixelBox MapBox(const PageTransform& m, int dx, int dy, int left, int top, int right, int bottom,
                int page_w, int page_h) {
  double xs[4], ys[4];
  const double cx[4] = {double(left), double(right), double(left), double(right)};
  const double cy[4] = {double(top), double(top), double(bottom), double(bottom)};
  for (int i = 0; i < 4; ++i) {
    xs[i] = m[0] * cx[i] + m[1] * cy[i] + m[2] + dx;
    ys[i] = m[3] * cx[i] + m[4] * cy[i] + m[5] + dy;
  }
  int x0 = static_cast<int>(std::floor(*std::min_element(xs, xs + 4)));
  int y0 = static_cast<int>(std::floor(*std::min_element(ys, ys + 4)));
  int x1 = static_cast<int>(std::ceil(*std::max_element(xs, xs + 4)));
  int y1 = static_cast<int>(std::ceil(*std::max_element(ys, ys + 4)));
  x0 = std::clamp(x0, 0, page_w);
  y0 = std::clamp(y0, 0, page_h);
  x1 = std::clamp(x1, x0, page_w);
  y1 = std::clamp(y1, y0, page_h);
  return PixelBox{x0, y0, x1 - x0, y1 - y0};
}

using detail::BoxMapper;

std::string MapHocr(const std::string& hocr, const BoxMapper& map) {
  static const std::regex kBbox(R"(bbox (-?\d+) (-?\d+) (-?\d+) (-?\d+))");
  std::string out;
  out.reserve(hocr.size());
  auto begin = std::sregex_iterator(hocr.begin(), hocr.end(), kBbox);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const auto& match = *it;
    out.append(hocr, last, match.position() - last);
    PixelBox b =
        map(std::stoi(match[1]), std::stoi(match[2]), std::stoi(match[3]), std::stoi(match[4]));
    out += "bbox " + std::to_string(b.x) + " " + std::to_string(b.y) + " " +
           std::to_string(b.x + b.w) + " " + std::to_string(b.y + b.h);
    last = match.position() + match.length();
  }
  out.append(hocr, last, std::string::npos);
  return out;
}

// TSV columns: level page_num block_num par_num line_num word_num left top width height conf
// text. Tesseract writes no header line through the API; we add the one its command writes.
std::string MapTsv(const std::string& tsv, const BoxMapper& map) {
  std::string out =
      "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\t"
      "conf\ttext\n";
  std::istringstream in(tsv);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    size_t start = 0;
    for (int i = 0; i < 11; ++i) {
      size_t tab = line.find('\t', start);
      if (tab == std::string::npos) break;
      cols.push_back(line.substr(start, tab - start));
      start = tab + 1;
    }
    if (cols.size() != 11) {
      out += line + "\n";
      continue;
    }
    const int left = std::stoi(cols[6]), top = std::stoi(cols[7]);
    PixelBox b = map(left, top, left + std::stoi(cols[8]), top + std::stoi(cols[9]));
    cols[6] = std::to_string(b.x);
    cols[7] = std::to_string(b.y);
    cols[8] = std::to_string(b.w);
    cols[9] = std::to_string(b.h);
    for (const auto& col : cols) out += col + "\t";
    out += line.substr(start) + "\n";
  }
  return out;
}

std::string TrimWord(const char* text) {
  std::string s = text ? text : "";
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n')) s.pop_back();
  return s;
}

// The text of `blocks` as Tesseract writes a page: words joined by spaces, each line ended
// by '\n', an empty line after each block.
std::string PageText(const std::vector<OcrBlock>& blocks) {
  std::string text;
  for (const OcrBlock& block : blocks) {
    bool any = false;
    for (const OcrLine& line : block.lines) {
      std::string joined;
      for (const OcrWord& word : line.words) {
        if (!joined.empty()) joined += ' ';
        joined += word.text;
      }
      if (joined.empty()) continue;
      text += joined + "\n";
      any = true;
    }
    if (any) text += "\n";
  }
  return text;
}

bool CancelPastDeadline(void* deadline, int /*words*/) {
  return Clock::now() > *static_cast<Clock::time_point*>(deadline);
}

void CheckDeadline(Clock::time_point deadline, std::string_view stage) {
  if (Clock::now() > deadline) {
    throw Error(ErrorCode::kDeadlineExceeded, "recognition did not finish within deadline_ms",
                "deadline passed before " + std::string(stage));
  }
}

// Tesseract's OSD on the prepared page: the clockwise rotation that makes it upright.
int DetectOrientation(tesseract::TessBaseAPI& osd, const Image& image) {
  cv::Mat grey;
  const cv::Mat& mat = MatOf(image);
  if (mat.channels() == 3) {
    cv::cvtColor(mat, grey, cv::COLOR_BGR2GRAY);
  } else {
    grey = mat;
  }
  if (!grey.isContinuous()) grey = grey.clone();
  osd.SetPageSegMode(tesseract::PSM_OSD_ONLY);
  osd.SetImage(grey.data, grey.cols, grey.rows, 1, static_cast<int>(grey.step));
  ClearOnExit clear(osd);
  int degrees = 0;
  float orient_conf = 0, script_conf = 0;
  const char* script = nullptr;
  if (!osd.DetectOrientationScript(&degrees, &orient_conf, &script, &script_conf)) return -1;
  // Tesseract reports the page's rotation counter-clockwise; below ~1.5 its guess is noise.
  if (orient_conf < 1.5f) return -1;
  return (360 - degrees) % 360;
}

bool HasAlnum(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

// Whether `text` is digits (with thousands commas) and `tail` follows, e.g. "35." or "1,200."
bool DigitsThen(std::string_view text, std::string_view tail) {
  if (text.size() <= tail.size() || text.substr(text.size() - tail.size()) != tail) return false;
  text.remove_suffix(tail.size());
  if (!std::isdigit(static_cast<unsigned char>(text.front()))) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0 || c == ',';
  });
}

bool TwoDigits(std::string_view text) {
  return text.size() == 2 && std::isdigit(static_cast<unsigned char>(text[0])) &&
         std::isdigit(static_cast<unsigned char>(text[1]));
}

// An amount split at its decimal point ("35." "00", "295" ".00"): fixed-pitch print gives
// the point a whole character cell, and the gap after it reads as a space.
bool SplitAmount(const OcrWord& a, const OcrWord& b, const OcrLine& line) {
  const int gap = b.box.x - (a.box.x + a.box.w);
  if (gap > line.box.h) return false;  // a real space in a column of figures is wider
  return (DigitsThen(a.text, ".") && TwoDigits(b.text)) ||
         (DigitsThen(a.text, "") && b.text.size() == 3 && b.text[0] == '.' &&
          TwoDigits(b.text.substr(1)));
}

}  // namespace

namespace detail {

PixelBox BoxMapper::operator()(int left, int top, int right, int bottom) const {
  return MapBox(m, dx, dy, left, top, right, bottom, page_w, page_h);
}

// `mat` (CV_8UC1, or CV_8UC3 in BGR) as the Leptonica image Tesseract works on: for colour,
// 32 bits a pixel with red in the high byte; for grey, 8 bits a pixel, four to a 32-bit word
// with the first in the high byte. TessBaseAPI's SetImage for a raw buffer builds the same
// image byte by byte; here OpenCV converts or copies whole rows into the words' memory order
// (RGBA; on a little-endian machine each word's bytes are then reversed), then TessBaseAPI's
// SetImage for a pix copies it. Same pixels, in 1.6 ms a receipt instead of 2.6 (with the
// conversion to RGB before; bench/micro/page_reading_benchmark). The one difference is the
// unused fourth byte of a colour pixel: 255 here, 0 there. Tesseract reads no alpha (its grey
// conversion weighs red, green and blue; its Otsu thresholds skip a channel of one value),
// and ocr_test checks that the text, words, boxes and confidences agree.
PixPtr PixForTesseract(const cv::Mat& mat) {
  const bool colour = mat.channels() == 3;
  PixPtr pix(pixCreate(mat.cols, mat.rows, colour ? 32 : 8));
  if (!pix) throw Error(ErrorCode::kInternal, "out of memory", "pixCreate failed");
  l_uint32* data = pixGetData(pix.get());
  cv::Mat words(mat.rows, mat.cols, colour ? CV_8UC4 : CV_8UC1, data,
                static_cast<size_t>(pixGetWpl(pix.get())) * 4);
  if (colour) {
    cv::cvtColor(mat, words, cv::COLOR_BGR2RGBA);
  } else {
    mat.copyTo(words);
  }
  if (words.data != reinterpret_cast<uchar*>(data)) {  // OpenCV wrote elsewhere: never expected
    throw Error(ErrorCode::kInternal, "internal error", "PixForTesseract: OpenCV reallocated");
  }
  pixEndianByteSwap(pix.get());  // a no-op on a big-endian machine
  return pix;
}

namespace {

// Tesseract's words, with the lines and blocks they begin, in reading order, boxes mapped to
// the input page. With `text`, `it` is an LTRResultIterator, the page's text is appended to
// `*text` as TessBaseAPI's GetUTF8Text writes it, and the walk stops,
// returning false, at the first word that reads right to left or mixes directions.
template <class Iterator>
bool CollectWords(Iterator& it, const BoxMapper& map, std::vector<OcrBlock>& blocks,
                  std::string* text) {
  bool text_block = true;  // not an image or a rule, whose words GetUTF8Text leaves out
  bool line_written = false;
  do {
    if (it.Empty(tesseract::RIL_WORD)) continue;
    const bool new_block = it.IsAtBeginningOf(tesseract::RIL_BLOCK) || blocks.empty();
    const bool new_line = it.IsAtBeginningOf(tesseract::RIL_TEXTLINE) || new_block;
    if (text) {
      const tesseract::StrongScriptDirection direction = it.WordDirection();
      if (direction == tesseract::DIR_RIGHT_TO_LEFT || direction == tesseract::DIR_MIX) {
        return false;
      }
      // Words joined by a space, each line ended by '\n', one more before a paragraph.
      if (new_line && line_written) {
        *text += '\n';
        if (it.IsAtBeginningOf(tesseract::RIL_PARA)) *text += '\n';
        line_written = false;
      }
      if (new_block) {
        const tesseract::PolyBlockType type = it.BlockType();
        text_block = !tesseract::PTIsImageType(type) && !tesseract::PTIsLineType(type);
      }
    }
    TessText word_text(it.GetUTF8Text(tesseract::RIL_WORD));
    if (text && text_block) {
      if (line_written) *text += ' ';
      if (word_text) *text += word_text.get();
      line_written = true;
    }
    OcrWord word;
    word.text = TrimWord(word_text.get());
    word.confidence = it.Confidence(tesseract::RIL_WORD);
    int l, t, r, b;
    if (it.BoundingBox(tesseract::RIL_WORD, &l, &t, &r, &b)) word.box = map(l, t, r, b);
    if (new_block) {
      OcrBlock block;
      if (it.BoundingBox(tesseract::RIL_BLOCK, &l, &t, &r, &b)) block.box = map(l, t, r, b);
      blocks.push_back(std::move(block));
    }
    auto& lines = blocks.back().lines;
    if (new_line) {
      OcrLine line;
      line.confidence = it.Confidence(tesseract::RIL_TEXTLINE);
      if (it.BoundingBox(tesseract::RIL_TEXTLINE, &l, &t, &r, &b)) line.box = map(l, t, r, b);
      lines.push_back(std::move(line));
    }
    lines.back().words.push_back(std::move(word));
  } while (it.Next(tesseract::RIL_WORD));
  if (line_written) *text += '\n';
  return true;
}

}  // namespace

// Tesseract's ResultIterator, which GetUTF8Text walks too, orders the words of a line for
// reading when scripts of both directions meet, and pays for that on every step: each Next
// and IsAtBeginningOf works the order of the whole line out again. When no word on the page
// reads right to left or mixes directions, every paragraph is left to right and the reading
// order is the order on the page, which an LTRResultIterator walks directly, once, for the
// words and the text: the same words, boxes, confidences and text (the ResultIterator adds
// direction marks only beside right-to-left or mixed words; ocr_test compares both with
// Tesseract's own). On the receipts, 0.6 ms a page instead of 10.9
// (bench/micro/page_reading_benchmark).
bool ReadPageInPageOrder(tesseract::TessBaseAPI& api, const BoxMapper& map, OcrPage& page) {
  page.blocks.clear();
  page.text.clear();
  std::unique_ptr<tesseract::ResultIterator> it(api.GetIterator());
  if (!it) return true;
  tesseract::LTRResultIterator page_order(*it);  // at the same first word
  if (CollectWords(page_order, map, page.blocks, &page.text)) return true;
  page.blocks.clear();
  page.text.clear();
  return false;
}

void ReadPageInReadingOrder(tesseract::TessBaseAPI& api, const BoxMapper& map, OcrPage& page) {
  page.blocks.clear();
  TessText text(api.GetUTF8Text());
  page.text = text ? text.get() : "";
  std::unique_ptr<tesseract::ResultIterator> it(api.GetIterator());
  if (it) CollectWords(*it, map, page.blocks, nullptr);
}

}  // namespace detail

bool TidyWords(std::vector<OcrBlock>& blocks) {
  bool changed = false;
  for (OcrBlock& block : blocks) {
    for (OcrLine& line : block.lines) {
      std::vector<OcrWord> kept;
      for (OcrWord& word : line.words) {
        if (word.confidence < kMarkConfidence && !HasAlnum(word.text)) {
          changed = true;
          continue;
        }
        if (!kept.empty() && SplitAmount(kept.back(), word, line)) {
          OcrWord& a = kept.back();
          const int right = std::max(a.box.x + a.box.w, word.box.x + word.box.w);
          const int bottom = std::max(a.box.y + a.box.h, word.box.y + word.box.h);
          a.box.x = std::min(a.box.x, word.box.x);
          a.box.y = std::min(a.box.y, word.box.y);
          a.box.w = right - a.box.x;
          a.box.h = bottom - a.box.y;
          a.text += word.text;
          a.confidence = std::min(a.confidence, word.confidence);
          changed = true;
          continue;
        }
        kept.push_back(std::move(word));
      }
      line.words = std::move(kept);
    }
    std::erase_if(block.lines, [](const OcrLine& line) { return line.words.empty(); });
  }
  std::erase_if(blocks, [](const OcrBlock& block) { return block.lines.empty(); });
  return changed;
}

OcrPage Recognize(OcrEngines& engines, const Image& image, const OcrOptions& options) {
  const auto deadline = options.deadline_ms > 0
                            ? Clock::now() + std::chrono::milliseconds(options.deadline_ms)
                            : Clock::time_point::max();
  return Recognize(engines, image, options, deadline);
}

OcrPage Recognize(OcrEngines& engines, const Image& image, const OcrOptions& options,
                  Clock::time_point deadline, int page_index) {
  if (options.psm < 1 || options.psm > 13) {
    throw InvalidOption("psm", options.psm == 0
                                   ? "0 (orientation only) gives no text; use preprocess=orient"
                                   : "must be 1..13");
  }
  const std::string lang = engines.CheckLanguages(options.lang);
  if (image.empty()) throw Error(ErrorCode::kCorruptImage, "the image has no pixels");

  OcrPage page;
  page.width = image.width();
  page.height = image.height();

  cv::Rect region(0, 0, image.width(), image.height());
  Image input = image;
  if (options.roi) {
    region = RoiRect(*options.roi, image.width(), image.height());
    input = ImageFromMat(MatOf(image)(region));
  }

  auto start = Clock::now();
  OrientationDetector detect;
  if (engines.HasOrientationData()) {
    OcrEngines::Impl& impl = engines.impl();
    detect = [&impl](const Image& img) { return DetectOrientation(impl.Osd(), img); };
  }
  CheckDeadline(deadline, "preprocessing");
  PreparedImage prepared = Preprocess(input, options.preprocess, detect);
  page.preprocess_applied = prepared.applied;
  page.timings.push_back({"preprocess", MsSince(start)});
  CheckDeadline(deadline, "recognition");

  start = Clock::now();
  tesseract::TessBaseAPI& api = engines.impl().Acquire(lang);
  api.SetPageSegMode(static_cast<tesseract::PageSegMode>(options.psm));
  api.SetImage(detail::PixForTesseract(MatOf(prepared.image)).get());  // Tesseract keeps a copy
  if (prepared.resolution > 0) api.SetSourceResolution(prepared.resolution);
  ClearOnExit clear(api);
  PrepareTesseractThread();

  tesseract::ETEXT_DESC monitor;
  Clock::time_point cancel_at = deadline;
  monitor.cancel = &CancelPastDeadline;
  monitor.cancel_this = &cancel_at;
  const int rc = api.Recognize(&monitor);
  if (rc != 0) {
    CheckDeadline(deadline, "results");
    throw Error(ErrorCode::kInternal, "recognition failed",
                "TessBaseAPI::Recognize returned " + std::to_string(rc));
  }
  CheckDeadline(deadline, "results");

  const detail::BoxMapper map{prepared.to_input, region.x, region.y, page.width, page.height};
  if (!detail::ReadPageInPageOrder(api, map, page)) {
    ++pages_walked_in_reading_order;
    detail::ReadPageInReadingOrder(api, map, page);
  }
  if (options.preprocess.mode == PreprocessOptions::Mode::kAuto && TidyWords(page.blocks)) {
    page.text = PageText(page.blocks);
  }
  double conf_sum = 0;
  for (OcrBlock& block : page.blocks) {
    for (OcrLine& line : block.lines) {
      for (const OcrWord& word : line.words) {
        ++page.word_count;
        conf_sum += word.confidence;
        if (!line.text.empty()) line.text += ' ';
        line.text += word.text;
      }
      if (options.level != OcrLevel::kWords) line.words.clear();
    }
  }
  if (options.level == OcrLevel::kText) page.blocks.clear();
  page.mean_confidence = page.word_count ? static_cast<float>(conf_sum / page.word_count) : 0;

  if (options.hocr) {
    TessText hocr(api.GetHOCRText(page_index));
    page.hocr = MapHocr(hocr ? hocr.get() : "", map);
  }
  if (options.tsv) {
    TessText tsv(api.GetTSVText(page_index));
    page.tsv = MapTsv(tsv ? tsv.get() : "", map);
  }
  page.timings.push_back({"recognise", MsSince(start)});
  return page;
}

OcrDocument RecognizeDocument(OcrEngines& engines, std::string_view bytes,
                              const ImageLimits& limits, const OcrOptions& options,
                              std::string_view sha256) {
  const auto start = Clock::now();
  const auto deadline = options.deadline_ms > 0
                            ? start + std::chrono::milliseconds(options.deadline_ms)
                            : Clock::time_point::max();
  // Options are checked before any decoding, so a bad option is reported as such even for
  // a bad image.
  engines.CheckLanguages(options.lang);

  OcrDocument doc;
  doc.bytes = static_cast<int64_t>(bytes.size());
  doc.sha256 = sha256.empty() ? Sha256Hex(bytes) : std::string(sha256);
  std::vector<Image> pages = DecodeImage(bytes, limits, &doc.info);
  const double decode_ms = MsSince(start);

  double preprocess_ms = 0, recognise_ms = 0;
  for (size_t i = 0; i < pages.size(); ++i) {
    OcrPage page = Recognize(engines, pages[i], options, deadline, static_cast<int>(i));
    for (const auto& t : page.timings) {
      if (t.stage == "preprocess") preprocess_ms += t.ms;
      if (t.stage == "recognise") recognise_ms += t.ms;
    }
    doc.pages.push_back(std::move(page));
  }
  doc.images = std::move(pages);
  doc.timings = {{"decode", decode_ms},
                 {"preprocess", preprocess_ms},
                 {"recognise", recognise_ms},
                 {"total", MsSince(start)}};
  return doc;
}

}  // namespace scanline
