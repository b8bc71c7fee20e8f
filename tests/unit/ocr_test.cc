// Recognition on pages with known text (rendered by text2image, then scaled, turned, spoiled):
// character error rates asserted per condition, regions, boxes in input pixels, the
// deadline, warm engines, hOCR/TSV coordinates and whole documents (multi-page TIFF, PDF).
#include "core/ocr.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <leptonica/allheaders.h>
#include <tesseract/baseapi.h>
#include <tesseract/resultiterator.h>

#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "core/detail/image_mat.h"
#include "core/error.h"
#include "core/tessdata.h"
#include "tests/unit/text_images.h"

// libgomp's entry point, which core/ocr.cc defines before libgomp does.
extern "C" void GOMP_parallel_sections(void (*fn)(void*), void* data, unsigned num_threads,
                                       unsigned count, unsigned flags);

namespace scanline {
namespace {

using testing::Cer;
using testing::Dotted;
using testing::Encode;
using testing::MultipageTiff;
using testing::Noisy;
using testing::PdfOfPages;
using testing::RenderText;
using testing::Scaled;
using testing::Shaded;
using testing::Skewed;

const std::string kData = SCANLINE_SOURCE_DIR "/../shared/data";

const char kText[] =
    "Invoice 2024-0117 from Northwind Traders\n"
    "Total due: 1,284.50 EUR by 15 March\n"
    "The quick brown fox jumps over the lazy dog.\n";

class OcrTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PrepareTesseractProcess();
    engines_ = new OcrEngines(TessdataDir(""), 3);
    engines_->Preload("eng");
  }
  static void TearDownTestSuite() {
    delete engines_;
    engines_ = nullptr;
  }

  static OcrPage Read(const cv::Mat& page, const std::string& preprocess = "auto", int psm = 6) {
    OcrOptions options;
    options.psm = psm;
    options.preprocess = ParsePreprocess(preprocess);
    return Recognize(*engines_, ImageFromMat(page), options);
  }

  static const OcrWord* FindWord(const OcrPage& page, const std::string& text) {
    for (const auto& block : page.blocks) {
      for (const auto& line : block.lines) {
        for (const auto& word : line.words) {
          if (word.text == text) return &word;
        }
      }
    }
    return nullptr;
  }

 public:
  // Every word of a page, in reading order.
  static std::vector<OcrWord> Words(const OcrPage& page) {
    std::vector<OcrWord> words;
    for (const auto& block : page.blocks) {
      for (const auto& line : block.lines)
        words.insert(words.end(), line.words.begin(), line.words.end());
    }
    return words;
  }

 protected:
  // The same text, words, boxes and confidences.
  static void ExpectSameResult(const OcrPage& a, const OcrPage& b) {
    EXPECT_EQ(a.text, b.text);
    const std::vector<OcrWord> x = Words(a), y = Words(b);
    ASSERT_EQ(x.size(), y.size());
    EXPECT_GT(x.size(), 10u);
    for (size_t i = 0; i < x.size(); ++i) {
      EXPECT_EQ(x[i].text, y[i].text);
      EXPECT_EQ(x[i].box, y[i].box);
      EXPECT_EQ(x[i].confidence, y[i].confidence);
    }
  }

  static OcrEngines* engines_;
};

OcrEngines* OcrTest::engines_ = nullptr;

TEST_F(OcrTest, ReadsCleanTextAtSeveralSizes) {
  const cv::Mat page = RenderText(kText, 12, 300);
  ASSERT_FALSE(page.empty()) << "text2image (package tesseract-ocr) did not render";
  // 300, 150 and 100 dpi equivalents.
  EXPECT_LT(Cer(kText, Read(page).text), 0.02);
  EXPECT_LT(Cer(kText, Read(Scaled(page, 0.5)).text), 0.03);
  const OcrPage small = Read(Scaled(page, 0.33));
  EXPECT_LT(Cer(kText, small.text), 0.05) << small.text;
  EXPECT_EQ(small.preprocess_applied.at(1).rfind("upscale:", 0), 0u);
}

