// The plate pipeline end to end on photos the test draws: a plate-shaped box with known text
// pasted into a cluttered scene at several sizes, angles and light levels.
#include "core/lpr.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <opencv2/freetype.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/detail/image_mat.h"
#include "core/error.h"
#include "core/lpr_render.h"
#include "core/ocr.h"
#include "core/plate_reader.h"
#include "core/tessdata.h"

namespace scanline {
namespace {

// A bold sans-serif face from fonts-dejavu-core, near enough to plate lettering.
constexpr char kFont[] = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

struct PlateSpec {
  std::string text;
  cv::Point2f centre;  // scene pixels
  double height = 60;  // plate height, pixels
  double angle = 0;    // degrees, counter-clockwise
  int paper = 235;     // grey level of the plate
  int ink = 30;        // grey level of the characters
};

// A 1280x720 street-like scene: a gradient, random boxes and lines (seeded), a car body.
cv::Mat Scene(uint64_t seed) {
  cv::Mat scene(720, 1280, CV_8UC3);
  for (int y = 0; y < scene.rows; ++y) {
    scene.row(y).setTo(cv::Scalar(90 + y / 8, 100 + y / 10, 110 + y / 12));
  }
  cv::RNG rng(seed);
  for (int i = 0; i < 40; ++i) {
    cv::Point a(rng.uniform(0, 1280), rng.uniform(0, 720));
    cv::Point b = a + cv::Point(rng.uniform(20, 300), rng.uniform(20, 200));
    cv::rectangle(scene, a, b,
                  cv::Scalar(rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255)),
                  rng.uniform(0, 2) ? cv::FILLED : 2);
  }
  for (int i = 0; i < 20; ++i) {
    cv::line(scene, cv::Point(rng.uniform(0, 1280), rng.uniform(0, 720)),
             cv::Point(rng.uniform(0, 1280), rng.uniform(0, 720)),
             cv::Scalar(rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255)), 3);
  }
  cv::rectangle(scene, cv::Rect(300, 250, 700, 380), cv::Scalar(60, 40, 150), cv::FILLED);
  return scene;
}

// Pastes a white plate (aspect 2, dark border, dark characters 45 % of its height).
void PastePlate(cv::Mat& scene, const PlateSpec& spec) {
  const int h = 120, w = 240;  // drawn large, then scaled into place
  const cv::Scalar paper(spec.paper, spec.paper, spec.paper), ink(spec.ink, spec.ink, spec.ink);
  cv::Mat plate(h, w, CV_8UC3, paper);
  const int edge = spec.ink + 10;  // the frame, a little lighter than the characters
  cv::rectangle(plate, cv::Rect(0, 0, w, h), cv::Scalar(edge, edge, edge), 5);
  // Characters one by one, spaced as on a plate (a fifth of their height apart).
  static cv::Ptr<cv::freetype::FreeType2> font = [] {
    auto ft = cv::freetype::createFreeType2();
    ft->loadFontData(kFont, 0);
    return ft;
  }();
  const int char_h = static_cast<int>(0.45 * h);
  int baseline = 0;
  std::vector<int> widths;
  int total = 0;
  for (char c : spec.text) {
    widths.push_back(font->getTextSize(std::string(1, c), char_h, -1, &baseline).width);
    total += widths.back();
  }
  const int gap = std::max(2, char_h / 5);
  total += gap * static_cast<int>(spec.text.size() - 1);
  const double squeeze = std::min(1.0, 0.88 * w / total);
  cv::Mat line(h, std::max(w, total + 2 * gap), CV_8UC3, paper);
  int x = (line.cols - total) / 2;
  for (size_t i = 0; i < spec.text.size(); ++i) {
    font->putText(line, std::string(1, spec.text[i]), cv::Point(x, (h + char_h) / 2), char_h, ink,
                  -1, cv::LINE_AA, true);
    x += widths[i] + gap;
  }
  cv::Mat squeezed;
  cv::resize(line, squeezed, cv::Size(static_cast<int>(line.cols * squeeze), h), 0, 0,
             cv::INTER_AREA);
  const int left = (w - squeezed.cols) / 2;
  cv::Mat inner = plate(cv::Rect(left, 0, squeezed.cols, h));
  squeezed(cv::Rect(0, 8, squeezed.cols, h - 16))
      .copyTo(inner(cv::Rect(0, 8, squeezed.cols, h - 16)));
  const double f = spec.height / h;
  cv::Mat m = cv::getRotationMatrix2D(cv::Point2f(w / 2.0f, h / 2.0f), spec.angle, f);
  m.at<double>(0, 2) += spec.centre.x - w / 2.0;
  m.at<double>(1, 2) += spec.centre.y - h / 2.0;
  cv::Mat warped, mask;
  cv::warpAffine(plate, warped, m, scene.size(), cv::INTER_AREA);
  cv::warpAffine(cv::Mat(h, w, CV_8UC1, cv::Scalar(255)), mask, m, scene.size(), cv::INTER_AREA);
  warped.copyTo(scene, mask > 128);
}

