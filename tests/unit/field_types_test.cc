// Field types: check digits on published good and bad numbers, date, money, phone and e-mail
// normalisation, and validation of a value against a field's rules.
#include "core/field_types.h"

#include <gtest/gtest.h>

namespace scanline {
namespace {

TEST(LuhnTest, AcceptsPublishedNumbersAndRejectsOneDigitChanged) {
  EXPECT_TRUE(LuhnValid("79927398713"));          // the usual worked example
  EXPECT_TRUE(LuhnValid("4111 1111 1111 1111"));  // Visa test card
  EXPECT_TRUE(LuhnValid("5555-5555-5555-4444"));  // Mastercard test card
  EXPECT_TRUE(LuhnValid("490154203237518"));      // an IMEI from 3GPP TS 23.003 examples
  EXPECT_FALSE(LuhnValid("79927398710"));
  EXPECT_FALSE(LuhnValid("4111111111111112"));
  EXPECT_FALSE(LuhnValid("7992739871a"));
  EXPECT_FALSE(LuhnValid("0"));
  EXPECT_EQ(LuhnCheckDigit("7992739871"), '3');
  EXPECT_EQ(LuhnCheckDigit("12a"), std::nullopt);
}

TEST(LuhnTest, CatchesEverySingleDigitError) {
  const std::string good = "4111111111111111";
  for (size_t i = 0; i < good.size(); ++i) {
    for (char d = '0'; d <= '9'; ++d) {
      if (d == good[i]) continue;
      std::string bad = good;
      bad[i] = d;
      EXPECT_FALSE(LuhnValid(bad)) << bad;
    }
  }
}

TEST(Iso7064Test, ValidatesIbansFromIso13616) {
  EXPECT_TRUE(IbanValid("GB82 WEST 1234 5698 7654 32"));
  EXPECT_TRUE(IbanValid("DE89 3704 0044 0532 0130 00"));
  EXPECT_TRUE(IbanValid("fr1420041010050500013m02606"));
  EXPECT_FALSE(IbanValid("GB82 WEST 1234 5698 7654 33"));
  EXPECT_FALSE(IbanValid("GB28 WEST 1234 5698 7654 32"));  // check digits swapped
  EXPECT_FALSE(IbanValid("82GB WEST 1234 5698 7654 32"));
  EXPECT_TRUE(Mod97_10Valid("WEST12345698765432GB82"));  // the rearranged GB example
  EXPECT_FALSE(Mod97_10Valid("WEST12345698765432GB83"));
  EXPECT_FALSE(Mod97_10Valid("WEST-1234"));
}

TEST(Iso7064Test, ComputesMod11_2ForOrcidAndResidentIds) {
  // ORCID's documented examples, one with the check character X.
  EXPECT_TRUE(Mod11_2Valid("0000-0002-1825-0097"));
  EXPECT_TRUE(Mod11_2Valid("0000-0001-5109-3700"));
  EXPECT_TRUE(Mod11_2Valid("0000-0002-1694-233X"));
  EXPECT_EQ(Mod11_2CheckChar("000000021694233"), 'X');
  // The sample resident identity number of GB 11643-1999.
  EXPECT_TRUE(Mod11_2Valid("11010519491231002X"));
  EXPECT_FALSE(Mod11_2Valid("0000-0002-1825-0098"));
  EXPECT_FALSE(Mod11_2Valid("110105194912310021"));
  EXPECT_EQ(Mod11_2CheckChar("12a"), std::nullopt);
}

TEST(MrzCheckDigitTest, MatchesTheIcaoSpecimenPassport) {
  // ICAO 9303 part 4 appendix A specimen: L898902C3<6 ... 740812 2 ... 120415 9.
  EXPECT_EQ(MrzCheckDigit("L898902C3"), 6);
  EXPECT_EQ(MrzCheckDigit("740812"), 2);
  EXPECT_EQ(MrzCheckDigit("120415"), 9);
  EXPECT_EQ(MrzCheckDigit("ZE184226B<<<<<"), 1);
  EXPECT_EQ(MrzCheckDigit("L898902C36"
                          "7408122"
                          "1204159"
                          "ZE184226B<<<<<1"),
            0);
  EXPECT_EQ(MrzCheckDigit("<<<<"), 0);
  EXPECT_EQ(MrzCheckDigit("ab"), -1);
}

TEST(NormaliseDateTest, ReadsNumericDatesWithTheLocaleOrderOnlyWhenAmbiguous) {
  EXPECT_EQ(NormaliseDate("25/12/2018"), "2018-12-25");
  EXPECT_EQ(NormaliseDate("12-01-19"), "2019-01-12");
  EXPECT_EQ(NormaliseDate("12-01-19", DateOrder::kMonthDayYear), "2019-12-01");
  EXPECT_EQ(NormaliseDate("12/25/2018", DateOrder::kDayMonthYear), "2018-12-25");
  EXPECT_EQ(NormaliseDate("2018-03-23"), "2018-03-23");
  EXPECT_EQ(NormaliseDate("2018.3.5"), "2018-03-05");
  EXPECT_EQ(NormaliseDate("18/03/05", DateOrder::kYearMonthDay), "2018-03-05");
  EXPECT_EQ(NormaliseDate("Date: 06/01/2018 12:41 PM"), "2018-01-06");
  EXPECT_EQ(NormaliseDate("25 / 12 / 2018"), "2018-12-25");
  EXPECT_EQ(NormaliseDate("20180323"), "2018-03-23");
  EXPECT_EQ(NormaliseDate("29/02/1999"), std::nullopt);
  EXPECT_EQ(NormaliseDate("29/02/2000"), "2000-02-29");
  EXPECT_EQ(NormaliseDate("32/01/2018"), std::nullopt);
  EXPECT_EQ(NormaliseDate("12.50"), std::nullopt);
  EXPECT_EQ(NormaliseDate("1.12.50.2018"), std::nullopt);
  EXPECT_EQ(NormaliseDate("total 9.00"), std::nullopt);
}

TEST(NormaliseDateTest, ReadsMonthNamesInSeveralLanguages) {
  EXPECT_EQ(NormaliseDate("10 MAR 2018"), "2018-03-10");
  EXPECT_EQ(NormaliseDate("10MAR2018"), "2018-03-10");
  EXPECT_EQ(NormaliseDate("10-Mar-18"), "2018-03-10");
  EXPECT_EQ(NormaliseDate("Mar 10, 2018"), "2018-03-10");
  EXPECT_EQ(NormaliseDate("January 1st, 2020"), "2020-01-01");
  EXPECT_EQ(NormaliseDate("10. März 2018"), "2018-03-10");
  EXPECT_EQ(NormaliseDate("10. MÄRZ 2018"), "2018-03-10");
  EXPECT_EQ(NormaliseDate("1er août 2019"), "2019-08-01");
  EXPECT_EQ(NormaliseDate("5 de julio de 2021"), "2021-07-05");
  EXPECT_EQ(NormaliseDate("15 OGOS 2018"), "2018-08-15");
  EXPECT_EQ(NormaliseDate("3 dicembre 2017"), "2017-12-03");
  EXPECT_EQ(NormaliseDate("2018-Mar-10"), "2018-03-10");
  EXPECT_EQ(NormaliseDate("2018年3月10日"), "2018-03-10");
  EXPECT_EQ(NormaliseDate("2018년 3월 10일"), "2018-03-10");
  EXPECT_EQ(NormaliseDate("10 Marx 2018"), std::nullopt);
}

TEST(NormaliseMoneyTest, FindsTheDecimalSeparatorAndCurrency) {
  auto m = NormaliseMoney("RM 33.90");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->amount, "33.90");
  EXPECT_EQ(m->currency, "MYR");
  m = NormaliseMoney("$1,234.56");
  EXPECT_EQ(m->amount, "1234.56");
  EXPECT_EQ(m->currency, "USD");
  m = NormaliseMoney("$1,234.56", "SGD");
  EXPECT_EQ(m->currency, "SGD");
  m = NormaliseMoney("1.234,56 €");
  EXPECT_EQ(m->amount, "1234.56");
  EXPECT_EQ(m->currency, "EUR");
  m = NormaliseMoney("EUR 12,50");
  EXPECT_EQ(m->amount, "12.50");
  m = NormaliseMoney("1 234,56 EUR");
  EXPECT_EQ(m->amount, "1234.56");
  m = NormaliseMoney("1,234");
  EXPECT_EQ(m->amount, "1234");
  m = NormaliseMoney("1.234.567");
  EXPECT_EQ(m->amount, "1234567");
  m = NormaliseMoney("KWD 1.234");
  EXPECT_EQ(m->amount, "1.234");
  m = NormaliseMoney("(12.00)");
  EXPECT_EQ(m->amount, "-12.00");
  m = NormaliseMoney("-0.02");
  EXPECT_EQ(m->amount, "-0.02");
  m = NormaliseMoney("9.00", "MYR");
  EXPECT_EQ(m->amount, "9.00");
  EXPECT_EQ(m->currency, "MYR");
  m = NormaliseMoney("2 100.00");
  EXPECT_EQ(m->amount, "2");
  EXPECT_EQ(NormaliseMoney("no amount"), std::nullopt);
}

TEST(NormalisePhoneTest, ProducesE164WhenTheCountryIsKnown) {
  EXPECT_EQ(NormalisePhone("+60 12-345 6789"), "+60123456789");
  EXPECT_EQ(NormalisePhone("0049 (30) 1234567"), "+49301234567");
  EXPECT_EQ(NormalisePhone("012-345 6789", "60"), "+60123456789");
  EXPECT_EQ(NormalisePhone("012-345 6789"), "0123456789");
  EXPECT_EQ(NormalisePhone("12345"), std::nullopt);
  EXPECT_EQ(NormalisePhone("call me"), std::nullopt);
}

TEST(NormaliseEmailTest, LowerCasesAndRejectsNonAddresses) {
  EXPECT_EQ(NormaliseEmail(" Jane.Doe@Example.COM "), "jane.doe@example.com");
  EXPECT_EQ(NormaliseEmail("jane@localhost"), std::nullopt);
  EXPECT_EQ(NormaliseEmail("jane.example.com"), std::nullopt);
}

TEST(NormaliseValueTest, ReportsPatternLengthAndCheckDigitProblems) {
  ValueRules card;
  card.type = FieldType::kId;
  card.check_digit = CheckDigitScheme::kLuhn;
  card.pattern = R"([0-9 ]{12,23})";
  TypedValue good = NormaliseValue("4111 1111 1111 1111", card);
  EXPECT_TRUE(good.valid);
  EXPECT_EQ(good.normalised, "4111111111111111");
  TypedValue bad = NormaliseValue("4111 1111 1111 1112", card);
  EXPECT_FALSE(bad.valid);
  ASSERT_EQ(bad.problems.size(), 1u);
  EXPECT_EQ(bad.problems[0], "check_digit");
  TypedValue letters = NormaliseValue("4111 1111 1111 111X", card);
  EXPECT_FALSE(letters.valid);

  ValueRules date;
  date.type = FieldType::kDate;
  TypedValue d = NormaliseValue("  12-01-19 ", date);
  EXPECT_TRUE(d.valid);
  EXPECT_EQ(d.raw, "12-01-19");
  EXPECT_EQ(d.normalised, "2019-01-12");
  EXPECT_FALSE(NormaliseValue("soon", date).valid);

  ValueRules money;
  money.type = FieldType::kMoney;
  money.currency = "MYR";
  TypedValue m = NormaliseValue("9.00", money);
  EXPECT_EQ(m.normalised, "9.00");
  EXPECT_EQ(m.currency, "MYR");

  ValueRules text;
  text.min_length = 3;
  EXPECT_FALSE(NormaliseValue("ab", text).valid);
  EXPECT_FALSE(NormaliseValue("", text).valid);
}

TEST(MaskValueTest, KeepsOnlyTheLastFourOfLongValues) {
  EXPECT_EQ(MaskValue("4111111111111111"), "************1111");
  EXPECT_EQ(MaskValue("L898902C3"), "*****02C3");
  EXPECT_EQ(MaskValue("ANNA"), "****");
  EXPECT_EQ(MaskValue("Jürgen Müller"), "****** **ller");
}

TEST(CollapseWhitespaceTest, TrimsAndJoinsRuns) {
  EXPECT_EQ(CollapseWhitespace("  a \t b\n\nc  "), "a b c");
  EXPECT_EQ(CollapseWhitespace("a\xC2\xA0"
                               "b"),
            "a b");
}

}  // namespace
}  // namespace scanline