// libgomp keeps OpenMP's nesting limit per thread: recognition on a thread of the caller's
// own must still run Tesseract's parallel regions on that thread alone (two engines on two
// threads otherwise each start a team of spinning OpenMP threads and run several times
// slower).
TEST_F(OcrTest, RecognitionOnAnyThreadKeepsOpenMpToThatThread) {
  using GetLevels = int (*)();
  const auto get_levels =
      reinterpret_cast<GetLevels>(dlsym(RTLD_DEFAULT, "omp_get_max_active_levels"));
  if (get_levels == nullptr) GTEST_SKIP() << "Tesseract is built without OpenMP";
  const cv::Mat page = RenderText("Total due 1,284.50 EUR", 12, 300);
  ASSERT_FALSE(page.empty());
  int levels_before = -1, levels_after = -1;
  std::string text;
  std::thread([&] {
    levels_before = get_levels();
    text = Read(page).text;
    levels_after = get_levels();
  }).join();
  EXPECT_GT(levels_before, 0);  // a new thread starts with OpenMP's default
  EXPECT_EQ(levels_after, 0);
  EXPECT_NE(text.find("1,284.50"), std::string::npos) << text;
}

// Tesseract keeps its line and word images as PNG (see StoreTesseractImagesUncompressed):
// the pixWriteMem libtesseract binds to is ours; on (as PrepareTesseractProcess leaves it),
// it stores an image asked for as PNG as Leptonica's serialised pixels, uncompressed; off,
// or for an image whose caller chose a level, Leptonica compresses it as PNG as it always
// does; and every image, of every depth, reads back the same through pixReadMem.
TEST_F(OcrTest, TesseractsImagesAreStoredUncompressed) {
  EXPECT_EQ(dlsym(RTLD_DEFAULT, "pixWriteMem"), reinterpret_cast<void*>(&pixWriteMem));
  constexpr int kWidth = 400, kHeight = 200;
  Pix* pix = pixCreate(kWidth, kHeight, 8);
  pixSetAll(pix);  // white, with a black bar: compresses to almost nothing
  Box* bar = boxCreate(50, 80, 300, 40);
  pixClearInRect(pix, bar);
  // The bytes `image` is stored as when asked for as PNG, after checking it reads back the same.
  auto stored = [](Pix* image) {
    l_uint8* data = nullptr;
    size_t size = 0;
    EXPECT_EQ(pixWriteMem(&data, &size, image, IFF_PNG), 0);
    Pix* back = pixReadMem(data, size);
    l_int32 same = 0;
    pixEqual(image, back, &same);
    EXPECT_TRUE(same);
    pixDestroy(&back);
    std::string bytes(reinterpret_cast<const char*>(data), size);
    lept_free(data);
    return bytes;
  };
  const std::string png_signature = "\x89PNG";
  auto is_png = [&](const std::string& bytes) { return bytes.rfind(png_signature, 0) == 0; };
  auto is_spix = [](const std::string& bytes) { return bytes.rfind("spix", 0) == 0; };
  auto is_raw = [&](const std::string& bytes) {  // the 8-bit page, every pixel a byte
    return is_spix(bytes) && bytes.size() >= size_t{kWidth} * kHeight;
  };
  EXPECT_TRUE(is_raw(stored(pix)));  // as PrepareTesseractProcess left it
  StoreTesseractImagesUncompressed(false);
  const std::string compressed = stored(pix);
  EXPECT_TRUE(is_png(compressed));
  EXPECT_LT(compressed.size(), size_t{kWidth} * kHeight / 20);
  StoreTesseractImagesUncompressed(true);
  EXPECT_TRUE(is_raw(stored(pix)));
  // Every depth Tesseract could hand over: binary, and colour with the black bar.
  Pix* binary = pixConvertTo1(pix, 128);
  Pix* colour = pixConvertTo32(pix);
  EXPECT_TRUE(is_spix(stored(binary)));
  EXPECT_TRUE(is_spix(stored(colour)));
  pixDestroy(&binary);
  pixDestroy(&colour);
  pixSetZlibCompression(pix, 9);
  const std::string chosen = stored(pix);
  EXPECT_TRUE(is_png(chosen));
  EXPECT_LT(chosen.size(), size_t{kWidth} * kHeight / 20);
  EXPECT_EQ(pix->special, 19);  // the caller's choice is left as it was
  boxDestroy(&bar);
  pixDestroy(&pix);
}

