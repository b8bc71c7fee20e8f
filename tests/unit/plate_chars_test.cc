// The plate character model: the shipped file loads and reads characters it was not trained
// on; a missing or foreign file is refused by name; training and saving round-trip; a line
// is cut into its characters; a line of heavy characters is prepared dark on light.
#include "core/plate_chars.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <opencv2/freetype.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

#include "core/detail/image_mat.h"
#include "core/detail/plate_detail.h"
#include "core/error.h"

namespace scanline {
namespace {

// DejaVu Sans Book (fonts-dejavu-core): not one of the training fonts (all bold or narrow).
constexpr char kFont[] = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

// `text` drawn dark on white, characters about `height` pixels tall.
cv::Mat DrawLine(const std::string& text, int height) {
  auto font = cv::freetype::createFreeType2();
  font->loadFontData(kFont, 0);
  cv::Mat colour(height * 2, static_cast<int>(text.size()) * height + height, CV_8UC3,
                 cv::Scalar::all(255));
  font->putText(colour, text, cv::Point(height / 2, height * 3 / 2), height, cv::Scalar::all(0), -1,
                cv::LINE_AA, true);
  cv::Mat grey;
  cv::cvtColor(colour, grey, cv::COLOR_BGR2GRAY);
  return grey;
}

// One character's ink (255), cut to its box.
cv::Mat Glyph(char c, int height) {
  cv::Mat ink = DrawLine(std::string(1, c), height) < 128;
  return ink(cv::boundingRect(ink)).clone();
}

TEST(PlateCharClassifierTest, ShippedModelReadsCharactersOfAnUnseenFont) {
  const PlateCharClassifier model(PlateCharModelFile());
  int top1 = 0, top4 = 0;
  for (const char* c = kAlphabet; *c; ++c) {
    const CharChoices choices = model.Classify(ImageFromMat(Glyph(*c, 36)), 4);
    ASSERT_FALSE(choices.empty());
    float sum = 0;
    for (const auto& choice : choices) sum += choice.p;
    EXPECT_LE(sum, 1.0001f);
    for (size_t i = 1; i < choices.size(); ++i) EXPECT_GE(choices[i - 1].p, choices[i].p);
    // O and 0 are one glyph in most plate fonts.
    auto same = [&](char got) {
      return got == *c || (got == 'O' && *c == '0') || (got == '0' && *c == 'O');
    };
    top1 += same(choices[0].c);
    for (const auto& choice : choices) {
      if (same(choice.c)) {
        ++top4;
        break;
      }
    }
  }
  EXPECT_GE(top1, 32) << "of 36";  // 35 with the shipped model
  EXPECT_GE(top4, 35) << "of 36";
}

TEST(PlateCharClassifierTest, EmptyGlyphGivesNoChoices) {
  const PlateCharClassifier model(PlateCharModelFile());
  EXPECT_TRUE(model.Classify(ImageFromMat(cv::Mat(20, 10, CV_8UC1, cv::Scalar(0)))).empty());
}

TEST(PlateCharClassifierTest, MissingModelFileIsNamed) {
  try {
    PlateCharClassifier model("/nonexistent/plate_chars.yml.gz");
    FAIL() << "loaded a missing file";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInternal);
    EXPECT_NE(e.internal().find("/nonexistent/plate_chars.yml.gz"), std::string::npos);
  }
}

TEST(PlateCharClassifierTest, ForeignFileIsRefused) {
  const std::string path =
      (std::filesystem::temp_directory_path() / "plate_chars_test_foreign.yml").string();
  {
    cv::FileStorage fs(path, cv::FileStorage::WRITE);
    fs << "something" << 42;
  }
  EXPECT_THROW(PlateCharClassifier model(path), Error);
  std::filesystem::remove(path);
}

TEST(PlateCharClassifierTest, TrainsSavesAndLoads) {
  std::vector<GlyphSample> samples;
  for (int height : {24, 30, 36, 42}) {
    for (char c : std::string("AHW7T")) samples.push_back({ImageFromMat(Glyph(c, height)), c});
  }
  PlateCharTraining training;
  training.hidden = 16;
  training.iterations = 200;
  const PlateCharClassifier trained = PlateCharClassifier::Train(samples, training);
  const std::string path =
      (std::filesystem::temp_directory_path() / "plate_chars_test_model.yml.gz").string();
  trained.Save(path);
  const PlateCharClassifier loaded(path);
  std::filesystem::remove(path);
  for (char c : std::string("AHW7T")) {
    const CharChoices choices = loaded.Classify(ImageFromMat(Glyph(c, 33)), 1);
    ASSERT_EQ(choices.size(), 1u);
    EXPECT_EQ(choices[0].c, c);
  }
}

TEST(LineGlyphsTest, CutsALineIntoItsCharactersLeftToRight) {
  const cv::Mat line = DrawLine("7AB12", 40);
  const auto glyphs = detail::LineGlyphs(line);
  ASSERT_EQ(glyphs.size(), 5u);
  const PlateCharClassifier model(PlateCharModelFile());
  std::string read;
  for (const auto& g : glyphs) read += model.Classify(ImageFromMat(g), 1).at(0).c;
  EXPECT_EQ(read, "7AB12");
}

TEST(LineGlyphsTest, PartsTwoCharactersJoinedByBlur) {
  // Plate lettering is condensed: the book face squeezed to about half as wide as tall.
  cv::Mat line;
  cv::resize(DrawLine("HK", 40), line, cv::Size(), 0.7, 1.0, cv::INTER_AREA);
  cv::Mat ink = line < 128;
  // Bridge the gap between the two characters at mid-height.
  const cv::Rect box = cv::boundingRect(ink);
  cv::rectangle(line, cv::Rect(box.x + box.width / 2 - 4, box.y + box.height / 2 - 2, 8, 5),
                cv::Scalar(0), cv::FILLED);
  const auto glyphs = detail::LineGlyphs(line);
  ASSERT_EQ(glyphs.size(), 2u);
  EXPECT_LT(glyphs[0].cols, 0.8 * box.width);
}

// A prepared row as PrepareRow makes it, from a dark-on-light line of 40-pixel characters
// (the reader's scale): only the binarised ink matters to the binarising ways 0 and 3.
detail::RowImages RowOf(const cv::Mat& line) {
  detail::RowImages images;
  images.line = line;
  cv::GaussianBlur(line, images.smooth, cv::Size(3, 3), 0);
  cv::threshold(images.smooth, images.otsu, 0, 255, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
  return images;
}

std::string ReadGlyphs(const std::vector<cv::Mat>& glyphs) {
  const PlateCharClassifier model(PlateCharModelFile());
  std::string read;
  for (const auto& g : glyphs) read += model.Classify(ImageFromMat(g), 1).at(0).c;
  return read;
}

TEST(BinarisedLineTest, KeepsCharactersJoinedIntoOneWideBlob) {
  // "4ABC7" with capitals 40 pixels tall: A, B and C bridged at mid-height into one blob
  // well over one and a half times as wide as it is tall.
  cv::Mat line;
  cv::resize(DrawLine("4ABC7", 55), line, cv::Size(), 0.8, 1.0, cv::INTER_AREA);
  const cv::Rect box = cv::boundingRect(line < 128);
  ASSERT_NEAR(box.height, 40, 4);
  cv::rectangle(line, cv::Rect(box.x + box.width / 4, box.y + box.height / 2 - 2, box.width / 2, 5),
                cv::Scalar(0), cv::FILLED);
  const auto glyphs = detail::LineGlyphs(detail::BinarisedLine(RowOf(line), 0));
  // Dropped as no character, it would leave 4 and 7 alone; kept, it is cut into pieces.
  ASSERT_GE(glyphs.size(), 4u);
  const std::string read = ReadGlyphs(glyphs);
  EXPECT_EQ(read.front(), '4');
  EXPECT_EQ(read.back(), '7');
}

TEST(BinarisedLineTest, FrameCutPartsCharactersStandingOnTheFramesEdge) {
  // The plate frame's dark bottom edge touches every character's foot: the line's blobs are
  // no characters until the edge is cut off. (Characters standing on legs and stems: a flat
  // foot, as of a 2, goes with the edge.)
  cv::Mat line = DrawLine("7AH4K", 55);
  const cv::Rect box = cv::boundingRect(line < 128);
  cv::rectangle(line, cv::Rect(0, box.y + box.height - 2, line.cols, 8), cv::Scalar(0), cv::FILLED);
  const detail::RowImages images = RowOf(line);
  EXPECT_NE(ReadGlyphs(detail::LineGlyphs(detail::BinarisedLine(images, 0))), "7AH4K");
  const cv::Mat cut = detail::BinarisedLine(images, 3);
  ASSERT_FALSE(cut.empty());
  const auto glyphs = detail::LineGlyphs(cut);
  ASSERT_EQ(glyphs.size(), 5u);
  EXPECT_EQ(ReadGlyphs(glyphs), "7AH4K");
}

// The boxes of the blobs of `ink` (non-zero), left to right.
std::vector<cv::Rect> BlobBoxes(const cv::Mat& ink) {
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(ink, labels, stats, centroids, 8, CV_32S);
  std::vector<cv::Rect> boxes;
  for (int i = 1; i < n; ++i) {
    boxes.emplace_back(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                       stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT));
  }
  std::sort(boxes.begin(), boxes.end(),
            [](const cv::Rect& a, const cv::Rect& b) { return a.x < b.x; });
  return boxes;
}

TEST(BinarisedLineTest, CutsACharacterOutOfWhatItTouchesAboveIt) {
  // The plate's header text runs into the top of the first character (as over Missouri's
  // small lettering): one blob half again as tall as the characters.
  cv::Mat line = DrawLine("7AH4K", 55);
  const cv::Rect seven = BlobBoxes(line < 128).front();
  cv::rectangle(line, cv::Rect(seven.x, seven.y - 20, seven.width, 21), cv::Scalar(0), cv::FILLED);
  const detail::RowImages images = RowOf(line);
  EXPECT_EQ(ReadGlyphs(detail::LineGlyphs(detail::BinarisedLine(images, 0, false))), "AH4K");
  EXPECT_EQ(ReadGlyphs(detail::LineGlyphs(detail::BinarisedLine(images, 0))), "7AH4K");
  EXPECT_EQ(ReadGlyphs(detail::LineGlyphs(detail::BinarisedLine(images, 2))), "7AH4K");
}

TEST(BinarisedLineTest, AFramesSideBarIsNoCharacter) {
  // A bar taller than the characters beside the last one (a plate frame's side) is left out,
  // cut to the band or not.
  cv::Mat line = DrawLine("7AB12", 55);
  const cv::Rect box = cv::boundingRect(line < 128);
  cv::rectangle(line, cv::Rect(box.x + box.width + 8, 8, 4, line.rows - 16), cv::Scalar(0),
                cv::FILLED);
  const auto glyphs = detail::LineGlyphs(detail::BinarisedLine(RowOf(line), 0));
  ASSERT_EQ(glyphs.size(), 5u);
  EXPECT_EQ(ReadGlyphs(glyphs), "7AB12");
}

TEST(BinarisedLineTest, NoFrameCutWithoutAFrame) {
  EXPECT_TRUE(detail::BinarisedLine(RowOf(DrawLine("7AB12", 55)), 3).empty());
}

// A scene of grey `ground` with a plate of grey `plate` and six characters of `text` in
// grey `ink`, heavy condensed letters 60 pixels tall, and the row of the six letters as the
// detector finds the dark ones (a row found in dark gaps gets the same boxes where they are
// the gaps).
struct PlateScene {
  cv::Mat grey;
  detail::CharRow row;
};
PlateScene DrawPlateScene(const std::string& text, int ground, int plate, int ink) {
  auto font = cv::freetype::createFreeType2();
  font->loadFontData("/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf", 0);
  cv::Mat colour(160, 600, CV_8UC3, cv::Scalar::all(ground));
  cv::rectangle(colour, cv::Rect(20, 30, 370, 100), cv::Scalar::all(plate), cv::FILLED);
  int x = 40;
  for (char c : text) {
    font->putText(colour, std::string(1, c), cv::Point(x, 105), 60, cv::Scalar::all(ink), -1,
                  cv::LINE_AA, true);
    x += 56;
  }
  PlateScene scene;
  cv::cvtColor(colour, scene.grey, cv::COLOR_BGR2GRAY);
  const cv::Mat letters =
      ink < plate ? scene.grey < (ink + plate) / 2 : scene.grey > (ink + plate) / 2;
  for (const cv::Rect& r : BlobBoxes(letters)) {
    if (r.height >= 30 && r.height <= 80) scene.row.chars.push_back(r);
  }
  if (scene.row.chars.empty()) return scene;
  const cv::Rect first = scene.row.chars.front(), last = scene.row.chars.back();
  scene.row.char_height = last.height;
  const float cy = static_cast<float>(last.y + last.height / 2.0);
  scene.row.start = cv::Point2f(static_cast<float>(first.x), cy);
  scene.row.end = cv::Point2f(static_cast<float>(last.x + last.width), cy);
  return scene;
}

// Heavy condensed lettering (as on Texas plates) covers more than half of its band, yet is
// no row of the gaps between characters: the prepared line stays dark on light.
TEST(PrepareRowTest, HeavyCharactersAreNotTakenForTheGapsBetweenThem) {
  cv::Mat scene = DrawPlateScene("WMH8BN", 90, 230, 20).grey;
  cv::erode(scene, scene, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(3, 3)));
  detail::RowSearch search;
  search.light_chars = false;
  const auto rows = detail::FindCharRows(scene, search);
  ASSERT_FALSE(rows.empty());
  ASSERT_EQ(rows.front().chars.size(), 6u);
  const detail::RowImages images = detail::PrepareRow(scene, rows.front());
  EXPECT_GT(detail::CharBandInk(images.otsu), 0.5);  // the lettering covers over half its band
  EXPECT_GT(cv::mean(images.line.row(1))[0], 128);   // the margin above is the light plate
}

