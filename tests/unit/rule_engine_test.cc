// Label matching and the rule engine on OCR lines built by hand (no OCR): fuzzy labels,
// exclusions, values right of and under labels, multi-line blocks, header names, key/value
// pairs; and the built-in templates parse and round-trip.
#include "core/rule_engine.h"

#include <gtest/gtest.h>

#include "core/label_match.h"
#include "core/mrz.h"
#include "core/template.h"

namespace scanline {
namespace {

// A page whose lines are given as text at y = 30 * index; words get boxes 12 px a character.
OcrPage Page(const std::vector<std::string>& lines, int width = 600) {
  OcrPage page;
  page.width = width;
  page.height = 30 * static_cast<int>(lines.size()) + 30;
  OcrBlock block;
  for (size_t i = 0; i < lines.size(); ++i) {
    OcrLine line;
    line.confidence = 90;
    int x = 10;
    const int y = 30 * static_cast<int>(i) + 10;
    size_t p = 0;
    const std::string& text = lines[i];
    while (p < text.size()) {
      while (p < text.size() && text[p] == ' ') {
        x += 12;
        ++p;
      }
      size_t q = p;
      while (q < text.size() && text[q] != ' ') ++q;
      if (q > p) {
        const int w = 12 * static_cast<int>(q - p);
        line.words.push_back({text.substr(p, q - p), 90, {x, y, w, 20}});
        line.text += (line.text.empty() ? "" : " ") + text.substr(p, q - p);
        x += w;
      }
      p = q;
    }
    line.box = {10, y, x - 10, 20};
    block.lines.push_back(line);
  }
  page.blocks.push_back(block);
  return page;
}

Template Receipt() { return LoadTemplateFile(SCANLINE_SOURCE_DIR "/templates/receipt.json"); }

const ExtractedField& Get(const RuleExtraction& r, const std::string& name) {
  for (const auto& f : r.fields) {
    if (f.name == name) return f;
  }
  static ExtractedField none;
  ADD_FAILURE() << name;
  return none;
}

TEST(LabelMatchTest, ToleratesOcrErrorsInProportionToLength) {
  EXPECT_TRUE(FindLabel(PrepareLine("TOTAI: 9.00"), "TOTAL").found);
  EXPECT_TRUE(FindLabel(PrepareLine("GRAND T0TAL 12.00"), "GRAND TOTAL").found);
  EXPECT_TRUE(FindLabel(PrepareLine("GRANDTOTAL 12.00"), "GRAND TOTAL").found);  // merged
  EXPECT_FALSE(FindLabel(PrepareLine("TAX 1.00"), "TAN").found);  // short labels: exact
  EXPECT_FALSE(FindLabel(PrepareLine("SUBTOTAL 9.00"), "TOTAL").found);
  LabelMatch m = FindLabel(PrepareLine("Date:25/12/2018"), "DATE");
  ASSERT_TRUE(m.found);
  EXPECT_EQ(m.text_end, 5u);  // "Date:" is its own token
  EXPECT_EQ(FindAnyLabel(PrepareLine("GRAND TOTAL 5.00"), {"TOTAL", "GRAND TOTAL"}).label,
            "GRAND TOTAL");
  EXPECT_GT(PhraseSimilarity("date_of_birth", "Date of birth:"), 0.99);
  EXPECT_LT(PhraseSimilarity("email", "Signature"), 0.5);
  EXPECT_EQ(EditDistance("kitten", "sitting", 5), 3);
  EXPECT_EQ(EditDistance("kitten", "sitting", 1), 2);  // gives up past the limit
}

TEST(RuleEngineTest, FindsReceiptFieldsAndSkipsExcludedLabels) {
  OcrPage page =
      Page({"ACME TRADING SDN BHD", "(12345-X)", "NO 5, JALAN BESAR 2,", "TAMAN MAJU, 43000 KAJANG",
            "TEL: 03-1234 5678", "TAX INVOICE", "DATE : 03/04/2018 12:30", "ITEM A        2.00",
            "SUB TOTAL     9.10", "TOTAL (EXCLUDING GST)   8.58", "GST 6%        0.52",
            "ROUNDED TOTAL  9.10", "CASH         20.00", "CHANGE       10.90"});
  RuleExtraction r = ExtractWithRules(Receipt(), {page});
  EXPECT_EQ(Get(r, "company").value.raw, "ACME TRADING SDN BHD");
  EXPECT_EQ(Get(r, "address").value.raw, "NO 5, JALAN BESAR 2, TAMAN MAJU, 43000 KAJANG");
  EXPECT_EQ(Get(r, "date").value.raw, "03/04/2018");
  EXPECT_EQ(Get(r, "date").value.normalised, "2018-04-03");  // day first, per the template
  EXPECT_EQ(Get(r, "total").value.raw, "9.10");
  EXPECT_EQ(Get(r, "total").label, "ROUNDED TOTAL");
  EXPECT_TRUE(Get(r, "total").value.valid);
  EXPECT_EQ(Get(r, "tax").value.raw, "0.52");
  EXPECT_GT(Get(r, "total").box.x, 100);
}

// Receipt lines for a total's cross-checks: a company line, then `lines`.
RuleExtraction ReceiptTotal(std::vector<std::string> lines) {
  lines.insert(lines.begin(), {"ACME TRADING SDN BHD", "DATE : 03/04/2018"});
  return ExtractWithRules(Receipt(), {Page(lines)});
}

TEST(TotalChecksTest, PaidLessChangeCorrectsOneMisreadDigitOfTheTotal) {
  RuleExtraction r =
      ReceiptTotal({"Total Amount:     37.00", "Cash Received   101.00", "Change :         70.00"});
  EXPECT_EQ(Get(r, "total").value.raw, "31.00");
  EXPECT_EQ(Get(r, "total").label, "TOTAL AMOUNT");
  // Paid less change two digits away from the total read is no correction of it.
  r = ReceiptTotal({"Total Amount:     37.00", "Cash Received   100.00", "Change :  20.00"});
  EXPECT_EQ(Get(r, "total").value.raw, "37.00");
  // Nor is it taken when the total is confirmed by a second line with the same amount.
  r = ReceiptTotal({"Total Amount: $8.60", "Nett Total: $8.60", "CASH $2.60", "Change $0.00"});
  EXPECT_EQ(Get(r, "total").value.raw, "$8.60");
}

TEST(TotalChecksTest, AnAmountOffTheCashStepLosesToTheRoundedOne) {
  // The rounded total printed without a label is found by total + rounding.
  RuleExtraction r =
      ReceiptTotal({"TOTAL RM 60.31", "ROUNDING ADJ  -0.01", "RM 60.30", "Thank you"});
  EXPECT_EQ(Get(r, "total").value.raw, "60.30");
  // With nothing to check it against, the total is taken as read.
  r = ReceiptTotal({"TOTAL RM 60.31", "Thank you"});
  EXPECT_EQ(Get(r, "total").value.raw, "60.31");
}

TEST(TotalChecksTest, SubtotalPlusChargesFindsATotalWhoseLabelIsMisread) {
  // "SERVICE CHARGE" is an adjustment, not a fuzzy "CHANGE"; "TOR:" matches no total label.
  RuleExtraction r = ReceiptTotal({"Sub Total :   RM 68.87", "Service Charge ; RM 0.00",
                                   "GST 6% :  RM 4.13", "TOR: RM 73.00", "Thank you"});
  EXPECT_EQ(Get(r, "total").value.raw, "73.00");
  // A sum printed nowhere is not made up.
  r = ReceiptTotal({"Sub Total :   RM 68.87", "Service Charge ; RM 0.00", "GST 6% :  RM 4.13",
                    "TOR: RM 75.00", "Thank you"});
  EXPECT_FALSE(Get(r, "total").found);
}

TEST(TotalChecksTest, FindsAnUnlabelledTotalAsCashLessAMisreadChangeLabel) {
  // "TLiRM" is no label; "CASH SHANGE" reads best as "CASH CHANGE", so 100.00 - 71.40 is
  // checked against the amounts printed, "28 .60" among them.
  RuleExtraction r = ReceiptTotal(
      {"1 FISH BALL 1.20", "TLiRM 28 .60", "CASH 100.00", "CASH SHANGE 71.40", "THANK YOU"});
  EXPECT_EQ(Get(r, "total").value.raw, "28.60");
  // Without the change line nothing confirms 28.60 and no total is claimed.
  r = ReceiptTotal({"1 FISH BALL 1.20", "TLiRM 28 .60", "CASH 100.00", "THANK YOU"});
  EXPECT_FALSE(Get(r, "total").found);
}

TEST(TotalChecksTest, ChecksAreForMoneyFieldsOnly) {
  EXPECT_THROW(ParseTemplate(R"({"document_type":"t","fields":[{"name":"n","type":"text",
    "rules":{"locate":"label","labels":["NAME"],"checks":{"paid":["CASH"]}}}]})"),
               std::exception);
  EXPECT_THROW(ParseTemplate(R"({"document_type":"t","fields":[{"name":"n","type":"money",
    "rules":{"locate":"label","labels":["TOTAL"],"checks":{"tip":["TIP"]}}}]})"),
               std::exception);
}

