// OCR options by name: defaults from the configuration, every good value, and every bad value
// refused with invalid_option naming the option.
#include "core/ocr_options.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace scanline {
namespace {

OcrConfig Config() {
  OcrConfig config;
  config.default_lang = "eng";
  config.default_psm = 6;
  config.max_deadline_ms = 30000;
  return config;
}

// The option an InvalidOption error names ("" when it is another error).
std::string RefusedOption(std::string_view name, std::string_view value) {
  OcrRequestOptions options = DefaultOcrRequestOptions(Config());
  try {
    SetOcrOption(options, name, value, Config());
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInvalidOption) return "wrong code";
    for (const auto& [key, v] : e.extensions()) {
      if (key == "option") {
        EXPECT_NE(std::string(e.detail()).find(v), std::string::npos) << e.detail();
        return v;
      }
    }
    return "no option member";
  }
  return "";
}

TEST(OcrOptionsTest, DefaultsComeFromTheConfiguration) {
  OcrConfig config = Config();
  config.default_lang = "eng+deu";
  config.default_psm = 4;
  const OcrRequestOptions options = DefaultOcrRequestOptions(config);
  EXPECT_EQ(options.ocr.lang, "eng+deu");
  EXPECT_EQ(options.ocr.psm, 4);
  EXPECT_EQ(options.ocr.deadline_ms, 30000);
  EXPECT_EQ(options.ocr.preprocess.mode, PreprocessOptions::Mode::kAuto);
  EXPECT_EQ(options.ocr.level, OcrLevel::kWords);
  EXPECT_EQ(options.format, OcrFormat::kJson);
  EXPECT_FALSE(options.ocr.roi.has_value());
}

TEST(OcrOptionsTest, SetsEveryOption) {
  OcrRequestOptions options = DefaultOcrRequestOptions(Config());
  SetOcrOption(options, "lang", "eng+fra", Config());
  SetOcrOption(options, "psm", "11", Config());
  SetOcrOption(options, "roi", "10,20,300,40", Config());
  SetOcrOption(options, "preprocess", "grey,binarise", Config());
  SetOcrOption(options, "level", "lines", Config());
  SetOcrOption(options, "format", "hocr", Config());
  SetOcrOption(options, "deadline_ms", "1500", Config());
  EXPECT_EQ(options.ocr.lang, "eng+fra");
  EXPECT_EQ(options.ocr.psm, 11);
  ASSERT_TRUE(options.ocr.roi.has_value());
  EXPECT_EQ(RoiText(*options.ocr.roi), "10,20,300,40");
  EXPECT_EQ(PreprocessText(options.ocr.preprocess), "grey,binarise");
  EXPECT_EQ(options.ocr.level, OcrLevel::kLines);
  EXPECT_EQ(options.format, OcrFormat::kHocr);
  EXPECT_TRUE(options.ocr.hocr);
  EXPECT_FALSE(options.ocr.tsv);
  EXPECT_EQ(options.ocr.deadline_ms, 1500);

  SetOcrOption(options, "format", "tsv", Config());
  EXPECT_TRUE(options.ocr.tsv);
  EXPECT_FALSE(options.ocr.hocr);
}

TEST(OcrOptionsTest, DeadlineIsCappedByTheServer) {
  OcrRequestOptions options = DefaultOcrRequestOptions(Config());
  SetOcrOption(options, "deadline_ms", "3600000", Config());
  EXPECT_EQ(options.ocr.deadline_ms, 30000);
}

TEST(OcrOptionsTest, EveryBadValueNamesItsOption) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> bad = {
      {"lang", {"", std::string(300, 'a')}},
      {"psm", {"", "0", "14", "-1", "6.5", "six", "6 ", "99999999999"}},
      {"roi",
       {"", "1,2,3", "1,2,3,4,5", "a,b,c,d", "-1,0,10,10", "0,0,0,10", "0,0,10,0",
        "0.5,0.5,0.6,0.2", "10.5,0,20,20", "1,2,3,nan", "1,2,3,inf"}},
      {"preprocess", {"", "sharpen", "grey,,binarise", "AUTO"}},
      {"level", {"", "chars", "WORDS"}},
      {"format", {"", "xml", "pdf", "JSON"}},
      {"deadline_ms", {"", "0", "-5", "1e3", "soon", "99999999999"}},
  };
  for (const auto& [name, values] : bad) {
    for (const auto& value : values) {
      EXPECT_EQ(RefusedOption(name, value), name) << name << "=" << value;
    }
  }
}

TEST(OcrOptionsTest, UnknownOptionIsNamed) {
  EXPECT_EQ(RefusedOption("language", "eng"), "language");
}

TEST(OcrOptionsTest, RoiInPixelsOrFractions) {
  Roi pixels = ParseRoi("0,5,100,50");
  EXPECT_FALSE(pixels.fractional);
  EXPECT_EQ(pixels.w, 100);
  Roi fractions = ParseRoi("0.1,0.2,0.5,0.25");
  EXPECT_TRUE(fractions.fractional);
  EXPECT_DOUBLE_EQ(fractions.h, 0.25);
  EXPECT_EQ(RoiText(fractions), "0.1,0.2,0.5,0.25");
  // Whole numbers up to 1 without a decimal point are pixels.
  EXPECT_FALSE(ParseRoi("0,0,1,1").fractional);
}

TEST(OcrOptionsTest, NamesOfLevelsAndFormats) {
  EXPECT_EQ(LevelName(OcrLevel::kText), "text");
  EXPECT_EQ(LevelName(OcrLevel::kLines), "lines");
  EXPECT_EQ(LevelName(OcrLevel::kWords), "words");
  EXPECT_EQ(FormatName(OcrFormat::kJson), "json");
  EXPECT_EQ(FormatName(OcrFormat::kHocr), "hocr");
  EXPECT_EQ(FormatName(OcrFormat::kTsv), "tsv");
  EXPECT_EQ(FormatName(OcrFormat::kText), "text");
}

}  // namespace
}  // namespace scanline