// Recognition goes through the stored images (Tesseract calls our pixWriteMem for each line
// it reads), and reads the same words, boxes and confidences either way.
TEST_F(OcrTest, StoringTesseractsImagesUncompressedChangesNoResult) {
  const cv::Mat page = Scaled(RenderText(kText, 12, 300), 0.5);
  ASSERT_FALSE(page.empty());
  StoreTesseractImagesUncompressed(false);
  uint64_t stored_before = TesseractImagesStoredUncompressed();
  const OcrPage compressed = Read(page, "none");
  EXPECT_EQ(TesseractImagesStoredUncompressed(), stored_before);
  StoreTesseractImagesUncompressed(true);
  stored_before = TesseractImagesStoredUncompressed();
  const OcrPage stored = Read(page, "none");
  size_t lines = 0;
  for (const auto& block : stored.blocks) lines += block.lines.size();
  EXPECT_GE(lines, 3u);
  EXPECT_GE(TesseractImagesStoredUncompressed() - stored_before, lines);  // one per line at least
  ExpectSameResult(compressed, stored);
}

// Tesseract's OpenMP regions (see RunOpenMpRegionsInline): libtesseract calls our entry
// points; on, as PrepareTesseractProcess leaves it, its LSTM's regions run inline, many a line;
// off, libgomp runs every one; and the words, boxes and confidences are the same either way.
TEST_F(OcrTest, TesseractsOpenMpRegionsRunInlineAndChangeNoResult) {
  EXPECT_EQ(dlsym(RTLD_DEFAULT, "GOMP_parallel_sections"),
            reinterpret_cast<void*>(&GOMP_parallel_sections));
  const cv::Mat page = Scaled(RenderText(kText, 12, 300), 0.5);
  ASSERT_FALSE(page.empty());
  RunOpenMpRegionsInline(false);
  uint64_t before = OpenMpRegionsRunInline();
  const OcrPage in_teams = Read(page, "none");
  EXPECT_EQ(OpenMpRegionsRunInline(), before);
  RunOpenMpRegionsInline(true);
  before = OpenMpRegionsRunInline();
  const OcrPage inline_ = Read(page, "none");
  EXPECT_GT(OpenMpRegionsRunInline() - before, 1000u);  // a region per step of each line
  ExpectSameResult(in_teams, inline_);
}

TEST_F(OcrTest, UpscalingRescuesTinyText) {
  // About 60 dpi: lower-case letters some 6 pixels tall.
  const cv::Mat tiny = Scaled(RenderText(kText, 12, 300), 0.2);
  const double none = Cer(kText, Read(tiny, "none").text);
  const double prepared = Cer(kText, Read(tiny, "auto").text);
  EXPECT_LT(prepared, 0.12);
  EXPECT_LT(prepared, none);
}

TEST_F(OcrTest, ReadsSkewedPages) {
  const cv::Mat page = Scaled(RenderText(kText, 12, 300), 0.5);
  for (double degrees : {3.0, -5.0, 8.0}) {
    const OcrPage read = Read(Skewed(page, degrees));
    EXPECT_LT(Cer(kText, read.text), 0.05) << degrees << ": " << read.text;
  }
}

TEST_F(OcrTest, ReadsNoisyAndShadedPages) {
  const cv::Mat page = Scaled(RenderText(kText, 12, 300), 0.5);
  const OcrPage noisy = Read(Noisy(page, 0.004, 25));
  EXPECT_LT(Cer(kText, noisy.text), 0.08) << noisy.text;
  const OcrPage shaded = Read(Shaded(page, 245, 95));
  EXPECT_LT(Cer(kText, shaded.text), 0.05) << shaded.text;
}

TEST_F(OcrTest, ReadsDotMatrixPrint) {
  const cv::Mat page = Dotted(RenderText(kText, 12, 300), 4, 2);
  const OcrPage none = Read(page, "none", 4);
  const OcrPage prepared = Read(page, "auto", 4);
  EXPECT_LT(Cer(kText, prepared.text), 0.15) << prepared.text;
  EXPECT_LT(Cer(kText, prepared.text), Cer(kText, none.text)) << none.text;
  EXPECT_EQ(prepared.preprocess_applied.back().rfind("join:", 0), 0u);
}