TEST(CompanyRulesTest, DropsATrailingRegistrationNumberAndJoinsANameEndingInAmpersand) {
  // The registration number would make the line look like a number, not a name.
  RuleExtraction r = ExtractWithRules(
      Receipt(), {Page({"~ AEON CO. (M) BHD (126926-8) ; ,", "3RD FLR, AEON TAMAN MALURI",
                        "JLN JEJAKA, 55100 KUALA LUMPUR"})});
  EXPECT_EQ(Get(r, "company").value.raw, "AEON CO. (M) BHD");
  r = ExtractWithRules(
      Receipt(),
      {Page({"HOME MASTER HARDWARE &", "ELECTRICAL", "NO.113G, JALAN SETIA, 40170 SHAH ALAM"})});
  EXPECT_EQ(Get(r, "company").value.raw, "HOME MASTER HARDWARE & ELECTRICAL");
  // A name not ending in '&' stays on its line; a bracket without a number stays in it.
  r = ExtractWithRules(Receipt(), {Page({"MR D.I.Y. (M) SDN BHD", "(TESCO PUTRA NILAI)",
                                         "LOT 1851-A, JALAN KPB 6, 43300 SERI KEMBANGAN"})});
  EXPECT_EQ(Get(r, "company").value.raw, "MR D.I.Y. (M) SDN BHD");
}

