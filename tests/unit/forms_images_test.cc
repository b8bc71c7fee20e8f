// Extraction and auto-fill on images rendered here (DejaVu fonts through OpenCV's freetype
// module) and read by the real OCR: the MRZ of a passport and an ID card through the id_card
// template, a receipt through the receipt template, and a blank form filled from a profile.
#include <gtest/gtest.h>

#include <opencv2/freetype.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/config.h"
#include "core/detail/image_mat.h"
#include "core/form_fill.h"
#include "core/forms.h"
#include "core/ocr.h"
#include "core/template.h"

namespace scanline {
namespace {

const std::string kFonts = "/usr/share/fonts/truetype/dejavu/";

struct Text {
  std::string text;
  int x;
  int y;  // baseline
  int size;
  std::string font = "DejaVuSans.ttf";
};

Image Render(int width, int height, const std::vector<Text>& texts) {
  cv::Mat mat(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  for (const Text& t : texts) {
    auto ft = cv::freetype::createFreeType2();
    ft->loadFontData(kFonts + t.font, 0);
    ft->putText(mat, t.text, {t.x, t.y}, t.size, cv::Scalar(0, 0, 0), -1, cv::LINE_AA, true);
  }
  return ImageFromMat(mat);
}

class FormsImagesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PrepareTesseractProcess();
    OcrConfig config;
    config.preload_langs = "";
    engines_ = MakeOcrEngines(config).release();
  }
  static void TearDownTestSuite() { delete engines_; }

  static Template Builtin(const std::string& type) {
    return LoadTemplateFile(SCANLINE_SOURCE_DIR "/templates/" + type + ".json");
  }

  static std::vector<OcrPage> Read(const Image& image, int psm = 6,
                                   const std::string& lang = "eng") {
    OcrOptions o = FormOcrOptions(Builtin("receipt"), OcrConfig{});
    o.psm = psm;
    o.lang = lang;
    return {Recognize(*engines_, image, o)};
  }

  static const ExtractedField& Field(const FormExtraction& r, const std::string& name) {
    for (const auto& f : r.fields) {
      if (f.name == name) return f;
    }
    static ExtractedField none;
    ADD_FAILURE() << "no field " << name;
    return none;
  }