// Scales the light and adds sensor noise (seeded).
cv::Mat Darken(const cv::Mat& scene, double gain, double noise) {
  cv::Mat f;
  scene.convertTo(f, CV_32FC3, gain);
  cv::Mat n(scene.size(), CV_32FC3);
  cv::RNG(7).fill(n, cv::RNG::NORMAL, 0, noise);
  f += n;
  cv::Mat out;
  f.convertTo(out, CV_8UC3);
  return out;
}

class LprTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PrepareTesseractProcess();
    engines_ = new LprEngines(LprConfig{}, TessdataDir(""));
  }
  static void TearDownTestSuite() {
    delete engines_;
    engines_ = nullptr;
  }
  static LprResult Recognize(const cv::Mat& scene, EnhanceMode enhance = EnhanceMode::kAuto,
                             const std::string& region = "us") {
    LprOptions options;
    options.region = region;
    options.enhance = enhance;
    return RecognizePlatesInImage(*engines_, ImageFromMat(scene), options);
  }
  static bool Has(const LprResult& result, const std::string& text) {
    for (const auto& p : result.plates) {
      if (p.text == text) return true;
    }
    return false;
  }
  static LprEngines* engines_;
};

LprEngines* LprTest::engines_ = nullptr;

TEST_F(LprTest, ReadsPlatesOfSeveralSizes) {
  for (double height : {44.0, 70.0, 110.0}) {
    cv::Mat scene = Scene(1);
    PastePlate(scene, {"7ABC123", {640, 520}, height, 0});
    const LprResult result = Recognize(scene);
    EXPECT_TRUE(Has(result, "7ABC123")) << "plate height " << height;
  }
}

TEST_F(LprTest, ReadsTiltedPlatesAndOutlinesThem) {
  for (double angle : {-8.0, 6.0}) {
    cv::Mat scene = Scene(2);
    PastePlate(scene, {"KXR4821", {600, 500}, 80, angle});
    const LprResult result = Recognize(scene);
    ASSERT_TRUE(Has(result, "KXR4821")) << "angle " << angle;
    const PlateResult& plate = result.plates.front();
    EXPECT_TRUE(plate.matches_pattern);
    EXPECT_EQ(plate.region, "us");
    // The outline surrounds the plate's centre and is about as tall as the plate.
    float cx = 0, cy = 0;
    for (const auto& p : plate.corners) {
      cx += p.x / 4;
      cy += p.y / 4;
    }
    EXPECT_NEAR(cx, 600, 25);
    EXPECT_NEAR(cy, 500, 20);
    const double left_height = std::hypot(plate.corners[3].x - plate.corners[0].x,
                                          plate.corners[3].y - plate.corners[0].y);
    EXPECT_NEAR(left_height, 80, 30);
    // The top edge leans with the plate (image y grows downwards).
    const double lean = std::atan2(plate.corners[1].y - plate.corners[0].y,
                                   plate.corners[1].x - plate.corners[0].x) *
                        180 / CV_PI;
    EXPECT_NEAR(lean, -angle, 3);
  }
}

