#include "core/plate_patterns.h"

#include <gtest/gtest.h>

#include "core/data_files.h"
#include "core/error.h"

namespace scanline {
namespace {

TEST(PlatePatternsTest, MatchesLettersDigitsWildcardsAndLiterals) {
  EXPECT_TRUE(MatchesPattern("ABC1234", "@@@####"));
  EXPECT_FALSE(MatchesPattern("AB01234", "@@@####"));
  EXPECT_FALSE(MatchesPattern("ABC123", "@@@####"));
  EXPECT_TRUE(MatchesPattern("A1", "??"));
  EXPECT_TRUE(MatchesPattern("CD123", "CD###"));
  EXPECT_FALSE(MatchesPattern("CE123", "CD###"));
}

TEST(PlatePatternsTest, ParsesARegionFile) {
  const PlateRegion region = ParsePlateRegion("xx", R"(; a comment
name = Somewhere   ; trailing comment
aspect = 3.5
char_height = 0.5
char_center = 0.6
same_glyph = O0
free_text = 0.7
pattern = @@@####
pattern = ##@@
)",
                                              "xx.txt");
  EXPECT_EQ(region.code, "xx");
  EXPECT_EQ(region.name, "Somewhere");
  EXPECT_DOUBLE_EQ(region.aspect, 3.5);
  EXPECT_DOUBLE_EQ(region.char_center, 0.6);
  EXPECT_DOUBLE_EQ(region.free_text, 0.7);
  ASSERT_EQ(region.patterns.size(), 2u);
  EXPECT_EQ(region.min_length, 4u);
  EXPECT_EQ(region.max_length, 7u);
  ASSERT_EQ(region.same_glyph.size(), 1u);
  EXPECT_EQ(region.same_glyph[0], std::make_pair('O', '0'));
  EXPECT_TRUE(MatchesRegion("12AB", region));
  EXPECT_FALSE(MatchesRegion("1234", region));
}

TEST(PlatePatternsTest, RefusesMalformedLinesNamingTheLine) {
  for (const char* text : {"aspect = wide", "aspect = 40", "pattern = AB-12", "colour = red",
                           "pattern", "same_glyph = O", "free_text = 2"}) {
    try {
      ParsePlateRegion("xx", std::string("name = X\n") + text, "xx.txt");
      ADD_FAILURE() << text << " accepted";
    } catch (const Error& e) {
      EXPECT_NE(e.internal().find("xx.txt:2"), std::string::npos) << e.internal();
    }
  }
}

TEST(PlatePatternsTest, ShippedRegionFilesLoad) {
  const auto regions = LoadPlateRegions(SCANLINE_SOURCE_DIR "/data/regions");
  ASSERT_TRUE(regions.count("us"));
  ASSERT_TRUE(regions.count("br"));
  ASSERT_TRUE(regions.count("eu"));
  EXPECT_TRUE(MatchesRegion("7ABC123", regions.at("us")));  // California
  EXPECT_TRUE(MatchesRegion("ABC1234", regions.at("br")));
  EXPECT_TRUE(MatchesRegion("ABC1D23", regions.at("br")));  // Mercosur
  EXPECT_FALSE(MatchesRegion("AB12345", regions.at("br")));
  EXPECT_FALSE(regions.at("us").same_glyph.empty());
  EXPECT_GT(regions.at("us").free_text, 0.0);  // vanity and rare formats
  EXPECT_EQ(regions.at("br").free_text, 0.0);  // the two national formats
  for (const auto& [code, region] : regions) {
    EXPECT_FALSE(region.patterns.empty()) << code;
    EXPECT_GT(region.aspect, 1.0) << code;
  }
}

TEST(PlatePatternsTest, MissingDirectoryIsAnError) {
  EXPECT_THROW(LoadPlateRegions("/nonexistent/regions"), Error);
}

}  // namespace
}  // namespace scanline
