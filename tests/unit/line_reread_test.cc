// A second reading of chosen lines (core/line_reread.h) on pages rendered here (DejaVu Sans
// through OpenCV's freetype module) and read by the real OCR; a misreading is planted in the
// first reading's words, as Tesseract makes them on small print.
#include "core/line_reread.h"

#include <gtest/gtest.h>

#include <opencv2/freetype.hpp>
#include <opencv2/imgproc.hpp>

#include "core/config.h"
#include "core/detail/image_mat.h"

namespace scanline {
namespace {

const std::string kFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

// Black text on white, one line per entry at baseline y = 60 + 50 * index, turned by
// `degrees` (counter-clockwise) about the page centre.
Image Render(const std::vector<std::string>& lines, double degrees = 0) {
  cv::Mat mat(80 + 50 * static_cast<int>(lines.size()), 900, CV_8UC3, cv::Scalar(255, 255, 255));
  auto ft = cv::freetype::createFreeType2();
  ft->loadFontData(kFont, 0);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    ft->putText(mat, lines[i], {40, 60 + 50 * static_cast<int>(i)}, 26, cv::Scalar(0, 0, 0), -1,
                cv::LINE_AA, true);
  }
  if (degrees != 0) {
    const cv::Mat turn =
        cv::getRotationMatrix2D(cv::Point2f(mat.cols / 2.0f, mat.rows / 2.0f), degrees, 1);
    cv::Mat turned;
    cv::warpAffine(mat, turned, turn, mat.size(), cv::INTER_CUBIC, cv::BORDER_CONSTANT,
                   cv::Scalar(255, 255, 255));
    mat = turned;
  }
  return ImageFromMat(mat);
}

class LineRereadTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PrepareTesseractProcess();
    OcrConfig config;
    config.preload_langs = "";
    engines_ = MakeOcrEngines(config).release();
  }
  static void TearDownTestSuite() { delete engines_; }

  static OcrPage Read(const Image& image) {
    OcrOptions o;
    o.psm = 6;
    return Recognize(*engines_, image, o);
  }

  static std::vector<OcrLine*> Lines(OcrPage& page) {
    std::vector<OcrLine*> out;
    for (OcrBlock& b : page.blocks) {
      for (OcrLine& l : b.lines) out.push_back(&l);
    }
    return out;
  }

  // Plants a misreading of word `index` of `line` (as if OCR had read `text`, unsure).
  static void Misread(OcrLine& line, size_t index, const std::string& text) {
    ASSERT_LT(index, line.words.size());
    line.words[index].text = text;
    line.words[index].confidence = 40;
    line.text.clear();
    for (const OcrWord& w : line.words) line.text += (line.text.empty() ? "" : " ") + w.text;
  }

  static bool Inside(const PixelBox& outer, const PixelBox& inner, int slack) {
    return inner.x >= outer.x - slack && inner.y >= outer.y - slack &&
           inner.x + inner.w <= outer.x + outer.w + slack &&
           inner.y + inner.h <= outer.y + outer.h + slack;
  }

  static OcrEngines* engines_;
};

OcrEngines* LineRereadTest::engines_ = nullptr;

TEST_F(LineRereadTest, AMisreadLineIsReplacedWhenBothReadingsAgree) {
  const Image image = Render({"KEDAI BUKU MAJU SDN BHD", "NO 12, JALAN MERANTI 3,"});
  std::vector<OcrPage> pages = {Read(image)};
  std::vector<OcrLine*> lines = Lines(pages[0]);
  ASSERT_EQ(lines.size(), 2u) << pages[0].text;
  ASSERT_EQ(lines[0]->text, "KEDAI BUKU MAJU SDN BHD");
  const std::string second_line = lines[1]->text;
  Misread(*lines[0], 2, "MA1U");
  const PixelBox box = lines[0]->box;

  const LineRereadResult r = RereadLines(*engines_, {image}, {{0, box}}, {}, pages);
  EXPECT_EQ(r.reread, 1);
  EXPECT_EQ(r.replaced, 1);
  EXPECT_GT(r.ms, 0);
  EXPECT_EQ(lines[0]->text, "KEDAI BUKU MAJU SDN BHD");
  ASSERT_EQ(lines[0]->words.size(), 5u);
  EXPECT_EQ(lines[0]->box, box);  // the line stays where it was
  for (const OcrWord& w : lines[0]->words) {
    EXPECT_TRUE(Inside(box, w.box, 4)) << w.text;
    EXPECT_GT(w.confidence, 40) << w.text;
  }
  // Words come back in order, left to right, in page pixels.
  EXPECT_LT(lines[0]->words[0].box.x, lines[0]->words[1].box.x);
  // A line not named is left alone.
  EXPECT_EQ(lines[1]->text, second_line);
}

