// Text recognition with warm Tesseract engines.
//
// Initialising Tesseract costs 130-260 ms per language set; recognising a page 0.25-0.5 s.
// A worker therefore keeps initialised engines (OcrEngines), one per language set, and only
// clears results between images. Recognize() is the one entry point: it crops the region of
// interest, prepares the page (core/preprocess.h), runs Tesseract under a deadline, and
// returns words, lines and blocks with boxes in the input image's pixels.
//
// Tesseract's types stay in core/ocr.cc: nothing here names them.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/image.h"
#include "core/preprocess.h"
#include "core/request_log.h"  // StageTiming

namespace scanline {

// Must run in main() before any thread starts and before Tesseract is first used: makes
// Tesseract's OpenMP code run on one thread (OMP_THREAD_LIMIT=1 for this process and its
// children, and OpenMP's parallel regions switched off in case the runtime already read its
// environment). One thread per engine is several times faster for one page at a time. Also
// has malloc keep freed memory for the next page instead of returning and faulting it in
// again (half a worker's page faults), Tesseract's own images stored uncompressed
// (StoreTesseractImagesUncompressed), and its OpenMP regions run inline
// (RunOpenMpRegionsInline).
void PrepareTesseractProcess();

// Whether Tesseract's line and word images, which it keeps as PNG between its layout analysis
// and its recogniser, are stored as they are, their pixels copied in Leptonica's serialised
// form (on), or compressed as PNG at zlib's default level as Leptonica does (off, until
// PrepareTesseractProcess). Lossless either way, so every result is the same; on,
// recognition takes about an eighth less CPU time. Process-wide, and it reaches every caller
// of Leptonica's pixWriteMem that writes PNG without choosing a level (Tesseract is the only
// one in scanline's programs). For benchmarks that compare against Tesseract as installed.
void StoreTesseractImagesUncompressed(bool on);

// How many images asked for as PNG have been stored uncompressed so far in this process
// (for tests).
uint64_t TesseractImagesStoredUncompressed();

// Whether the OpenMP parallel regions in Tesseract's code run inline on the calling thread
// (on) or each in a team of libgomp's (off, until PrepareTesseractProcess). With one thread
// per engine a team has one thread anyway, and setting it up and ending it costs Tesseract's
// LSTM, which enters a region for every step of every line, about a fifth of its time. The
// same code runs in the same order either way, so every result is the same. Process-wide;
// for benchmarks that compare against Tesseract as installed.
void RunOpenMpRegionsInline(bool on);

// How many parallel regions have run inline so far on the calling thread (for tests).
uint64_t OpenMpRegionsRunInline();

// How many pages on the calling thread had a word that reads right to left or mixes
// directions, so that their words and text were put in reading order by Tesseract's
// ResultIterator (for tests). Other pages are read once in the order their words stand on
// the page, which is then the reading order.
uint64_t PagesWalkedInReadingOrder();

// Tesseract's OpenMP code run on the calling thread only (OpenMP's parallel regions switched
// off for it; libgomp keeps this per thread). Recognition calls it on the thread it runs on;
// a program that calls Tesseract itself on threads of its own calls it on each. Cheap after
// the first call on a thread.
void PrepareTesseractThread();

// A pixel rectangle: x, y of the top-left corner, width and height.
struct PixelBox {
  int x = 0;
  int y = 0;
  int w = 0;
  int h = 0;
  friend bool operator==(const PixelBox&, const PixelBox&) = default;
};

// A region of interest: pixels, or fractions (0..1) of the image's width and height.
struct Roi {
  double x = 0;
  double y = 0;
  double w = 0;
  double h = 0;
  bool fractional = false;
};

enum class OcrLevel {
  kText,   // page text only
  kLines,  // blocks and lines with boxes and confidences
  kWords,  // blocks, lines and words
};

struct OcrOptions {
  std::string lang = "eng";  // installed traineddata codes joined by '+': "eng+deu"
  int psm = 4;               // Tesseract page segmentation mode 1..13
  std::optional<Roi> roi;    // read only this region
  PreprocessOptions preprocess;
  OcrLevel level = OcrLevel::kWords;
  bool hocr = false;    // also render hOCR
  bool tsv = false;     // also render TSV
  int deadline_ms = 0;  // budget for the whole call, from its start; 0 = none
};

struct OcrWord {
  std::string text;
  float confidence = 0;  // 0..100
  PixelBox box;
};

struct OcrLine {
  std::string text;  // the words joined by single spaces
  float confidence = 0;
  PixelBox box;
  std::vector<OcrWord> words;  // empty unless level is kWords
};

struct OcrBlock {
  PixelBox box;
  std::vector<OcrLine> lines;
};

// One page's result. Boxes are in the pixels of the decoded input page (before ROI cropping
// and preprocessing).
struct OcrPage {
  int width = 0;  // of the input page, pixels
  int height = 0;
  std::string text;           // Tesseract's page text (lines end with '\n')
  float mean_confidence = 0;  // mean of word confidences, 0..100; 0 when no word
  int word_count = 0;
  std::vector<OcrBlock> blocks;                 // empty when level is kText
  std::string hocr;                             // when options.hocr; bbox values in input pixels
  std::string tsv;                              // when options.tsv; boxes in input pixels
  std::vector<std::string> preprocess_applied;  // e.g. {"grey", "upscale:1.50"}
  std::vector<StageTiming> timings;             // "preprocess", "recognise" (ms)
};

// Per-worker cache of initialised Tesseract engines, least recently used first out. Not
// thread-safe: one per worker process (or per thread). Language sets are validated against
// the traineddata files in the tessdata directory.
class OcrEngines {
 public:
  // `tessdata_dir`: as resolved by TessdataDir() (core/tessdata.h). `max_engines`: language
  // sets kept initialised (>= 1); the osd engine is kept apart and not counted.
  explicit OcrEngines(std::string tessdata_dir, int max_engines = 4);
  ~OcrEngines();
  OcrEngines(const OcrEngines&) = delete;
  OcrEngines& operator=(const OcrEngines&) = delete;