// The mean grey of a prepared line's top margin over its left half: over the plate.
double TopMarginGrey(const detail::RowImages& images) {
  return cv::mean(images.line(cv::Rect(0, 1, images.line.cols / 2, 1)))[0];
}

// A row that runs on past the plate's end (a mark on the car's darker body taken for one
// more character): the body's paint in the characters' band is not the gaps between
// characters, and the line stays dark on light. Judged by the band alone (as the trainer
// does), it was inverted.
TEST(PrepareRowTest, ARowRunningPastThePlatesEndKeepsItsPolarity) {
  PlateScene scene = DrawPlateScene("MH6V4L", 90, 230, 20);
  cv::erode(scene.grey, scene.grey, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(3, 3)));
  ASSERT_EQ(scene.row.chars.size(), 6u);
  // The mark, well past the plate's end: the body takes a third of the line's width.
  const cv::Rect last = scene.row.chars.back();
  scene.row.chars.emplace_back(last.x + 250, last.y, 12, last.height);
  scene.row.end.x = static_cast<float>(last.x + 262);
  EXPECT_GT(TopMarginGrey(detail::PrepareRow(scene.grey, scene.row)), 128);
  EXPECT_LT(TopMarginGrey(detail::PrepareRow(scene.grey, scene.row, true)), 128);
}