  static OcrEngines* engines_;
};

OcrEngines* FormsImagesTest::engines_ = nullptr;

TEST_F(FormsImagesTest, ReadsAPassportMrzWithCheckDigits) {
  // The ICAO 9303 part 4 specimen (TD3).
  Image image = Render(
      1300, 420,
      {
          {"PASSPORT  UTOPIA", 60, 80, 40},
          {"Surname: ERIKSSON   Given names: ANNA MARIA", 60, 150, 30},
          {"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", 40, 300, 40, "DejaVuSansMono-Bold.ttf"},
          {"L898902C36UTO7408122F1204159ZE184226B<<<<<10", 40, 370, 40, "DejaVuSansMono-Bold.ttf"},
      });
  const Template t = Builtin("id_card");
  const auto pages = Read(image);
  FormExtraction r = ExtractForm(t, pages, ExtractEngine::kRules, nullptr);
  EXPECT_EQ(Field(r, "document_number").value.raw, "L898902C3") << pages[0].text;
  EXPECT_TRUE(Field(r, "document_number").value.valid);
  EXPECT_EQ(Field(r, "surname").value.raw, "ERIKSSON");
  EXPECT_EQ(Field(r, "given_names").value.raw, "ANNA MARIA");
  EXPECT_EQ(Field(r, "birth_date").value.normalised, "1974-08-12");
  EXPECT_EQ(Field(r, "expiry_date").value.normalised, "2012-04-15");
  EXPECT_EQ(Field(r, "nationality").value.raw, "UTO");
  EXPECT_EQ(Field(r, "sex").value.raw, "F");
  EXPECT_TRUE(r.missing_required.empty()) << FormExtractionToJson(r, t, false);
  // Sensitive values are masked on request.
  const std::string masked = FormExtractionToJson(r, t, true);
  EXPECT_EQ(masked.find("L898902C3"), std::string::npos);
  EXPECT_EQ(masked.find("ERIKSSON"), std::string::npos);
  EXPECT_NE(FormExtractionToJson(r, t, false).find("L898902C3"), std::string::npos);
  // With the page's key -> value pairs as well, the pairs that show them are masked too.
  Template with_pairs = t;
  with_pairs.key_values = true;
  FormExtraction paired = ExtractForm(with_pairs, pages, ExtractEngine::kRules, nullptr);
  ASSERT_NE(FormExtractionToJson(paired, with_pairs, false).find("\"value\":\"ERIKSSON"),
            std::string::npos)
      << FormExtractionToJson(paired, with_pairs, false);
  const std::string masked_pairs = FormExtractionToJson(paired, with_pairs, true);
  EXPECT_EQ(masked_pairs.find("ERIKSSON"), std::string::npos) << masked_pairs;
  EXPECT_EQ(masked_pairs.find("L898902C3"), std::string::npos) << masked_pairs;
}

TEST_F(FormsImagesTest, ReadsAnIdCardMrzAndFlagsABadCheckDigit) {
  // The ICAO 9303 part 5 TD1 specimen; then the same with the document number altered.
  auto render = [](const std::string& line1) {
    return Render(1000, 330,
                  {
                      {line1, 40, 120, 40, "DejaVuSansMono-Bold.ttf"},
                      {"7408122F1204159UTO<<<<<<<<<<<6", 40, 190, 40, "DejaVuSansMono-Bold.ttf"},
                      {"ERIKSSON<<ANNA<MARIA<<<<<<<<<<", 40, 260, 40, "DejaVuSansMono-Bold.ttf"},
                  });
  };
  const Template t = Builtin("id_card");
  const auto pages = Read(render("I<UTOD231458907<<<<<<<<<<<<<<<"));
  FormExtraction good = ExtractForm(t, pages, ExtractEngine::kRules, nullptr);

  EXPECT_EQ(Field(good, "document_number").value.raw, "D23145890");
  EXPECT_TRUE(Field(good, "document_number").value.valid) << FormExtractionToJson(good, t, false);
  EXPECT_EQ(Field(good, "birth_date").value.normalised, "1974-08-12");
  FormExtraction bad = ExtractForm(t, Read(render("I<UTOD231458917<<<<<<<<<<<<<<<")),
                                   ExtractEngine::kRules, nullptr);
  EXPECT_FALSE(Field(bad, "document_number").found && Field(bad, "document_number").value.valid);
}

TEST_F(FormsImagesTest, ASecondReadingMendsAMisreadNameWhereTheTemplateAsksForIt) {
  const Image image = Render(700, 400,
                             {
                                 {"KEDAI BUKU MAJU SDN BHD", 60, 60, 26},
                                 {"NO 12, JALAN MERANTI 3,", 120, 110, 24},
                                 {"TAMAN SRI MUDA, 40400 SHAH ALAM", 80, 150, 24},
                                 {"Date: 25/12/2018   Time: 10:15", 40, 220, 24},
                                 {"TOTAL (RM)                       9.43", 40, 300, 24},
                             });
  std::vector<OcrPage> pages = Read(image);
  OcrLine& name = pages[0].blocks[0].lines[0];
  ASSERT_EQ(name.text, "KEDAI BUKU MAJU SDN BHD");
  name.words[2].text = "MA1U";  // as OCR misreads small print, sure of itself
  name.text = "KEDAI BUKU MA1U SDN BHD";
  const Template t = Builtin("receipt");
  FormExtraction first = ExtractForm(t, pages, ExtractEngine::kRules, nullptr);
  EXPECT_EQ(Field(first, "company").value.raw, "KEDAI BUKU MA1U SDN BHD");

  const SecondReading second{engines_, {image}};
  FormExtraction r = ExtractForm(t, pages, ExtractEngine::kRules, nullptr, &second);
  EXPECT_EQ(Field(r, "company").value.raw, "KEDAI BUKU MAJU SDN BHD");
  EXPECT_EQ(Field(r, "date").value.raw, "25/12/2018");
  EXPECT_EQ(Field(r, "total").value.raw, "9.43");
  bool timed = false;
  for (const StageTiming& s : r.timings) timed |= s.stage == "reread";
  EXPECT_TRUE(timed);
  EXPECT_EQ(pages[0].blocks[0].lines[0].text, "KEDAI BUKU MA1U SDN BHD");  // the caller's pages

  // Without the hint the lines are not read again.
  Template plain = t;
  for (FieldSpec& f : plain.fields) f.hints.reread = false;
  r = ExtractForm(plain, pages, ExtractEngine::kRules, nullptr, &second);
  EXPECT_EQ(Field(r, "company").value.raw, "KEDAI BUKU MA1U SDN BHD");
  for (const StageTiming& s : r.timings) EXPECT_NE(s.stage, "reread");
}

TEST_F(FormsImagesTest, ExtractsAReceiptsFields) {
  Image image = Render(700, 900,
                       {
                           {"KEDAI BUKU MAJU SDN BHD", 60, 60, 30},
                           {"(123456-X)", 240, 100, 22},
                           {"NO 12, JALAN MERANTI 3,", 120, 140, 24},
                           {"TAMAN SRI MUDA, 40400 SHAH ALAM", 80, 175, 24},
                           {"TAX INVOICE", 250, 240, 26},
                           {"Date: 25/12/2018   Time: 10:15", 40, 300, 24},
                           {"Pencil 2B        2 x 1.50        3.00", 40, 380, 24},
                           {"Notebook A4      1 x 5.90        5.90", 40, 420, 24},
                           {"SUB TOTAL                        8.90", 40, 490, 24},
                           {"GST 6%                           0.53", 40, 530, 24},
                           {"TOTAL (RM)                       9.43", 40, 570, 24},
                           {"CASH                            20.00", 40, 610, 24},
                           {"CHANGE                          10.57", 40, 650, 24},
                       });
  const Template t = Builtin("receipt");
  FormExtraction r = ExtractForm(t, Read(image), ExtractEngine::kRules, nullptr);
  EXPECT_EQ(Field(r, "company").value.raw, "KEDAI BUKU MAJU SDN BHD");
  EXPECT_EQ(Field(r, "date").value.raw, "25/12/2018");
  EXPECT_EQ(Field(r, "date").value.normalised, "2018-12-25");
  EXPECT_EQ(Field(r, "total").value.raw, "9.43");
  EXPECT_EQ(Field(r, "total").value.normalised, "9.43");
  EXPECT_EQ(Field(r, "total").value.currency, "MYR");
  EXPECT_GT(Field(r, "total").box.w, 0);
  EXPECT_EQ(Field(r, "tax").value.raw, "0.53");
  EXPECT_EQ(Field(r, "address").value.raw,
            "NO 12, JALAN MERANTI 3, TAMAN SRI MUDA, 40400 SHAH ALAM");
  EXPECT_TRUE(r.missing_required.empty());
}

TEST_F(FormsImagesTest, FillsABlankFormAndWritesTheValuesIn) {
  Image blank = Render(1200, 700,
                       {
                           {"APPLICATION FORM", 400, 70, 36},
                           {"Full name:", 60, 180, 30},
                           {"Date of birth:", 60, 280, 30},
                           {"E-mail address:", 60, 380, 30},
                           {"Signature", 60, 560, 30},
                       });
  const OcrPage page = Read(blank, 11)[0];
  Profile profile = {{"full_name", "Zoë Müller"},
                     {"dob", "1990-01-02"},
                     {"email", "zoe@example.com"},
                     {"shoe_size", "42"}};
  FillResult r = FillForm(blank, page, profile);
  ASSERT_EQ(r.placements.size(), 3u) << FillResultToJson(r, false);
  EXPECT_EQ(r.unmatched_keys, std::vector<std::string>{"shoe_size"});
  EXPECT_EQ(r.placements[0].key, "full_name");
  EXPECT_EQ(r.placements[1].key, "dob");
  EXPECT_EQ(r.placements[1].matched, "date of birth");
  EXPECT_EQ(r.placements[2].key, "email");
  for (const auto& p : r.placements) {
    EXPECT_EQ(p.position, "right");
    EXPECT_GT(p.value_box.x, p.label_box.x + p.label_box.w);
    EXPECT_LT(std::abs(p.value_box.y - p.label_box.y), p.label_box.h);
  }
  // The filled image decodes, and OCR reads the values where they were placed.
  ASSERT_FALSE(r.png.empty());
  std::vector<unsigned char> bytes(r.png.begin(), r.png.end());
  cv::Mat filled = cv::imdecode(bytes, cv::IMREAD_COLOR);
  ASSERT_EQ(filled.cols, 1200);
  // German traineddata knows the umlaut, so the check covers the Unicode rendering.
  const std::string text = Read(ImageFromMat(filled), 11, "deu")[0].text;
  EXPECT_NE(text.find("1990-01-02"), std::string::npos) << text;
  EXPECT_NE(text.find("zoe@example.com"), std::string::npos) << text;
  EXPECT_NE(text.find("\xc3\xbcller"), std::string::npos) << text;  // Unicode written
}

TEST_F(FormsImagesTest, FillsOverPrintedBlanksUnderLabelsAndThroughMisspelling) {
  // A printed blank after its label; a label with another beside it, so its value goes
  // under it; a label misspelt by the form.
  Image blank = Render(1200, 800,
                       {
                           {"Telephone number ________________", 60, 120, 30},
                           {"Home address", 60, 300, 30},
                           {"Signature", 420, 300, 30},
                           {"Occupaton:", 60, 560, 30},
                       });
  const OcrPage page = Read(blank, 11)[0];
  Profile profile = {{"phone", "+44 20 7946 0018"},
                     {"address", "1 High Street, Leeds"},
                     {"occupation", "Engineer"}};
  FillResult r = FillForm(blank, page, profile);
  ASSERT_EQ(r.placements.size(), 3u) << FillResultToJson(r, false) << page.text;
  EXPECT_TRUE(r.unmatched_keys.empty());
  std::map<std::string, const FillPlacement*> by_key;
  for (const auto& p : r.placements) by_key[p.key] = &p;
  ASSERT_EQ(by_key.size(), 3u);
  // Over the printed blank, which is not part of the label.
  const FillPlacement& phone = *by_key["phone"];
  EXPECT_EQ(phone.position, "right") << FillResultToJson(r, false);
  EXPECT_EQ(phone.label.find('_'), std::string::npos) << phone.label;
  EXPECT_GE(phone.value_box.x, phone.label_box.x + phone.label_box.w);
  EXPECT_LT(std::abs(phone.value_box.y - phone.label_box.y), phone.label_box.h);
  const FillPlacement& address = *by_key["address"];
  EXPECT_EQ(address.position, "below") << FillResultToJson(r, false);
  EXPECT_GT(address.value_box.y, address.label_box.y + address.label_box.h / 2);
  const FillPlacement& occupation = *by_key["occupation"];
  EXPECT_EQ(occupation.position, "right") << FillResultToJson(r, false);
  EXPECT_LT(occupation.score, 1.0);  // matched through the misspelling, not exactly
}

}  // namespace
}  // namespace scanline