TEST(AddressRulesTest, AHouseNumberOpensTheBlockAndABracketedBranchEndsIt) {
  RuleExtraction r = ExtractWithRules(
      Receipt(), {Page({"THREE STOOGES SDN BHD", "109, SS21/1A,", "DAMANSARA UTAMA",
                        "GST ID : 001661886464", "TOTAL 12.00"})});
  EXPECT_EQ(Get(r, "address").value.raw, "109, SS21/1A, DAMANSARA UTAMA");
  // A number without a comma after it opens nothing.
  r = ExtractWithRules(Receipt(), {Page({"THREE STOOGES SDN BHD", "109 SS21/1A", "DAMANSARA UTAMA",
                                         "GST ID : 001661886464", "TOTAL 12.00"})});
  EXPECT_FALSE(Get(r, "address").found);
  r = ExtractWithRules(
      Receipt(), {Page({"MR D.I.Y. (JOHOR) SDN BHD", "— LOT 1851-A, JALAN KPB 6, \xe2\x80\x94",
                        "43300 SERI KEMBANGAN, SELANGOR", "(MR DIY TESCO TERBAU)", "INVOICE"})});
  EXPECT_EQ(Get(r, "address").value.raw,
            "LOT 1851-A, JALAN KPB 6, 43300 SERI KEMBANGAN, SELANGOR (MR DIY TESCO TERBAU)");
  // A bracket with a number in it is a registration, not a branch.
  r = ExtractWithRules(Receipt(),
                       {Page({"MR D.I.Y. (JOHOR) SDN BHD", "LOT 1851-A, JALAN KPB 6,",
                              "43300 SERI KEMBANGAN, SELANGOR", "(860671-D)", "INVOICE"})});
  EXPECT_EQ(Get(r, "address").value.raw, "LOT 1851-A, JALAN KPB 6, 43300 SERI KEMBANGAN, SELANGOR");
}