TEST_F(LprTest, ReadsSeveralPlatesInOnePhoto) {
  cv::Mat scene = Scene(3);
  PastePlate(scene, {"4TRS920", {330, 540}, 60, 0});
  PastePlate(scene, {"8MDN334", {950, 420}, 70, 3});
  const LprResult result = Recognize(scene);
  EXPECT_TRUE(Has(result, "4TRS920"));
  EXPECT_TRUE(Has(result, "8MDN334"));
}

TEST_F(LprTest, FindsNoPlateInASceneWithout) {
  const LprResult result = Recognize(Scene(4));
  EXPECT_TRUE(result.plates.empty()) << RenderLprJson(result);
}

TEST_F(LprTest, CandidatesAreRankedAndBounded) {
  cv::Mat scene = Scene(5);
  PastePlate(scene, {"6SOB512", {640, 500}, 70, 0});
  LprOptions options;
  options.region = "us";
  options.top_n = 4;
  const LprResult result = RecognizePlatesInImage(*engines_, ImageFromMat(scene), options);
  ASSERT_FALSE(result.plates.empty());
  const auto& candidates = result.plates.front().candidates;
  ASSERT_FALSE(candidates.empty());
  EXPECT_LE(candidates.size(), 4u);
  EXPECT_EQ(candidates.front().text, result.plates.front().text);
  EXPECT_EQ(candidates.front().confidence, result.plates.front().confidence);
  // Texts that fit a pattern first (within them, likelihood times the format's prior),
  // among them in the US clear texts that fit none; unsure ones after.
  for (size_t i = 1; i < candidates.size(); ++i) {
    if (candidates[i].matches_pattern && !candidates[i - 1].matches_pattern) {
      EXPECT_GE(candidates[i - 1].confidence, kMinFreeConfidence);
    }
  }
  // US plates print O and 0 alike: no candidate carries the letter.
  options.top_n = 10;
  const LprResult ten = RecognizePlatesInImage(*engines_, ImageFromMat(scene), options);
  ASSERT_FALSE(ten.plates.empty());
  EXPECT_GT(ten.plates.front().candidates.size(), 4u);
  for (const auto& c : ten.plates.front().candidates) {
    EXPECT_EQ(c.text.find('O'), std::string::npos) << c.text;
  }
}

TEST_F(LprTest, DimPlateIsReadWithAndWithoutEnhancement) {
  cv::Mat scene = Scene(6);
  PastePlate(scene, {"3HZK770", {640, 520}, 70, 0});
  const cv::Mat dim = Darken(scene, 0.35, 2);
  EXPECT_TRUE(Has(Recognize(dim, EnhanceMode::kOff), "3HZK770"));
  EXPECT_TRUE(Has(Recognize(dim, EnhanceMode::kOn), "3HZK770"));
}

TEST_F(LprTest, DarkPlateIsReadOnlyWithEnhancement) {
  cv::Mat scene = Scene(7);
  PastePlate(scene, {"5PLM308", {640, 520}, 80, 0});
  const cv::Mat dark = Darken(scene, 0.025, 0.6);
  const LprResult off = Recognize(dark, EnhanceMode::kOff);
  EXPECT_FALSE(off.enhanced);
  EXPECT_FALSE(Has(off, "5PLM308"));
  const LprResult automatic = Recognize(dark, EnhanceMode::kAuto);
  EXPECT_TRUE(automatic.enhanced);
  EXPECT_LT(automatic.brightness, 20);
  EXPECT_TRUE(Has(automatic, "5PLM308")) << RenderLprJson(automatic);
}

TEST_F(LprTest, FadedPlateIsFoundWhenNothingClearIs) {
  // Characters 14 grey levels darker than a dull plate, in haze: after the anti-aliasing and
  // blur, under the 10 levels the first row search asks of its ink.
  cv::Mat scene(720, 1280, CV_8UC3, cv::Scalar(118, 120, 122));
  PastePlate(scene, {"8KDW415", {640, 400}, 64, 0, 150, 136});
  cv::GaussianBlur(scene, scene, cv::Size(3, 3), 0);
  const LprResult result = Recognize(scene, EnhanceMode::kOff);
  EXPECT_TRUE(Has(result, "8KDW415")) << RenderLprJson(result);
}