// Fixed-pitch print gives a decimal point a whole character cell; the gap after it is read
// as a space. auto joins the amount again; a real gap between figures stays.
TEST_F(OcrTest, AutoJoinsAmountsSplitAtTheDecimalPoint) {
  const cv::Mat page = RenderText("Total due 35. 00\nCash 50.00          15\n", 12, 300);
  const OcrPage none = Read(page, "none", 4);
  EXPECT_EQ(FindWord(none, "35.00"), nullptr) << none.text;
  const OcrPage prepared = Read(page, "auto", 4);
  const OcrWord* joined = FindWord(prepared, "35.00");
  ASSERT_NE(joined, nullptr) << prepared.text;
  EXPECT_NE(prepared.text.find("35.00"), std::string::npos);
  // Its box covers both halves: wider than a single "50.00".
  const OcrWord* whole = FindWord(prepared, "50.00");
  ASSERT_NE(whole, nullptr) << prepared.text;
  EXPECT_GT(joined->box.w, whole->box.w);
  EXPECT_NE(FindWord(prepared, "15"), nullptr) << prepared.text;
}

TEST_F(OcrTest, TurnsPagesUprightWithOrientationData) {
  if (!engines_->HasOrientationData()) GTEST_SKIP() << "osd.traineddata not installed";
  std::string text;
  for (int i = 0; i < 3; ++i) text += kText;
  const cv::Mat page = Scaled(RenderText(text, 12, 300), 0.5);
  cv::Mat turned;
  cv::rotate(page, turned, cv::ROTATE_90_COUNTERCLOCKWISE);
  const OcrPage read = Read(turned);
  EXPECT_LT(Cer(text, read.text), 0.05) << read.text;
  // The same with the step named: upside down.
  cv::rotate(page, turned, cv::ROTATE_180);
  const OcrPage flipped = Read(turned, "grey,orient");
  EXPECT_EQ(flipped.preprocess_applied.back(), "orient:180");
  EXPECT_LT(Cer(text, flipped.text), 0.05) << flipped.text;
}

TEST_F(OcrTest, RoiReadsOnlyTheRegionWithBoxesInPagePixels) {
  const cv::Mat page = Scaled(RenderText(kText, 12, 300), 0.5);
  // The first line is in the top third of the page.
  OcrOptions options;
  options.roi = Roi{0, 0, 1.0, 0.36, true};
  const OcrPage read = Recognize(*engines_, ImageFromMat(page), options);
  EXPECT_NE(read.text.find("Northwind"), std::string::npos) << read.text;
  EXPECT_EQ(read.text.find("quick"), std::string::npos) << read.text;
  EXPECT_EQ(read.width, page.cols);
  // A region lower down: its words' boxes lie inside it, in the page's pixels.
  const int half = page.rows / 2;  // a whole row
  options.roi = Roi{0, static_cast<double>(half), static_cast<double>(page.cols),
                    static_cast<double>(page.rows - half), false};
  const OcrPage lower = Recognize(*engines_, ImageFromMat(page), options);
  const OcrWord* fox = FindWord(lower, "fox");
  ASSERT_NE(fox, nullptr) << lower.text;
  EXPECT_GE(fox->box.y, half);
  EXPECT_EQ(lower.text.find("Invoice"), std::string::npos);
  // Outside the page: refused, naming the option.
  options.roi = Roi{static_cast<double>(page.cols + 5), 0, 10, 10, false};
  try {
    Recognize(*engines_, ImageFromMat(page), options);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidOption);
    EXPECT_NE(std::string(e.detail()).find("roi"), std::string::npos);
  }
}