  // Normalises and validates a language set ("eng+deu"): every part must be installed, no
  // part twice. Returns it as given, trimmed. Throws InvalidOption("lang", "... installed:
  // chi_sim, deu, eng, ...") otherwise.
  std::string CheckLanguages(std::string_view lang) const;

  // Initialises the engine for a language set now (at worker start), so the first request
  // does not pay for it. Throws like CheckLanguages, or Error(kInternal) if Init fails.
  void Preload(std::string_view lang);

  // Whether osd.traineddata is installed (the orient step needs it).
  bool HasOrientationData() const;

  const std::string& tessdata_dir() const;
  const std::vector<std::string>& installed() const;  // sorted language codes
  int initialised_engines() const;                    // language sets now warm
  int64_t engine_inits() const;                       // Init calls since construction

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Recognises one page. Validates options (lang, psm 0..13, roi inside the image) and throws
// InvalidOption naming the option; Error(kDeadlineExceeded) when options.deadline_ms passes
// (recognition is cancelled through Tesseract's progress monitor); Error(kInternal) when
// Tesseract fails. psm 0 (orientation only) is refused: use the orient step.
// With preprocess=auto, Tesseract is also told the resolution the measured character height
// implies, and the words are tidied: words without a letter or digit read with confidence
// below 30 are dropped, and an amount split at its decimal point ("35." "00") is joined into
// one word; `text` follows the words, `hocr` and `tsv` are Tesseract's untidied output.
OcrPage Recognize(OcrEngines& engines, const Image& image, const OcrOptions& options);

// The same with an absolute deadline (steady clock), for callers spreading one budget over
// several pages (time_point::max() = none), and the page's index in its document (for the
// page numbers of hOCR and TSV).
OcrPage Recognize(OcrEngines& engines, const Image& image, const OcrOptions& options,
                  std::chrono::steady_clock::time_point deadline, int page_index = 0);

// What preprocess=auto does to the words after recognition: drops the marks Tesseract read
// with less than 30 confidence that hold no letter or digit (its guesses at rules, barcodes
// and specks), and joins an amount that fixed-pitch print splits at its decimal point ("35."
// "00", "295" ".00", no wider apart than the line is high) into one word with both boxes.
// Lines and blocks left without words go. Returns whether anything changed. Lines' `text` is
// not touched (Recognize builds it from the words afterwards).
bool TidyWords(std::vector<OcrBlock>& blocks);

struct OcrConfig;
// The engines a worker keeps, from the configuration: ocr.tessdata_dir, ocr.max_engines,
// and every language set of ocr.preload_langs initialised now. Throws Error(kInternal) when a
// preloaded set cannot be initialised.
std::unique_ptr<OcrEngines> MakeOcrEngines(const OcrConfig& config);

// A whole input (one or more pages) from its bytes.
struct OcrDocument {
  ImageInfo info;
  std::string sha256;  // hex, of the bytes
  int64_t bytes = 0;
  std::vector<OcrPage> pages;
  std::vector<StageTiming> timings;  // "decode", "preprocess", "recognise", "total" (ms)
  std::vector<Image> images;         // the decoded pages (shared pixels), for a second look
};

// Decodes (core/image.h, with its limits and errors), then recognises every page within one
// deadline of options.deadline_ms from the call's start. `sha256`: the bytes' SHA-256 in
// lower-case hex when the caller already has it (RequestBody::image_sha256), else empty and
// computed here.
OcrDocument RecognizeDocument(OcrEngines& engines, std::string_view bytes,
                              const ImageLimits& limits, const OcrOptions& options,
                              std::string_view sha256 = {});

}  // namespace scanline
