// RankCandidates: the ranking of plate texts from per-character alternatives.
#include "core/plate_reader.h"

#include <gtest/gtest.h>

#include "core/plate_patterns.h"

namespace scanline {
namespace {

CharChoices Sure(char c) { return {{c, 0.95f}}; }

PlateRegion Brazil() {
  return ParsePlateRegion("br", "pattern = @@@####\npattern = @@@#@##\n", "br.txt");
}

TEST(RankCandidatesTest, PatternMatchesComeFirstEvenWhenLessLikely) {
  // "AB01234": the third character is read 0 (0.8) or O (0.5); only O fits @@@####, and
  // in a region without free_text a fitting text comes before any that fits none.
  PlateReading r = {Sure('A'), Sure('B'), {{'0', 0.8f}, {'O', 0.5f}}, Sure('1'), Sure('2'),
                    Sure('3'), Sure('4')};
  const auto ranked = RankCandidates({r}, Brazil(), 10);
  ASSERT_GE(ranked.size(), 2u);
  EXPECT_EQ(ranked[0].text, "ABO1234");
  EXPECT_TRUE(ranked[0].matches_pattern);
  bool has_digit_form = false;
  for (const auto& t : ranked) {
    if (t.text == "AB01234") {
      has_digit_form = true;
      EXPECT_FALSE(t.matches_pattern);
    }
  }
  EXPECT_TRUE(has_digit_form);
}

// Brazil's patterns with free_text: texts that fit none are trusted at 0.8.
PlateRegion Trusting() {
  return ParsePlateRegion("xx", "free_text = 0.8\npattern = @@@####\npattern = @@@#@##\n",
                          "xx.txt");
}

TEST(RankCandidatesTest, SureTextFittingNoPatternOutranksAMuchLessLikelyFit) {
  // A clear "AB01234" (a vanity or rare plate): the 0 is read 0.95, O only 0.1 (D is a
  // stand-in at 0.19), so the best fitting text (about 0.75) is less than 0.8 of its
  // likelihood (0.95). Without free_text the fitting text comes first.
  PlateReading r = {Sure('A'), Sure('B'), {{'0', 0.95f}, {'O', 0.1f}}, Sure('1'), Sure('2'),
                    Sure('3'), Sure('4')};
  const auto ranked = RankCandidates({r}, Trusting(), 10);
  ASSERT_GE(ranked.size(), 2u);
  EXPECT_EQ(ranked[0].text, "AB01234");
  EXPECT_FALSE(ranked[0].matches_pattern);
  EXPECT_GE(ranked[0].confidence, kMinFreeConfidence);
  EXPECT_TRUE(ranked[1].matches_pattern);
  const auto strict = RankCandidates({r}, Brazil(), 10);
  ASSERT_GE(strict.size(), 2u);
  EXPECT_TRUE(strict[0].matches_pattern);
  EXPECT_NE(strict[0].text, "AB01234");
}

TEST(RankCandidatesTest, UnsureTextFittingNoPatternStaysAfterTheFits) {
  // Every character 0.5: "AB01234" (0.5) is under kMinFreeConfidence, so the fitting texts
  // ("ABD1234" with the stand-in D, about 0.40) come first although they are less likely.
  auto half = [](char c) { return CharChoices{{c, 0.5f}}; };
  PlateReading r = {half('A'), half('B'), {{'0', 0.5f}, {'O', 0.02f}}, half('1'), half('2'),
                    half('3'), half('4')};
  const auto ranked = RankCandidates({r}, Trusting(), 50);
  ASSERT_GE(ranked.size(), 2u);
  EXPECT_TRUE(ranked[0].matches_pattern);
  size_t fits = 0, free_text = ranked.size();
  for (size_t i = 0; i < ranked.size(); ++i) {
    if (ranked[i].matches_pattern) fits = i;
    if (ranked[i].text == "AB01234") free_text = i;
  }
  ASSERT_LT(free_text, ranked.size());
  EXPECT_LT(ranked[free_text].confidence, kMinFreeConfidence);
  EXPECT_GT(free_text, fits);
}

TEST(RankCandidatesTest, SureTextOfNoPlateLengthIsNotTrusted) {
  // A clear two-character reading (a bolt and a sticker's letter, three readings of it)
  // beside a fitting but unsure seven-character one: a region has no plate of two
  // characters, so the fitting text comes first however sure the short one is.
  auto third = [](char c) { return CharChoices{{c, 0.3f}}; };
  const PlateReading short_one = {Sure('J'), Sure('U')};
  const PlateReading plate = {third('A'), third('B'), third('C'), third('1'),
                              third('2'), third('3'), third('4')};
  const auto ranked = RankCandidates({short_one, short_one, short_one, plate}, Trusting(), 10);
  ASSERT_GE(ranked.size(), 2u);
  EXPECT_EQ(ranked[0].text, "ABC1234");
  EXPECT_TRUE(ranked[0].matches_pattern);
  bool seen = false;
  for (const auto& t : ranked) {
    if (t.text != "JU") continue;
    seen = true;
    EXPECT_GE(t.confidence, kMinFreeConfidence);  // sure, and still after the fit
  }
  EXPECT_TRUE(seen);
}

TEST(RankCandidatesTest, AddsConfusableStandIns) {
  // Tesseract offers only '8' for a letter position; B is the plate's usual stand-in.
  PlateReading r = {Sure('A'), Sure('B'), {{'8', 0.9f}}, Sure('1'),
                    Sure('2'), Sure('3'), Sure('4')};
  const auto ranked = RankCandidates({r}, Brazil(), 10);
  ASSERT_FALSE(ranked.empty());
  EXPECT_EQ(ranked[0].text, "ABB1234");
  EXPECT_TRUE(ranked[0].matches_pattern);
}

TEST(RankCandidatesTest, RespectsTopNAndOrdersByConfidence) {
  PlateReading r;
  for (char c : std::string("ABC1234")) r.push_back({{c, 0.6f}, {'X', 0.3f}, {'7', 0.2f}});
  const auto ranked = RankCandidates({r}, Brazil(), 5);
  ASSERT_EQ(ranked.size(), 5u);
  EXPECT_EQ(ranked[0].text, "ABC1234");
  for (size_t i = 1; i < ranked.size(); ++i) {
    if (ranked[i].matches_pattern == ranked[i - 1].matches_pattern) {
      EXPECT_LE(ranked[i].confidence, ranked[i - 1].confidence);
    }
    if (ranked[i].matches_pattern) {
      EXPECT_TRUE(ranked[i - 1].matches_pattern);
    }
  }
}

TEST(RankCandidatesTest, ReadingsAgreeingRaiseConfidence) {
  PlateReading a = {Sure('Q'), Sure('R'), Sure('S'), Sure('4'), Sure('5'), Sure('6'), Sure('7')};
  PlateReading b = a;
  b[3] = {{'A', 0.9f}};  // a second binarisation disagrees on one character
  const auto one = RankCandidates({a}, Brazil(), 3);
  const auto split = RankCandidates({a, b}, Brazil(), 3);
  ASSERT_FALSE(one.empty());
  ASSERT_FALSE(split.empty());
  EXPECT_EQ(split[0].text, "QRS4567");
  EXPECT_GT(one[0].confidence, split[0].confidence);
}

TEST(RankCandidatesTest, DropsAnEdgeBlobFromTooLongReadings) {
  // A screw read as 'I' before the plate's seven characters.
  PlateReading r = {{{'I', 0.4f}}, Sure('A'), Sure('B'), Sure('C'),
                    Sure('1'),     Sure('2'), Sure('3'), Sure('4')};
  const auto ranked = RankCandidates({r}, Brazil(), 10);
  ASSERT_FALSE(ranked.empty());
  EXPECT_EQ(ranked[0].text, "ABC1234");
}

TEST(RankCandidatesTest, AppliesSameGlyphPairs) {
  const PlateRegion us = ParsePlateRegion("us", "same_glyph = O0\npattern = ###@@@\n", "us.txt");
  PlateReading r = {Sure('1'), Sure('2'), Sure('3'), Sure('A'), Sure('O'), Sure('C')};
  const auto ranked = RankCandidates({r}, us, 10);
  for (const auto& t : ranked) EXPECT_EQ(t.text.find('O'), std::string::npos) << t.text;
}

TEST(RankCandidatesTest, NoReadingsGiveNoCandidates) {
  EXPECT_TRUE(RankCandidates({}, Brazil(), 10).empty());
  EXPECT_TRUE(RankCandidates({PlateReading{}}, Brazil(), 10).empty());
}

}  // namespace
}  // namespace scanline