TEST_F(OcrTest, BoxesAreInInputPixelsWhateverThePreparation) {
  const cv::Mat page = Scaled(RenderText(kText, 12, 300), 0.3);
  const OcrPage plain = Read(page, "none");
  const OcrPage prepared = Read(page, "grey,border,upscale,binarise");
  ASSERT_GT(prepared.preprocess_applied.size(), 2u);
  for (const char* word : {"Northwind", "quick", "lazy"}) {
    const OcrWord* a = FindWord(plain, word);
    const OcrWord* b = FindWord(prepared, word);
    ASSERT_TRUE(a && b) << word << "\n" << plain.text << "\n" << prepared.text;
    EXPECT_NEAR(a->box.x, b->box.x, 3) << word;
    EXPECT_NEAR(a->box.y, b->box.y, 3) << word;
    EXPECT_NEAR(a->box.w, b->box.w, 4) << word;
    EXPECT_NEAR(a->box.h, b->box.h, 4) << word;
  }
}

TEST_F(OcrTest, HocrAndTsvUseTheSameCoordinates) {
  const cv::Mat page = Scaled(RenderText(kText, 12, 300), 0.3);
  OcrOptions options;
  options.preprocess = ParsePreprocess("grey,upscale");
  options.hocr = true;
  options.tsv = true;
  const OcrPage read = Recognize(*engines_, ImageFromMat(page), options);
  const OcrWord* quick = FindWord(read, "quick");
  ASSERT_NE(quick, nullptr);
  const std::string bbox = "bbox " + std::to_string(quick->box.x) + " " +
                           std::to_string(quick->box.y) + " " +
                           std::to_string(quick->box.x + quick->box.w) + " " +
                           std::to_string(quick->box.y + quick->box.h);
  EXPECT_NE(read.hocr.find(bbox), std::string::npos) << bbox << "\n" << read.hocr;
  const std::string row = std::to_string(quick->box.x) + "\t" + std::to_string(quick->box.y) +
                          "\t" + std::to_string(quick->box.w) + "\t" +
                          std::to_string(quick->box.h) + "\t";
  EXPECT_NE(read.tsv.find(row), std::string::npos) << row << "\n" << read.tsv;
  EXPECT_EQ(read.tsv.rfind("level\tpage_num", 0), 0u);
}

TEST_F(OcrTest, DeadlineCancelsRecognition) {
  std::string text;
  for (int i = 0; i < 12; ++i) text += kText;
  const cv::Mat page = RenderText(text, 12, 300);
  OcrOptions options;
  options.deadline_ms = 30;
  const auto start = std::chrono::steady_clock::now();
  try {
    Recognize(*engines_, ImageFromMat(page), options);
    FAIL() << "finished within 30 ms";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kDeadlineExceeded);
  }
  // Cancelled, not run to the end (a full read of this page takes seconds).
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
  // The engine is usable afterwards.
  EXPECT_LT(Cer(kText, Read(Scaled(RenderText(kText, 12, 300), 0.5)).text), 0.03);
}

TEST_F(OcrTest, RefusesUnknownLanguagesAndOrientationOnlyMode) {
  const cv::Mat page = Scaled(RenderText(kText, 12, 300), 0.5);
  OcrOptions options;
  options.lang = "xyz";
  try {
    Recognize(*engines_, ImageFromMat(page), options);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidOption);
    const std::string detail(e.detail());
    EXPECT_NE(detail.find("lang"), std::string::npos);
    EXPECT_NE(detail.find("installed: "), std::string::npos);
    EXPECT_NE(detail.find("eng"), std::string::npos);
  }
  for (const char* bad : {"eng+", "eng+eng", "+eng", "osd"}) {
    EXPECT_THROW(engines_->CheckLanguages(bad), Error) << bad;
  }
  options.lang = "eng";
  options.psm = 0;
  EXPECT_THROW(Recognize(*engines_, ImageFromMat(page), options), Error);
}

TEST_F(OcrTest, EnginesStayWarmAndAreBounded) {
  OcrEngines engines(TessdataDir(""), 1);
  const cv::Mat page = Scaled(RenderText(kText, 12, 300), 0.5);
  OcrOptions options;
  for (int i = 0; i < 3; ++i) Recognize(engines, ImageFromMat(page), options);
  EXPECT_EQ(engines.engine_inits(), 1);
  EXPECT_EQ(engines.initialised_engines(), 1);
  // Every language set the Debian packages of the install script bring.
  for (const char* lang : {"eng", "deu", "fra", "spa", "chi_sim", "kor", "ara", "heb"}) {
    EXPECT_NO_THROW(engines.CheckLanguages(lang)) << lang;
  }
  options.lang = "eng+deu";
  const std::string german = "Die Größe der Straße\n";
  const OcrPage read =
      Recognize(engines, ImageFromMat(Scaled(RenderText(german, 12, 300), 0.5)), options);
  EXPECT_LT(Cer(german, read.text), 0.1) << read.text;
  EXPECT_EQ(engines.engine_inits(), 2);
  EXPECT_EQ(engines.initialised_engines(), 1);  // the bound evicted "eng"
}