// Light heavy letters on a dark plate, the row taken for dark characters (its boxes those
// of the letters): the dark class, the plate, covers the band and the margins, and the line
// is inverted to dark letters on light.
TEST(PrepareRowTest, ALineOfLightLettersIsInverted) {
  const PlateScene scene = DrawPlateScene("MH6V4L", 150, 40, 230);
  ASSERT_EQ(scene.row.chars.size(), 6u);
  const detail::RowImages images = detail::PrepareRow(scene.grey, scene.row);
  EXPECT_GT(TopMarginGrey(images), 128);
  EXPECT_LT(detail::MarginInk(images.otsu), 0.5);
}

TEST(RowBlobGlyphsTest, CutsTheDetectorsBlobsAndDropsNeighbours) {
  // A grey scene with a light plate and dark characters 24 pixels tall; the row's boxes are
  // the characters' own, as the detector reports them.
  cv::Mat line = DrawLine("5 K 7", 34);
  cv::Mat scene(120, 320, CV_8UC1, cv::Scalar(90));
  line.copyTo(scene(cv::Rect(40, 30, line.cols, line.rows)));
  cv::Mat ink = scene < 128;
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(ink, labels, stats, centroids, 8, CV_32S);
  detail::CharRow row;
  for (int i = 1; i < n; ++i) {
    const int* st = stats.ptr<int>(i);
    if (st[cv::CC_STAT_AREA] < 30 || st[cv::CC_STAT_HEIGHT] > 60) continue;  // the scene
    row.chars.emplace_back(st[cv::CC_STAT_LEFT], st[cv::CC_STAT_TOP], st[cv::CC_STAT_WIDTH],
                           st[cv::CC_STAT_HEIGHT]);
  }
  std::sort(row.chars.begin(), row.chars.end(),
            [](const cv::Rect& a, const cv::Rect& b) { return a.x < b.x; });
  ASSERT_EQ(row.chars.size(), 3u);
  const auto glyphs = detail::RowBlobGlyphs(scene, row);
  ASSERT_EQ(glyphs.size(), 3u);
  const PlateCharClassifier model(PlateCharModelFile());
  std::string read;
  for (const auto& g : glyphs) {
    ASSERT_FALSE(g.empty());
    EXPECT_LE(g.rows, row.chars.front().height + 8);
    read += model.Classify(ImageFromMat(g), 1).at(0).c;
  }
  EXPECT_EQ(read, "5K7");
}

}  // namespace
}  // namespace scanline