TEST_F(LprTest, BrazilianRegionPrefersItsPattern) {
  cv::Mat scene = Scene(8);
  PastePlate(scene, {"QRS4B21", {640, 520}, 70, 0});
  const LprResult result = Recognize(scene, EnhanceMode::kAuto, "br");
  ASSERT_TRUE(Has(result, "QRS4B21")) << RenderLprJson(result);
  EXPECT_TRUE(result.plates.front().matches_pattern);
  EXPECT_EQ(result.plates.front().region, "br");
}

TEST_F(LprTest, DecodesBytesAndReportsStages) {
  cv::Mat scene = Scene(9);
  PastePlate(scene, {"2WQF645", {640, 520}, 70, 0});
  std::vector<uint8_t> png;
  cv::imencode(".png", scene, png);
  const LprResult result = RecognizePlates(
      *engines_, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()),
      ImageLimits{}, LprOptions{});
  EXPECT_TRUE(Has(result, "2WQF645"));
  EXPECT_EQ(result.info.format, ImageFormat::kPng);
  EXPECT_EQ(result.info.width, 1280);
  EXPECT_EQ(result.sha256.size(), 64u);
  std::vector<std::string> stages;
  for (const auto& t : result.timings) stages.push_back(t.stage);
  EXPECT_EQ(stages, (std::vector<std::string>{"decode", "enhance", "detect", "read", "total"}));
}

TEST_F(LprTest, RefusesBadInput) {
  auto code_of = [](auto&& call) {
    try {
      call();
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::kInternal;
  };
  const ImageLimits limits;
  EXPECT_EQ(code_of([&] { RecognizePlates(*engines_, "", limits, {}); }), ErrorCode::kBadRequest);
  EXPECT_EQ(code_of([&] { RecognizePlates(*engines_, "not an image at all", limits, {}); }),
            ErrorCode::kUnsupportedMediaType);
  const std::string truncated_png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
  EXPECT_NE(code_of([&] { RecognizePlates(*engines_, truncated_png, limits, {}); }),
            ErrorCode::kInternal);
  LprOptions unknown;
  unknown.region = "zz";
  EXPECT_EQ(code_of([&] { RecognizePlatesInImage(*engines_, ImageFromMat(Scene(1)), unknown); }),
            ErrorCode::kInvalidOption);
  LprOptions zero;
  zero.top_n = 0;
  EXPECT_EQ(code_of([&] { RecognizePlatesInImage(*engines_, ImageFromMat(Scene(1)), zero); }),
            ErrorCode::kInvalidOption);
}

// An operator's ONNX detector (lpr.onnx_model). tests/unit/onnx_bright_box.py writes a small
// one that boxes the bright pixels of its input, in the row layout of YOLOv5 or the transposed
// one of YOLOv8; the scene is darkened so that the white plate is the only bright thing in it.
class LprOnnxTest : public ::testing::Test {
 protected:
  static std::string Model(const std::string& layout) {
    const std::string path = ::testing::TempDir() + "bright_box_" + layout + ".onnx";
    // Debian's interpreter: the one python3-onnx is installed for.
    const std::string command =
        std::string("/usr/bin/python3 " SCANLINE_SOURCE_DIR "/tests/unit/onnx_bright_box.py ") +
        path + " --layout " + layout;
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return path;
  }
  static cv::Mat DarkSceneWithPlate(const cv::Rect& plate) {
    cv::Mat scene = Darken(Scene(5), 0.6, 0);
    PastePlate(scene, {"5KLM203",
                       {plate.x + plate.width / 2.0f, plate.y + plate.height / 2.0f},
                       static_cast<double>(plate.height),
                       0});
    return scene;
  }
  // The proposals of `engines`' detectors that the ONNX model took part in.
  static std::vector<cv::Rect> OnnxProposals(LprEngines& engines, const cv::Mat& scene) {
    std::vector<cv::Rect> boxes;
    for (const PlateProposal& p :
         engines.detector().Detect(ImageFromMat(scene), engines.Region("us"))) {
      if (p.methods.find("onnx") == std::string::npos) continue;
      std::vector<cv::Point2f> points;
      for (const PlatePoint& c : p.corners) points.emplace_back(c.x, c.y);
      boxes.push_back(cv::boundingRect(points));
    }
    return boxes;
  }
  static double Iou(const cv::Rect& a, const cv::Rect& b) {
    return static_cast<double>((a & b).area()) / (a | b).area();
  }
};

TEST_F(LprOnnxTest, ModelFindsThePlateInBothLayouts) {
  const cv::Rect plate(560, 400, 160, 80);
  const cv::Mat scene = DarkSceneWithPlate(plate);
  LprOptions options;
  options.enhance = EnhanceMode::kOff;
  for (const std::string layout : {"v5", "v8"}) {
    LprConfig config;
    config.onnx_model = Model(layout);
    LprEngines engines(config, TessdataDir(""));
    ASSERT_TRUE(engines.detector().has_onnx());
    const std::vector<cv::Rect> boxes = OnnxProposals(engines, scene);
    ASSERT_EQ(boxes.size(), 1u) << layout;
    EXPECT_GT(Iou(boxes[0], plate), 0.5) << layout;
    const LprResult result = RecognizePlatesInImage(engines, ImageFromMat(scene), options);
    ASSERT_EQ(result.plates.size(), 1u) << RenderLprJson(result);
    EXPECT_EQ(result.plates[0].text, "5KLM203");
    EXPECT_NE(result.plates[0].methods.find("onnx"), std::string::npos) << layout;
  }
  // Without the model the same plate is found by the other detectors alone.
  LprEngines plain(LprConfig{}, TessdataDir(""));
  EXPECT_FALSE(plain.detector().has_onnx());
  const LprResult result = RecognizePlatesInImage(plain, ImageFromMat(scene), options);
  ASSERT_EQ(result.plates.size(), 1u);
  EXPECT_EQ(result.plates[0].methods.find("onnx"), std::string::npos);
}

TEST_F(LprOnnxTest, ModelProposesNothingWhereItSeesNothing) {
  LprConfig config;
  config.onnx_model = Model("v5");
  LprEngines engines(config, TessdataDir(""));
  EXPECT_TRUE(OnnxProposals(engines, Darken(Scene(5), 0.6, 0)).empty());
}

TEST_F(LprOnnxTest, ModelThatDoesNotLoadIsNamed) {
  const std::string path = ::testing::TempDir() + "not_a_model.onnx";
  std::ofstream(path) << "no protobuf here";
  LprConfig config;
  config.onnx_model = path;
  try {
    LprEngines engines(config, TessdataDir(""));
    FAIL() << "loaded " << path;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInternal);
    EXPECT_NE(e.internal().find(path), std::string::npos) << e.internal();
  }
}

