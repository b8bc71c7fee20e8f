// Scoring a template on labelled documents (`scanline templates eval`): the SROIE rule for a
// match, the counts per field and overall, and the report.
#include "core/template_eval.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace scanline {
namespace {

ExtractedField Found(const std::string& name, const std::string& raw) {
  ExtractedField f;
  f.name = name;
  f.found = true;
  f.value.raw = raw;
  return f;
}

ExtractedField Missing(const std::string& name) {
  ExtractedField f;
  f.name = name;
  return f;
}

TEST(TemplateEvalTest, ValuesMatchAfterCollapsingWhitespaceAndCase) {
  EXPECT_TRUE(SameFieldValue("  ABC   Sdn Bhd ", "abc sdn bhd"));
  EXPECT_TRUE(SameFieldValue("9.00", "9.00"));
  EXPECT_FALSE(SameFieldValue("ABC SDN BHD", "ABD SDN BHD"));
  EXPECT_FALSE(SameFieldValue("9.00", "9.0"));
  EXPECT_FALSE(SameFieldValue("", "x"));
}

TEST(TemplateEvalTest, CountsEachFieldAndTheMicroAverage) {
  EvalReport report;
  std::vector<std::string> mismatches;
  // Right; wrong (a false positive and a false negative); missing; extracted where the label
  // says the document has none; and a field no label scores.
  ScoreDocument({Found("company", "A  B"), Found("total", "9.00"), Missing("date"),
                 Found("address", "1 Main St"), Found("phone", "555")},
                {{"company", "a b"}, {"total", "9.10"}, {"date", "1/1/19"}, {"address", ""}},
                report, &mismatches);
  ScoreDocument(
      {Found("company", "C"), Found("total", "9.10"), Found("date", "2/2/19"), Missing("address")},
      {{"company", "C"}, {"total", "9.10"}, {"date", "2/2/19"}, {"address", ""}}, report);
  EXPECT_EQ(report.documents, 2);
  std::map<std::string, FieldScore> by_name;
  for (const FieldScore& f : report.fields) by_name[f.field] = f;
  ASSERT_EQ(by_name.size(), 4u);  // phone has no label anywhere
  EXPECT_EQ(by_name["company"].true_positives, 2);
  EXPECT_EQ(by_name["total"].true_positives, 1);
  EXPECT_EQ(by_name["total"].false_positives, 1);
  EXPECT_EQ(by_name["total"].false_negatives, 1);
  EXPECT_EQ(by_name["date"].false_negatives, 1);
  EXPECT_EQ(by_name["date"].false_positives, 0);
  EXPECT_EQ(by_name["address"].false_positives, 1);
  EXPECT_EQ(by_name["address"].false_negatives, 0);
  EXPECT_DOUBLE_EQ(by_name["total"].Precision(), 0.5);
  EXPECT_DOUBLE_EQ(by_name["date"].Recall(), 0.5);
  EXPECT_EQ(by_name["date"].true_positives, 1);
  // Overall: 4 right, 2 wrong or unwanted values, 2 labels missed.
  EXPECT_EQ(report.overall.true_positives, 4);
  EXPECT_EQ(report.overall.false_positives, 2);
  EXPECT_EQ(report.overall.false_negatives, 2);
  EXPECT_NEAR(report.overall.F1(), 2.0 / 3, 1e-9);  // P = R = 4 / 6
  EXPECT_EQ(mismatches.size(), 3u);                 // total, date and address of the first document
  const std::string text = EvalReportText(report);
  EXPECT_NE(text.find("overall"), std::string::npos) << text;
  EXPECT_NE(text.find("2 documents"), std::string::npos) << text;
}

TEST(TemplateEvalTest, FindsTheImagesThatHaveKeys) {
  const std::string dir = ::testing::TempDir() + "eval_folder";
  std::filesystem::create_directories(dir + "/img");
  std::filesystem::create_directories(dir + "/key");
  for (const char* name : {"b.jpg", "a.png", "unlabelled.jpg"}) std::ofstream(dir + "/img/" + name);
  std::ofstream(dir + "/key/a.json") << R"({"total": "1.00"})";
  std::ofstream(dir + "/key/b.json") << R"({"total": "2.00", "date": ""})";
  const auto docs = LabelledDocuments(dir);
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(std::filesystem::path(docs[0].first).filename(), "a.png");
  EXPECT_EQ(std::filesystem::path(docs[1].second).filename(), "b.json");
  const auto labels = ReadFieldLabels(docs[1].second);
  EXPECT_EQ(labels.at("total"), "2.00");
  EXPECT_EQ(labels.at("date"), "");
  std::ofstream(dir + "/key/a.json") << "not json";
  EXPECT_THROW(ReadFieldLabels(docs[0].second), Error);
}

}  // namespace
}  // namespace scanline