TEST(CompanyRulesTest, AHyphenReadForTheSpaceBeforeALegalFormIsASpace) {
  RuleExtraction r = ExtractWithRules(
      Receipt(), {Page({"UNIHAKKA INTERNATIONAL-SDN BHD", "12, Jalan Tampoi 7/4, 81200 Johor"})});
  EXPECT_EQ(Get(r, "company").value.raw, "UNIHAKKA INTERNATIONAL SDN BHD");
  // A hyphen inside a word that only begins like a legal form stays.
  r = ExtractWithRules(Receipt(), {Page({"CO-SDNX TRADING", "12, Jalan Tampoi 7/4, 81200 Johor"})});
  EXPECT_EQ(Get(r, "company").value.raw, "CO-SDNX TRADING");
}

TEST(DateRulesTest, ADateFollowedByATimeOfDayWins) {
  RuleExtraction r =
      ExtractWithRules(Receipt(), {Page({"PASAR MINI JIN SENG", "TAXINV :002-1550040 19/03/16",
                                         "18/03/18 09:03 #002", "TOTAL 28.60"})});
  EXPECT_EQ(Get(r, "date").value.raw, "18/03/18");
  // Without a time the first date stays the one taken.
  r = ExtractWithRules(Receipt(), {Page({"PASAR MINI JIN SENG", "TAXINV :002-1550040 19/03/16",
                                         "18/03/18 #002", "TOTAL 28.60"})});
  EXPECT_EQ(Get(r, "date").value.raw, "19/03/16");
}

TEST(AddressRulesTest, RepairsPostcodesAndStreetWordsOnlyWhereTheyFitAKnownShape) {
  RuleExtraction r =
      ExtractWithRules(Receipt(), {Page({"KEDAI ACME SDN BHD", "425, Jaian PAHANG, SETAPAK,",
                                         "S3000 KUALA LUMPUR, MALAYSTA.", "TEL 03-1234 5678"})});
  EXPECT_EQ(Get(r, "address").value.raw,
            "425, Jalan PAHANG, SETAPAK, 53000 KUALA LUMPUR, MALAYSIA.");
  // Not a postcode (too few digits), not one substitution from a single known word, or a
  // known word already: left as read.
  r = ExtractWithRules(Receipt(), {Page({"KEDAI ACME SDN BHD", "425, JALAN PAHANG, SETAPAK,",
                                         "SS2OO 53000 KUALA LUMPUR, TAMPOL", "TEL 03-1234 5678"})});
  EXPECT_EQ(Get(r, "address").value.raw,
            "425, JALAN PAHANG, SETAPAK, SS2OO 53000 KUALA LUMPUR, TAMPOL");
}