TEST(LprCascadeTest, OperatorCascadesAreLoadedBesideTheBuiltInOneOrNamedWhenTheyFail) {
  LprConfig config;
  config.cascade_files = ":/usr/share/opencv4/haarcascades/haarcascade_russian_plate_number.xml:";
  LprEngines engines(config, TessdataDir(""));
  EXPECT_EQ(engines.detector().cascades(), 2);
  config.cascade_files = "/nonexistent/plates.xml";
  try {
    LprEngines broken(config, TessdataDir(""));
    FAIL() << "loaded a missing cascade";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInternal);
    EXPECT_NE(e.internal().find("/nonexistent/plates.xml"), std::string::npos) << e.internal();
  }
}

TEST(LprOptionsTest, ParsesAndRefusesOptions) {
  LprOptions options;
  SetLprOption(options, "region", "br");
  SetLprOption(options, "top_n", "5");
  SetLprOption(options, "enhance", "on");
  EXPECT_EQ(options.region, "br");
  EXPECT_EQ(options.top_n, 5u);
  EXPECT_EQ(options.enhance, EnhanceMode::kOn);
  for (auto [name, value] : std::vector<std::pair<std::string, std::string>>{{"top_n", "0"},
                                                                             {"top_n", "51"},
                                                                             {"top_n", "3x"},
                                                                             {"enhance", "maybe"},
                                                                             {"region", "U S"},
                                                                             {"region", ""},
                                                                             {"colour", "red"}}) {
    try {
      SetLprOption(options, name, value);
      ADD_FAILURE() << name << "=" << value << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidOption) << name;
    }
  }
}

}  // namespace
}  // namespace scanline