struct TesseractsOwn {
  std::string text;
  std::vector<OcrWord> words;
};

// The text and words of `page` as Tesseract gives them to a program that hands it the pixels
// as a raw buffer (RGB or grey), asks for its text and walks its ResultIterator, in reading
// order: a fresh engine of its own, so nothing of scanline's way in or out is shared.
TesseractsOwn TesseractsOwnReading(const cv::Mat& page, const std::string& lang, int psm) {
  tesseract::TessBaseAPI api;
  EXPECT_EQ(api.Init(TessdataDir("").c_str(), lang.c_str(), tesseract::OEM_DEFAULT), 0);
  api.SetVariable("debug_file", "/dev/null");
  api.SetPageSegMode(static_cast<tesseract::PageSegMode>(psm));
  cv::Mat pixels;  // not sharing `page`'s pixels: cvtColor would write into them
  if (page.channels() == 3) {
    cv::cvtColor(page, pixels, cv::COLOR_BGR2RGB);
  } else {
    pixels = page;
  }
  api.SetImage(pixels.data, pixels.cols, pixels.rows, pixels.channels(),
               static_cast<int>(pixels.step));
  EXPECT_EQ(api.Recognize(nullptr), 0);
  TesseractsOwn own;
  std::unique_ptr<char[]> text(api.GetUTF8Text());
  own.text = text.get();
  std::unique_ptr<tesseract::ResultIterator> it(api.GetIterator());
  if (!it) return own;
  do {
    if (it->Empty(tesseract::RIL_WORD)) continue;
    std::unique_ptr<char[]> word_text(it->GetUTF8Text(tesseract::RIL_WORD));
    OcrWord word;
    word.text = word_text.get();
    while (!word.text.empty() && (word.text.back() == ' ' || word.text.back() == '\n')) {
      word.text.pop_back();
    }
    word.confidence = it->Confidence(tesseract::RIL_WORD);
    int l = 0, t = 0, r = 0, b = 0;
    it->BoundingBox(tesseract::RIL_WORD, &l, &t, &r, &b);
    word.box = {l, t, r - l, b - t};
    own.words.push_back(std::move(word));
  } while (it->Next(tesseract::RIL_WORD));
  api.End();
  return own;
}

void ExpectSameReading(const OcrPage& page, const TesseractsOwn& theirs) {
  EXPECT_EQ(page.text, theirs.text);
  const std::vector<OcrWord> ours = OcrTest::Words(page);
  EXPECT_GT(ours.size(), 10u);
  ASSERT_EQ(ours.size(), theirs.words.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    EXPECT_EQ(ours[i].text, theirs.words[i].text) << "word " << i;
    EXPECT_EQ(ours[i].box, theirs.words[i].box) << "word " << i << " " << ours[i].text;
    EXPECT_EQ(ours[i].confidence, theirs.words[i].confidence)
        << "word " << i << " " << ours[i].text;
  }
}

