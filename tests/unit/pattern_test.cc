// Template patterns: the syntax templates use, match spans, and bounded time and memory on
// the inputs that make backtracking engines hang or overflow their stack.
#include "core/pattern.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "core/error.h"
#include "core/field_types.h"

namespace scanline {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

TEST(PatternTest, FullMatchSearchAndCase) {
  const std::string iban = R"([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?)";
  const auto p = Pattern::Compile(iban, false);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->FullMatch("DE89 3704 0044 0532 0130 00"));
  EXPECT_FALSE(p->FullMatch("IBAN DE89 3704 0044 0532 0130 00"));
  EXPECT_TRUE(p->Search("IBAN DE89 3704 0044 0532 0130 00"));
  EXPECT_FALSE(p->FullMatch("de89 3704 0044 0532 0130 00"));
  const auto caseless = Pattern::Compile(iban, true);
  ASSERT_TRUE(caseless);
  EXPECT_TRUE(caseless->FullMatch("de89 3704 0044 0532 0130 00"));
}

TEST(PatternTest, FindAllGivesEveryMatchWithLookaheadAndWordBoundaries) {
  const auto money = Pattern::Compile(R"(-?\d{1,3}(?:,\d{3})*[.,] ?\d{2}(?!\d))", false);
  ASSERT_TRUE(money);
  const std::string line = "SUBTOTAL 1,234.50 TAX 6.17 CODE 12.345";
  const auto spans = money->FindAll(line);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(line.substr(spans[0].begin, spans[0].end - spans[0].begin), "1,234.50");
  EXPECT_EQ(line.substr(spans[1].begin, spans[1].end - spans[1].begin), "6.17");

  const auto word = Pattern::Compile(R"(\bRM\b)", false);
  ASSERT_TRUE(word);
  EXPECT_EQ(word->FindAll("RM 5 FIRMS RM").size(), 2u);
  // The subject starts at its first byte: \b holds there.
  EXPECT_EQ(word->FindAll("RMX").size(), 0u);
}

TEST(PatternTest, FindAllSkipsEmptyMatchesWithoutLosingLongerOnes) {
  const auto p = Pattern::Compile(R"(\d*)", false);
  ASSERT_TRUE(p);
  const auto spans = p->FindAll("a12b345");
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].begin, 1u);
  EXPECT_EQ(spans[0].end, 3u);
  EXPECT_EQ(spans[1].begin, 4u);
  EXPECT_EQ(spans[1].end, 7u);
}

TEST(PatternTest, InvalidPatternsSayWhy) {
  std::string why;
  EXPECT_FALSE(Pattern::Compile("([A-Z]+", false, &why));
  EXPECT_NE(why.find("offset"), std::string::npos) << why;
  EXPECT_FALSE(ValidPattern("a{2,1}", &why));
  EXPECT_FALSE(why.empty());
  EXPECT_TRUE(ValidPattern(R"(\b(?:RM|MYR)\b|\$|€)", &why));
  try {
    CachedPattern("(", false);
    FAIL() << "an invalid pattern was compiled";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInternal);
  }
}

TEST(PatternTest, CatastrophicBacktrackingEndsQuicklyAsNoMatch) {
  // Exponential for a backtracking engine: 2^40 ways to split the a's.
  const auto p = Pattern::Compile("(a+)+$", false);
  ASSERT_TRUE(p);
  const std::string text = std::string(40, 'a') + "!";
  const auto start = Clock::now();
  EXPECT_FALSE(p->FullMatch(text));
  EXPECT_FALSE(p->Search(text));
  EXPECT_LT(MsSince(start), 1000);
  // Short inputs within the limits still match.
  EXPECT_TRUE(p->Search("aaa"));
}

TEST(PatternTest, LongLinesNeitherOverflowNorTakeSeconds) {
  // A line of digits: quadratic for a money pattern tried at every offset, and deep
  // recursion for a recursive matcher. The longest text matched costs well under a second;
  // a longer one is not matched at all.
  const auto money = Pattern::Compile(
      R"(\$?-?\d{1,3}(?:,\d{3})*[.,] ?\d{2}(?!\d)|\$?-?\d+[.,] ?\d{2}(?!\d))", false);
  ASSERT_TRUE(money);
  const std::string digits(Pattern::kMaxText - 5, '1');
  auto start = Clock::now();
  EXPECT_TRUE(money->FindAll(digits).empty());
  ASSERT_EQ(money->FindAll(digits + " 1.50").size(), 1u);
  EXPECT_LT(MsSince(start), 1000);
  start = Clock::now();
  EXPECT_TRUE(money->FindAll(std::string(100000, '1') + " 1.50").empty());
  EXPECT_LT(MsSince(start), 50);

  // An e-mail address of 100 000 characters: refused, not crashed on.
  start = Clock::now();
  EXPECT_EQ(NormaliseEmail(std::string(100000, 'a') + "@example.com"), std::nullopt);
  EXPECT_LT(MsSince(start), 50);
  EXPECT_EQ(NormaliseEmail(" Someone@Example.COM "), "someone@example.com");
}

}  // namespace
}  // namespace scanline
