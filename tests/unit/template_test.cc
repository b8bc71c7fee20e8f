// Tests for core/template: the OCR settings a template carries for its document type.
#include "core/template.h"

#include <gtest/gtest.h>

#include "core/config.h"
#include "core/error.h"
#include "core/forms.h"

namespace scanline {
namespace {

constexpr char kMinimal[] =
    R"({"document_type": "note", "fields": [{"name": "title", "type": "text"}]})";

TEST(TemplateTest, PageSegmentationModeRoundTripsAndReachesTheOcrOptions) {
  Template t = ParseTemplate(
      R"({"document_type": "note", "ocr_psm": 6, "fields": [{"name": "title", "type": "text"}]})");
  EXPECT_EQ(t.ocr_psm, 6);
  EXPECT_EQ(ParseTemplate(TemplateToJson(t)), t);
  OcrConfig config;
  config.default_psm = 4;
  EXPECT_EQ(FormOcrOptions(t, config).psm, 6);
}

TEST(TemplateTest, WithoutAPageSegmentationModeTheConfiguredDefaultApplies) {
  Template t = ParseTemplate(kMinimal);
  EXPECT_EQ(t.ocr_psm, 0);
  EXPECT_EQ(TemplateToJson(t).find("ocr_psm"), std::string::npos);
  OcrConfig config;
  config.default_psm = 4;
  EXPECT_EQ(FormOcrOptions(t, config).psm, 4);
}

TEST(TemplateTest, RefusesAPageSegmentationModeOutOfRange) {
  for (const char* bad : {"14", "-1", "\"6\""}) {
    try {
      ParseTemplate(std::string(R"({"document_type": "note", "ocr_psm": )") + bad +
                    R"(, "fields": [{"name": "title", "type": "text"}]})");
      ADD_FAILURE() << "accepted ocr_psm " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kUnprocessable) << bad;
      EXPECT_NE(std::string(e.detail()).find("ocr_psm"), std::string::npos) << e.detail();
    }
  }
}

TEST(TemplateTest, TheBuiltInReceiptTemplateReadsOneUniformBlock) {
  Template t = LoadTemplateFile(SCANLINE_SOURCE_DIR "/templates/receipt.json");
  EXPECT_EQ(FormOcrOptions(t, OcrConfig()).psm, 6);
}

TEST(TemplateTest, TheRereadHintRoundTripsAndIsSetForTheReceiptsNameAndAddress) {
  Template t = ParseTemplate(
      R"({"document_type": "note", "fields": [{"name": "title", "type": "text",
          "rules": {"locate": "header", "reread": true}}, {"name": "body", "type": "text"}]})");
  EXPECT_TRUE(t.fields[0].hints.reread);
  EXPECT_FALSE(t.fields[1].hints.reread);
  EXPECT_EQ(ParseTemplate(TemplateToJson(t)), t);
  Template without = t;
  without.fields[0].hints.reread = false;
  EXPECT_FALSE(ParseTemplate(TemplateToJson(without)) == t);
  EXPECT_THROW(ParseTemplate(R"({"document_type": "note", "fields": [{"name": "title",
                   "type": "text", "rules": {"reread": "yes"}}]})"),
               Error);
  Template receipt = LoadTemplateFile(SCANLINE_SOURCE_DIR "/templates/receipt.json");
  for (const FieldSpec& f : receipt.fields) {
    EXPECT_EQ(f.hints.reread, f.name == "company" || f.name == "address") << f.name;
  }
}

}  // namespace
}  // namespace scanline