// With preprocess=none, scanline gives Tesseract the decoded pixels as a Leptonica image and
// reads left-to-right pages once, in the order the words stand (see ReadPageInPageOrder in
// core/ocr.cc): the text is still exactly Tesseract's GetUTF8Text, and the words, boxes and
// confidences those of its reading-order iterator, over the raw pixels, on colour receipts
// and a grey page, whole-page layout (blocks, paragraphs) and one block alike.
TEST_F(OcrTest, TextAndWordsAreTesseractsOwnInReadingOrder) {
  std::vector<std::pair<std::string, cv::Mat>> pages;
  for (const char* name : {"000", "007"}) {
    pages.emplace_back(name,
                       cv::imread(kData + "/receipts/img/" + name + ".jpg", cv::IMREAD_COLOR));
  }
  pages.emplace_back("rendered", RenderText(kText, 12, 300));
  const uint64_t reading_order_before = PagesWalkedInReadingOrder();
  for (const auto& [name, page] : pages) {
    ASSERT_FALSE(page.empty()) << name;
    for (int psm : {3, 6}) {
      SCOPED_TRACE(name + " psm " + std::to_string(psm));
      ExpectSameReading(Read(page, "none", psm), TesseractsOwnReading(page, "eng", psm));
    }
  }
  EXPECT_EQ(PagesWalkedInReadingOrder(), reading_order_before);  // all left to right
}

// A page with right-to-left words (Hebrew, and a line mixing it with English) goes through
// Tesseract's reading-order iterator, and reads exactly as it does there: the words of each
// line in reading order, with the direction marks Tesseract adds beside mixed runs.
TEST_F(OcrTest, RightToLeftPagesReadInTesseractsReadingOrder) {
  OcrEngines engines(TessdataDir(""), 1);
  ASSERT_NO_THROW(engines.CheckLanguages("heb+eng")) << "package tesseract-ocr-heb";
  const std::string text =
      "שלום עולם מה שלומך היום\n"
      "החשבון 1284 שקלים לתשלום\n"
      "שלום Invoice 2024 from Northwind\n";
  const cv::Mat page = RenderText(text, 12, 300);
  ASSERT_FALSE(page.empty());
  OcrOptions options;
  options.lang = "heb+eng";
  options.psm = 6;
  options.preprocess = ParsePreprocess("none");
  const uint64_t before = PagesWalkedInReadingOrder();
  const OcrPage read = Recognize(engines, ImageFromMat(page), options);
  EXPECT_EQ(PagesWalkedInReadingOrder(), before + 1);
  EXPECT_LT(Cer(text, read.text), 0.1) << read.text;
  ExpectSameReading(read, TesseractsOwnReading(page, "heb+eng", 6));
  // An English page read with the same engine is read in page order again.
  const cv::Mat english_page = RenderText(kText, 12, 300);
  const OcrPage english = Recognize(engines, ImageFromMat(english_page), options);
  EXPECT_EQ(PagesWalkedInReadingOrder(), before + 1);
  EXPECT_LT(Cer(kText, english.text), 0.05) << english.text;
  ExpectSameReading(english, TesseractsOwnReading(english_page, "heb+eng", 6));
}

TEST_F(OcrTest, DocumentsGiveOneResultPerPage) {
  const std::string first = "First page of the document\n";
  const std::string second = "Second page, with numbers 4711\n";
  const cv::Mat a = Scaled(RenderText(first, 12, 300), 0.5);
  const cv::Mat b = Scaled(RenderText(second, 12, 300), 0.5);
  OcrOptions options;
  for (const std::string& bytes : {MultipageTiff({a, b}), PdfOfPages({a, b}, 150)}) {
    const OcrDocument doc = RecognizeDocument(*engines_, bytes, {}, options);
    ASSERT_EQ(doc.pages.size(), 2u);
    EXPECT_EQ(doc.info.pages, 2);
    EXPECT_LT(Cer(first, doc.pages[0].text), 0.05) << doc.pages[0].text;
    EXPECT_LT(Cer(second, doc.pages[1].text), 0.05) << doc.pages[1].text;
    EXPECT_EQ(doc.sha256.size(), 64u);
    std::vector<std::string> stages;
    for (const auto& t : doc.timings) stages.push_back(t.stage);
    EXPECT_EQ(stages, (std::vector<std::string>{"decode", "preprocess", "recognise", "total"}));
  }
  // Every single-page format reads the same.
  for (const char* ext : {".png", ".jpg", ".tiff", ".webp", ".bmp"}) {
    const OcrDocument doc = RecognizeDocument(*engines_, Encode(a, ext), {}, options);
    ASSERT_EQ(doc.pages.size(), 1u);
    EXPECT_LT(Cer(first, doc.pages[0].text), 0.05) << ext << ": " << doc.pages[0].text;
  }
}

}  // namespace
}  // namespace scanline