TEST_F(LineRereadTest, ATiltedLineIsCutOutLevel) {
  // Turned 4 degrees: the box of a line 550 pixels long holds 38 pixels of slope, a line
  // above and below its ends.
  const Image image = Render({"ABC HARDWARE ENTERPRISE", "LOT 1851-A, JALAN KPB 6, BALAKONG"}, 4);
  std::vector<OcrPage> pages = {Read(image)};
  std::vector<OcrLine*> lines = Lines(pages[0]);
  ASSERT_EQ(lines.size(), 2u) << pages[0].text;
  ASSERT_EQ(lines[1]->text, "LOT 1851-A, JALAN KPB 6, BALAKONG");
  Misread(*lines[1], 3, "KP8");
  const LineRereadResult r =
      RereadLines(*engines_, {image}, {{0, lines[1]->box}}, LineRereadOptions{}, pages);
  EXPECT_EQ(r.replaced, 1);
  EXPECT_EQ(lines[1]->text, "LOT 1851-A, JALAN KPB 6, BALAKONG");
}

TEST_F(LineRereadTest, ALineBothReadingsFindAsItWasReadKeepsItsWords) {
  const Image image = Render({"KEDAI BUKU MAJU SDN BHD"});
  std::vector<OcrPage> pages = {Read(image)};
  std::vector<OcrLine*> lines = Lines(pages[0]);
  ASSERT_EQ(lines.size(), 1u);
  const std::vector<OcrWord> before = lines[0]->words;
  const LineRereadResult r = RereadLines(*engines_, {image}, {{0, lines[0]->box}}, {}, pages);
  EXPECT_EQ(r.reread, 1);
  EXPECT_EQ(r.replaced, 0);
  ASSERT_EQ(lines[0]->words.size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(lines[0]->words[i].text, before[i].text);
    EXPECT_EQ(lines[0]->words[i].confidence, before[i].confidence);  // not the second's
  }
}

TEST_F(LineRereadTest, NothingLegibleWhereTheLineIsLeavesTheFirstReading) {
  // A line whose box lies on blank paper (a reading made of specks).
  const Image image = Render({"", ""});
  OcrPage page;
  page.width = image.width();
  page.height = image.height();
  OcrLine line;
  line.text = "ll ii";
  line.box = {40, 40, 300, 30};
  line.words = {{"ll", 30, {40, 40, 100, 30}}, {"ii", 30, {200, 40, 140, 30}}};
  page.blocks.push_back({line.box, {line}});
  std::vector<OcrPage> pages = {page};
  const LineRereadResult r = RereadLines(*engines_, {image}, {{0, line.box}}, {}, pages);
  EXPECT_EQ(r.reread, 1);
  EXPECT_EQ(r.replaced, 0);
  EXPECT_EQ(pages[0].blocks[0].lines[0].text, "ll ii");
}

TEST_F(LineRereadTest, RefsNamingNoLineAndAPassedDeadlineChangeNothing) {
  const Image image = Render({"KEDAI BUKU MAJU SDN BHD"});
  std::vector<OcrPage> pages = {Read(image)};
  std::vector<OcrLine*> lines = Lines(pages[0]);
  ASSERT_EQ(lines.size(), 1u);
  Misread(*lines[0], 2, "MA1U");
  PixelBox other = lines[0]->box;
  other.x += 1;
  LineRereadResult r = RereadLines(*engines_, {image}, {{0, other}, {1, lines[0]->box}}, {}, pages);
  EXPECT_EQ(r.reread, 0);
  r = RereadLines(*engines_, {}, {{0, lines[0]->box}}, {}, pages);  // no image
  EXPECT_EQ(r.reread, 0);
  LineRereadOptions late;
  late.deadline = std::chrono::steady_clock::now() - std::chrono::milliseconds(1);
  r = RereadLines(*engines_, {image}, {{0, lines[0]->box}}, late, pages);
  EXPECT_EQ(r.reread, 0);
  EXPECT_EQ(lines[0]->text, "KEDAI BUKU MA1U SDN BHD");
}

}  // namespace
}  // namespace scanline