TEST(WordConfidenceTest, AValueWithADoubtfulWordIsMissingButStillPlacesTheFieldsAfterIt) {
  OcrPage page = Page({"BOOK TA .K (TAMAN DAYA) SDN BHD", "NO.53 JALAN SAGU 18,",
                       "81100 JOHOR BAHRU, JOHOR", "TEL 07-123 4567", "TOTAL 9.00"});
  RuleExtraction r = ExtractWithRules(Receipt(), {page});
  EXPECT_EQ(Get(r, "company").value.raw, "BOOK TA .K (TAMAN DAYA) SDN BHD");
  EXPECT_EQ(Get(r, "address").value.raw, "NO.53 JALAN SAGU 18, 81100 JOHOR BAHRU, JOHOR");
  // "SAGU" read with 40 % confidence: below the address's 55, above nothing else's.
  page.blocks[0].lines[1].words[2].confidence = 40;
  // "TA" read with 30 %: the name is not returned, yet the address is still found under it.
  page.blocks[0].lines[0].words[1].confidence = 30;
  r = ExtractWithRules(Receipt(), {page});
  EXPECT_FALSE(Get(r, "company").found);
  EXPECT_FALSE(Get(r, "address").found);
  page.blocks[0].lines[1].words[2].confidence = 60;
  r = ExtractWithRules(Receipt(), {page});
  EXPECT_EQ(Get(r, "address").value.raw, "NO.53 JALAN SAGU 18, 81100 JOHOR BAHRU, JOHOR");
  // A doubtful word elsewhere on the page does not count.
  page.blocks[0].lines[0].words[1].confidence = 90;
  page.blocks[0].lines[4].words[0].confidence = 10;
  r = ExtractWithRules(Receipt(), {page});
  EXPECT_TRUE(Get(r, "company").found);
  EXPECT_EQ(Get(r, "total").value.raw, "9.00");
}

TEST(WordConfidenceTest, AFieldNamesTheLinesItsValueCameFromEvenWhenWithheld) {
  OcrPage page = Page({"BOOK TA .K (TAMAN DAYA) SDN BHD", "NO.53 JALAN SAGU 18,",
                       "81100 JOHOR BAHRU, JOHOR", "TEL 07-123 4567", "TOTAL 9.00"});
  page.blocks[0].lines[1].words[2].confidence = 40;  // "SAGU": the address is withheld
  const RuleExtraction r = ExtractWithRules(Receipt(), {page});
  const auto& lines = page.blocks[0].lines;
  EXPECT_EQ(Get(r, "company").source_lines, std::vector<PixelBox>{lines[0].box});
  EXPECT_FALSE(Get(r, "address").found);
  EXPECT_EQ(Get(r, "address").source_lines, (std::vector<PixelBox>{lines[1].box, lines[2].box}));
  EXPECT_EQ(Get(r, "address").page, 0);
  EXPECT_EQ(Get(r, "total").source_lines, std::vector<PixelBox>{lines[4].box});
  EXPECT_TRUE(Get(r, "tax").source_lines.empty());
}

TEST(DateRulesTest, TwoInvalidReadingsOfOneDateMakeAValidOne) {
  RuleExtraction r =
      ExtractWithRules(Receipt(), {Page({"CASTLE BLUE S/B", "Date : 36/03/2018 5:35 PM",
                                         "TOTAL 189.75", "PRINTED : 30/83/2018 11:19 PM"})});
  EXPECT_EQ(Get(r, "date").value.raw, "30/03/2018");
  EXPECT_TRUE(Get(r, "date").value.valid);
  // Days that differ and months both misread: nothing tells which day, no date is made up.
  r = ExtractWithRules(Receipt(), {Page({"CASTLE BLUE S/B", "Date : 16/33/2018 5:35 PM",
                                         "TOTAL 189.75", "PRINTED : 18/83/2018 11:19 PM"})});
  EXPECT_FALSE(Get(r, "date").value.valid);
  EXPECT_EQ(Get(r, "date").value.raw, "16/33/2018");
}

TEST(CompanyRulesTest, ALegalFormReadWithConfusedCharactersIsSpeltAsTheKeyword) {
  // "$/B" is S/B: the line is the name (over "BREWERY TAP" above it), spelt right.
  RuleExtraction r = ExtractWithRules(
      Receipt(), {Page({"BREWERY TAP", "Owner by Castle Blue $/B", "GST No : 882198047360"})});
  EXPECT_EQ(Get(r, "company").value.raw, "Owner by Castle Blue S/B");
  // A character OCR does not confuse for the keyword's ('H' for 'B') is no keyword.
  r = ExtractWithRules(
      Receipt(), {Page({"BREWERY TAP", "Owner by Castle Blue S/H", "GST No : 882198047360"})});
  EXPECT_EQ(Get(r, "company").value.raw, "BREWERY TAP");
}

