// FindCharRows: rows of character blobs, including characters joined to a plate frame's
// edge, which only the search with the frame's long horizontal runs taken out parts.
#include <gtest/gtest.h>

#include <opencv2/freetype.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

#include "core/detail/plate_detail.h"

namespace scanline {
namespace {

constexpr char kFont[] = "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf";

// A light plate in a mid-grey scene: `text` in dark characters of font size `char_h` (capitals
// about 0.7 of it), a fifth of it apart; with `frame_band`, a dark band of the plate frame
// runs along the characters' feet and touches every one of them (a dealer frame).
cv::Mat Plate(const std::string& text, int char_h, bool frame_band) {
  auto font = cv::freetype::createFreeType2();
  font->loadFontData(kFont, 0);
  cv::Mat scene(8 * char_h, 16 * char_h, CV_8UC3, cv::Scalar(110, 110, 110));
  const cv::Rect plate(2 * char_h, 3 * char_h, 10 * char_h, 2 * char_h + char_h / 2);
  cv::rectangle(scene, plate, cv::Scalar(225, 225, 225), cv::FILLED);
  const int baseline_y = plate.y + char_h + char_h / 2;
  int x = plate.x + char_h;
  for (char c : text) {
    int base = 0;
    const int w = font->getTextSize(std::string(1, c), char_h, -1, &base).width;
    font->putText(scene, std::string(1, c), cv::Point(x, baseline_y), char_h,
                  cv::Scalar(25, 25, 25), -1, cv::LINE_AA, true);
    x += w + char_h / 5;
  }
  if (frame_band) {
    cv::rectangle(scene, cv::Rect(plate.x, baseline_y - 1, plate.width, char_h / 2),
                  cv::Scalar(25, 25, 25), cv::FILLED);
  }
  cv::Mat grey;
  cv::cvtColor(scene, grey, cv::COLOR_BGR2GRAY);
  cv::GaussianBlur(grey, grey, cv::Size(3, 3), 0.8);
  return grey;
}

// The most characters of a row found inside the plate's band.
size_t MostCharsOnThePlate(const std::vector<detail::CharRow>& rows, int char_h) {
  size_t most = 0;
  for (const auto& row : rows) {
    const cv::Rect b = detail::RowBounds(row);
    if (b.y < 3 * char_h || b.y + b.height > 6 * char_h) continue;
    most = std::max(most, row.chars.size());
  }
  return most;
}

TEST(FindCharRowsTest, FindsAPlainRowOfCharacters) {
  const cv::Mat grey = Plate("7ABC123", 16, false);
  detail::RowSearch search;
  const auto rows = detail::FindCharRows(grey, search);
  EXPECT_EQ(MostCharsOnThePlate(rows, 16), 7u);
  ASSERT_FALSE(rows.empty());
  EXPECT_NEAR(rows.front().char_height, 16, 4);
  EXPECT_NEAR(rows.front().angle, 0, 0.05);
}

TEST(FindCharRowsTest, PartsCharactersJoinedToTheFramesEdgeOnlyWhenAskedTo) {
  const cv::Mat grey = Plate("7ABC123", 24, true);
  detail::RowSearch search;
  search.cut_frames = false;
  EXPECT_LT(MostCharsOnThePlate(detail::FindCharRows(grey, search), 24), 4u);
  search.cut_frames = true;
  const auto rows = detail::FindCharRows(grey, search);
  EXPECT_GE(MostCharsOnThePlate(rows, 24), 6u);
}

TEST(FindCharRowsTest, CuttingFramesKeepsARowFoundWithout) {
  // A plain plate: the rows found with the frame search on are those found without it.
  const cv::Mat grey = Plate("KT4829", 20, false);
  detail::RowSearch plain, cut;
  plain.cut_frames = false;
  cut.cut_frames = true;
  const auto a = detail::FindCharRows(grey, plain);
  const auto b = detail::FindCharRows(grey, cut);
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  EXPECT_EQ(detail::RowBounds(a.front()), detail::RowBounds(b.front()));
  EXPECT_EQ(a.front().chars.size(), b.front().chars.size());
}

// Characters too tall for the full-size image are found a pyramid level down, in their own
// polarity; the caller's image is left as it was.
TEST(FindCharRowsTest, FindsLargeRowsInTheirPolarityAndLeavesTheImageAlone) {
  for (bool light_on_dark : {false, true}) {
    SCOPED_TRACE(light_on_dark ? "light on dark" : "dark on light");
    cv::Mat grey = Plate("7ABC123", 80, false);
    if (light_on_dark) grey = 255 - grey;
    const cv::Mat before = grey.clone();
    detail::RowSearch search;
    search.max_char_height = 90;
    const auto rows = detail::FindCharRows(grey, search);
    EXPECT_EQ(cv::norm(grey, before, cv::NORM_INF), 0);
    const detail::CharRow* on_plate = nullptr;
    for (const auto& row : rows) {
      const cv::Rect b = detail::RowBounds(row);
      if (b.y >= 3 * 80 && b.y + b.height <= 6 * 80 && row.chars.size() == 7) {
        on_plate = &row;
        break;
      }
    }
    ASSERT_NE(on_plate, nullptr);
    EXPECT_EQ(on_plate->light_on_dark, light_on_dark);
    EXPECT_NEAR(on_plate->char_height, 56, 12);
  }
}

}  // namespace
}  // namespace scanline
