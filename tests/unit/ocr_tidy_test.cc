// What preprocess=auto does to the words after recognition (TidyWords): unsure marks without
// a letter or digit go, amounts split at their decimal point are joined, nothing else moves.
#include <gtest/gtest.h>

#include <vector>

#include "core/ocr.h"

namespace scanline {
namespace {

OcrWord Word(const std::string& text, float confidence, int x, int w) {
  return OcrWord{text, confidence, PixelBox{x, 100, w, 20}};
}

OcrLine Line(std::vector<OcrWord> words) {
  OcrLine line;
  line.box = PixelBox{0, 100, 600, 20};
  line.words = std::move(words);
  return line;
}

std::vector<std::string> Texts(const OcrLine& line) {
  std::vector<std::string> out;
  for (const OcrWord& w : line.words) out.push_back(w.text);
  return out;
}

TEST(TidyWordsTest, DropsUnsureMarksAndKeepsSureOnesAndWords) {
  std::vector<OcrBlock> blocks(1);
  blocks[0].lines.push_back(
      Line({Word("TOTAL", 20, 0, 80), Word("—", 12, 90, 30), Word("-", 95, 130, 10),
            Word("||", 8, 150, 20), Word("a1", 5, 180, 20)}));
  EXPECT_TRUE(TidyWords(blocks));
  ASSERT_EQ(blocks.size(), 1u);
  // A sure mark stays; an unsure word with a letter or digit stays (it may be text).
  EXPECT_EQ(Texts(blocks[0].lines[0]), (std::vector<std::string>{"TOTAL", "-", "a1"}));
}

TEST(TidyWordsTest, JoinsAmountsSplitAtTheDecimalPointOnly) {
  std::vector<OcrBlock> blocks(1);
  blocks[0].lines.push_back(
      Line({Word("35.", 90, 300, 40), Word("00", 60, 350, 30), Word("295", 90, 400, 40),
            Word(".00", 80, 445, 35), Word("12", 90, 500, 25), Word("50", 90, 530, 25)}));
  // A column gap wider than the line is high is a real space.
  blocks[0].lines.push_back(Line({Word("35.", 90, 0, 40), Word("00", 90, 200, 30)}));
  EXPECT_TRUE(TidyWords(blocks));
  const OcrLine& joined = blocks[0].lines[0];
  ASSERT_EQ(Texts(joined), (std::vector<std::string>{"35.00", "295.00", "12", "50"}));
  EXPECT_EQ(joined.words[0].box, (PixelBox{300, 100, 80, 20}));
  EXPECT_FLOAT_EQ(joined.words[0].confidence, 60);
  EXPECT_EQ(Texts(blocks[0].lines[1]), (std::vector<std::string>{"35.", "00"}));
}

TEST(TidyWordsTest, EmptiedLinesAndBlocksGoAndCleanTextIsUntouched) {
  std::vector<OcrBlock> blocks(2);
  blocks[0].lines.push_back(Line({Word("::", 3, 0, 20), Word("~", 10, 30, 10)}));
  blocks[1].lines.push_back(Line({Word("Invoice", 91, 0, 90), Word("2024-0117", 88, 100, 110)}));
  std::vector<OcrBlock> clean = {blocks[1]};
  EXPECT_TRUE(TidyWords(blocks));
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(Texts(blocks[0].lines[0]), (std::vector<std::string>{"Invoice", "2024-0117"}));
  EXPECT_FALSE(TidyWords(clean));
  EXPECT_EQ(Texts(clean[0].lines[0]), (std::vector<std::string>{"Invoice", "2024-0117"}));
}

}  // namespace
}  // namespace scanline