TEST(RuleEngineTest, ReadsValuesUnderTheirLabelAndReportsMissingFields) {
  Template t = ParseTemplate(R"({"document_type":"t","fields":[
    {"name":"invoice_no","type":"id","required":true,"rules":{"locate":"label",
      "labels":{"en":["INVOICE NO"]},"value_pattern":"[A-Z0-9-]{4,}","position":["right","below"]}},
    {"name":"iban","type":"id","validation":{"check_digit":"iban"},
     "rules":{"locate":"pattern","value_pattern":"[A-Z]{2}[0-9]{2}[A-Z0-9 ]{10,30}"}}]})");
  RuleExtraction r = ExtractWithRules(t, {Page({"INVOICE NO", "INV-2041", "Thanks"})});
  EXPECT_EQ(Get(r, "invoice_no").value.raw, "INV-2041");
  EXPECT_FALSE(Get(r, "iban").found);
  // A value failing its check digit is kept but marked invalid.
  r = ExtractWithRules(t, {Page({"IBAN GB82WEST12345698765433"})});
  EXPECT_TRUE(Get(r, "iban").found);
  EXPECT_FALSE(Get(r, "iban").value.valid);
  r = ExtractWithRules(t, {Page({"IBAN GB82WEST12345698765432"})});
  EXPECT_TRUE(Get(r, "iban").value.valid);
}

TEST(RuleEngineTest, PairsKeysWithValuesByLayout) {
  auto pairs = FindKeyValuePairs(
      {Page({"Name:      John Smith", "Phone: 555-1234", "Address:", "12 High Street"})});
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_EQ(pairs[0].key, "Name");
  EXPECT_EQ(pairs[0].value, "John Smith");
  EXPECT_EQ(pairs[1].key, "Phone");
  EXPECT_EQ(pairs[1].value, "555-1234");
  EXPECT_EQ(pairs[2].key, "Address");
  EXPECT_EQ(pairs[2].value, "12 High Street");
}

TEST(MrzRepairTest, ReadsAZoneDespiteOcrConfusionsAndCatchesABadCheckDigit) {
  // ICAO 9303 part 4 specimen, as OCR tends to return it: spaces, lower-case 'c' and 'k'
  // for the filler, the letter O for a zero in the birth date.
  auto r = FindMrz({"Passport", "P<UTOERIKSSON<<ANNA<MARIA<<<<<<ccc<<<<<<<<<kk<<",
                    "L898902C36 UTO74O8122F1204159ZE184226B<<<<<10"},
                   2024);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->AllChecksPass());
  EXPECT_EQ(r->document_number, "L898902C3");
  EXPECT_EQ(r->birth_date, "1974-08-12");
  EXPECT_EQ(r->given_names, "ANNA MARIA");
  // Read as given (no repair), a changed document number fails its check digit.
  auto bad = ParseMrz({"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
                       "L898902C46UTO7408122F1204159ZE184226B<<<<<10"},
                      2024);
  ASSERT_TRUE(bad.has_value());
  EXPECT_FALSE(bad->document_number_ok);
  EXPECT_FALSE(bad->AllChecksPass());
}

TEST(BuiltinTemplatesTest, ParseAndRoundTrip) {
  for (const Template& t : LoadTemplateDir(SCANLINE_SOURCE_DIR "/templates")) {
    EXPECT_EQ(ParseTemplate(TemplateToJson(t)), t) << t.document_type;
    EXPECT_FALSE(t.prompt.empty()) << t.document_type;
  }
  EXPECT_EQ(LoadTemplateDir(SCANLINE_SOURCE_DIR "/templates").size(), 4u);
}

}  // namespace
}  // namespace scanline
