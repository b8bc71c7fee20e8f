// Page preparation: option parsing, measurements on pages with known properties, each step's
// effect, and the transform that maps prepared pixels back to the input.
#include "core/preprocess.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "core/detail/image_mat.h"
#include "core/error.h"
#include "tests/unit/text_images.h"

namespace scanline {
namespace {

using testing::Dotted;
using testing::Noisy;
using testing::RenderText;
using testing::Scaled;
using testing::Shaded;
using testing::Skewed;

const char kText[] =
    "Preparing a page before recognition\n"
    "makes small, skewed or noisy text\n"
    "readable: 0123456789 ABCDEFGHIJ.\n"
    "The quick brown fox jumps over it.\n";

cv::Mat Page() { return RenderText(kText, 12, 300); }

PreprocessOptions Steps(const std::string& text) { return ParsePreprocess(text); }

TEST(PreprocessOptionsTest, ParsesAutoNoneAndStepLists) {
  EXPECT_EQ(ParsePreprocess("auto").mode, PreprocessOptions::Mode::kAuto);
  EXPECT_EQ(ParsePreprocess("none").mode, PreprocessOptions::Mode::kNone);
  PreprocessOptions steps = ParsePreprocess("binarise,grey,deskew,grey");
  EXPECT_EQ(steps.mode, PreprocessOptions::Mode::kSteps);
  EXPECT_EQ(steps.steps.size(), 3u);
  // Always in the fixed run order, whatever order they were listed in.
  EXPECT_EQ(PreprocessText(steps), "grey,deskew,binarise");
  EXPECT_EQ(PreprocessText(ParsePreprocess("auto")), "auto");
}

TEST(PreprocessOptionsTest, UnknownStepNamesTheOption) {
  for (const char* bad : {"sharpen", "", "grey,,deskew", "Grey", "auto,grey"}) {
    try {
      ParsePreprocess(bad);
      FAIL() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidOption);
      EXPECT_NE(std::string(e.detail()).find("preprocess"), std::string::npos) << e.detail();
    }
  }
}

TEST(MeasurePageTest, CharacterHeightFollowsTheScale) {
  const cv::Mat page = Page();
  const double full = MeasurePage(ImageFromMat(page)).char_height;
  const double half = MeasurePage(ImageFromMat(Scaled(page, 0.5))).char_height;
  // 12 pt at 300 dpi: capitals are about 35 pixels, the median component lower case.
  EXPECT_GT(full, 20);
  EXPECT_LT(full, 45);
  EXPECT_NEAR(half / full, 0.5, 0.1);
}

TEST(MeasurePageTest, FindsSkewWithItsSign) {
  const cv::Mat page = Page();
  EXPECT_NEAR(MeasurePage(ImageFromMat(page)).skew_degrees, 0, 0.3);
  EXPECT_NEAR(MeasurePage(ImageFromMat(Skewed(page, 3))).skew_degrees, 3, 0.4);
  EXPECT_NEAR(MeasurePage(ImageFromMat(Skewed(page, -6))).skew_degrees, -6, 0.5);
}

TEST(MeasurePageTest, SeesNoiseBordersShadingAndTurnedPages) {
  const cv::Mat page = Page();
  const PageMeasures clean = MeasurePage(ImageFromMat(page));
  EXPECT_LT(clean.noise, 0.2);
  EXPECT_FALSE(clean.dark_border);
  EXPECT_FALSE(clean.vertical_text);
  EXPECT_LT(clean.background, 20);
  EXPECT_GT(clean.contrast, 150);

  EXPECT_GT(MeasurePage(ImageFromMat(Noisy(page, 0.02))).noise, 0.5);

  cv::Mat bordered(page.rows + 120, page.cols + 120, CV_8UC1, cv::Scalar(25));
  page.copyTo(bordered(cv::Rect(60, 60, page.cols, page.rows)));
  EXPECT_TRUE(MeasurePage(ImageFromMat(bordered)).dark_border);

  EXPECT_GT(MeasurePage(ImageFromMat(Shaded(page, 250, 120))).background, 60);

  cv::Mat turned;
  cv::rotate(page, turned, cv::ROTATE_90_CLOCKWISE);
  EXPECT_TRUE(MeasurePage(ImageFromMat(turned)).vertical_text);
}

// Stains and specks about a third of a character tall, more of them than characters, do
// not pull the character height down: they stand alone, not in lines.
TEST(MeasurePageTest, CharacterHeightIgnoresBlotsOutsideLines) {
  const cv::Mat page = Page();
  const double clean = MeasurePage(ImageFromMat(page)).char_height;
  cv::Mat blotted = page.clone();
  cv::RNG rng(11);
  const int size = std::max(4, static_cast<int>(clean / 3));
  for (int i = 0; i < 600; ++i) {
    const cv::Point at(rng.uniform(0, page.cols - size), rng.uniform(0, page.rows - size));
    cv::rectangle(blotted, cv::Rect(at.x, at.y, size, size), cv::Scalar(0), cv::FILLED);
  }
  EXPECT_NEAR(MeasurePage(ImageFromMat(blotted)).char_height, clean, clean * 0.2);
}

// A halftone (grey scanned as scattered dots) around and under the text: joining its dots
// makes clusters of every size, far more than characters; characters are measured after the
// median the denoise step runs, and auto denoises.
TEST(MeasurePageTest, SeesHalftonesAndMeasuresTheirCharacters) {
  const cv::Mat page = Page();
  const double clean = MeasurePage(ImageFromMat(page)).char_height;
  cv::Mat halftone = page.clone();
  cv::RNG rng(5);
  for (int y = 0; y < halftone.rows; ++y) {
    for (int x = 0; x < halftone.cols; ++x) {
      if (rng.uniform(0.0, 1.0) < 0.07) halftone.at<uchar>(y, x) = 0;
    }
  }
  const PageMeasures m = MeasurePage(ImageFromMat(halftone));
  EXPECT_TRUE(m.halftone);
  EXPECT_FALSE(m.dot_print);
  EXPECT_NEAR(m.char_height, clean, clean * 0.25);
  EXPECT_FALSE(MeasurePage(ImageFromMat(page)).halftone);
  const PreparedImage out = Preprocess(ImageFromMat(halftone), {});
  EXPECT_NE(std::find_if(out.applied.begin(), out.applied.end(),
                         [](const std::string& s) { return s.rfind("denoise", 0) == 0; }),
            out.applied.end());
}

// Dot-matrix print measures as the characters its dots make, not as single dots.
TEST(MeasurePageTest, SeesDotMatrixPrintAndMeasuresItsCharacters) {
  const cv::Mat page = Page();
  const PageMeasures clean = MeasurePage(ImageFromMat(page));
  EXPECT_FALSE(clean.dot_print);
  const PageMeasures dotted = MeasurePage(ImageFromMat(Dotted(page, 4, 2)));
  EXPECT_TRUE(dotted.dot_print);
  EXPECT_NEAR(dotted.char_height, clean.char_height, clean.char_height * 0.25);
}

TEST(PreprocessTest, JoinMakesDotsStrokes) {
  const cv::Mat dotted = Dotted(Page(), 4, 2);
  PreparedImage out = Preprocess(ImageFromMat(dotted), Steps("grey,join"));
  ASSERT_EQ(out.applied.size(), 2u);
  EXPECT_EQ(out.applied[1].rfind("join:", 0), 0u);
  EXPECT_FALSE(MeasurePage(out.image).dot_print);
  // auto joins the dots instead of upscaling them as if they were tiny characters.
  PreparedImage automatic = Preprocess(ImageFromMat(dotted), {});
  EXPECT_EQ(automatic.applied.size(), 2u);
  EXPECT_EQ(automatic.applied.back().rfind("join:", 0), 0u);
  EXPECT_GT(automatic.resolution, 0);
}

TEST(PreprocessTest, NoneReturnsTheImageAndNeverModifiesTheInput) {
  const cv::Mat page = Page();
  const Image input = ImageFromMat(page.clone());
  PreparedImage none = Preprocess(input, Steps("none"));
  EXPECT_EQ(none.image.pixels(), input.pixels());
  EXPECT_TRUE(none.applied.empty());

  PreparedImage all = Preprocess(input, Steps("grey,border,deskew,upscale,denoise,binarise"));
  EXPECT_EQ(cv::norm(MatOf(input), page, cv::NORM_INF), 0);
  EXPECT_FALSE(all.applied.empty());
}

TEST(PreprocessTest, GreyMakesOneChannel) {
  cv::Mat colour;
  cv::cvtColor(Page(), colour, cv::COLOR_GRAY2BGR);
  PreparedImage out = Preprocess(ImageFromMat(colour), Steps("grey"));
  EXPECT_EQ(out.image.channels(), 1);
  EXPECT_EQ(out.applied, std::vector<std::string>{"grey"});
}

TEST(PreprocessTest, UpscaleBringsSmallTextToTheTargetHeight) {
  const cv::Mat small = Scaled(Page(), 0.35);
  const double before = MeasurePage(ImageFromMat(small)).char_height;
  PreparedImage out = Preprocess(ImageFromMat(small), Steps("grey,upscale"));
  const double after = MeasurePage(out.image).char_height;
  EXPECT_GT(out.scale, 1.5);
  EXPECT_NEAR(after, before * out.scale, before * out.scale * 0.15);
  EXPECT_GT(after, 20);
  // The transform takes the prepared page's far corner back to the input's.
  EXPECT_NEAR(out.to_input[0] * out.image.width() + out.to_input[2], small.cols, 1.0);
  EXPECT_NEAR(out.to_input[4] * out.image.height() + out.to_input[5], small.rows, 1.0);
}

TEST(PreprocessTest, DeskewLevelsThePage) {
  const cv::Mat skewed = Skewed(Page(), 4);
  PreparedImage out = Preprocess(ImageFromMat(skewed), Steps("grey,deskew"));
  ASSERT_EQ(out.applied.size(), 2u);
  EXPECT_EQ(out.applied[1].rfind("deskew:", 0), 0u);
  EXPECT_NEAR(MeasurePage(out.image).skew_degrees, 0, 0.4);
}

TEST(PreprocessTest, BorderRemovalCropsDarkBandsAndMargins) {
  const cv::Mat page = Page();
  cv::Mat bordered(page.rows + 400, page.cols + 400, CV_8UC1, cv::Scalar(255));
  bordered(cv::Rect(0, 0, 60, bordered.rows)).setTo(20);  // a scanner's dark edge
  page.copyTo(bordered(cv::Rect(200, 200, page.cols, page.rows)));
  PreparedImage out = Preprocess(ImageFromMat(bordered), Steps("grey,border"));
  EXPECT_LT(out.image.width(), page.cols + 100);
  EXPECT_LT(out.image.height(), page.rows + 100);
  const cv::Mat& m = MatOf(out.image);
  // No dark band is left along the left edge.
  EXPECT_GT(cv::mean(m.col(0))[0], 200);
}

// A black square drawn on a page is found in the prepared image; mapped back through the
// transform it lands where it was drawn, whatever steps moved it.
TEST(PreprocessTest, TransformMapsPreparedPixelsBackToTheInput) {
  cv::Mat page = Scaled(Page(), 0.4);
  cv::Mat canvas(page.rows + 300, page.cols + 300, CV_8UC1, cv::Scalar(255));
  page.copyTo(canvas(cv::Rect(150, 150, page.cols, page.rows)));
  const cv::Rect mark(canvas.cols - 140, canvas.rows - 120, 40, 40);
  canvas(mark).setTo(0);
  cv::Mat input = Skewed(canvas, 2.5);
  // Where the mark's centre went in the skewed input.
  cv::Mat forward =
      cv::getRotationMatrix2D(cv::Point2f(canvas.cols / 2.0f, canvas.rows / 2.0f), 2.5, 1.0);
  forward.at<double>(0, 2) += (input.cols - canvas.cols) / 2.0;
  forward.at<double>(1, 2) += (input.rows - canvas.rows) / 2.0;
  const double mx = mark.x + 20, my = mark.y + 20;
  const double in_x =
      forward.at<double>(0, 0) * mx + forward.at<double>(0, 1) * my + forward.at<double>(0, 2);
  const double in_y =
      forward.at<double>(1, 0) * mx + forward.at<double>(1, 1) * my + forward.at<double>(1, 2);

  PreparedImage out = Preprocess(ImageFromMat(input), Steps("grey,border,deskew,upscale,binarise"));
  ASSERT_GT(out.scale, 1.2);
  // The mark is the largest dark blob of the prepared page.
  cv::Mat ink;
  cv::threshold(MatOf(out.image), ink, 128, 255, cv::THRESH_BINARY_INV);
  cv::Mat eroded;
  cv::erode(ink, eroded, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(25, 25)));
  const cv::Moments mo = cv::moments(eroded, true);
  ASSERT_GT(mo.m00, 0);
  const double px = mo.m10 / mo.m00, py = mo.m01 / mo.m00;
  const auto& t = out.to_input;
  EXPECT_NEAR(t[0] * px + t[1] * py + t[2], in_x, 4.0);
  EXPECT_NEAR(t[3] * px + t[4] * py + t[5], in_y, 4.0);
}

TEST(PreprocessTest, BinariseGivesBlackTextOnWhiteUnderUnevenLight) {
  const cv::Mat shaded = Shaded(Page(), 250, 110);
  PreparedImage out = Preprocess(ImageFromMat(shaded), Steps("grey,binarise"));
  const cv::Mat& m = MatOf(out.image);
  cv::Mat mid;
  cv::inRange(m, 1, 254, mid);
  EXPECT_EQ(cv::countNonZero(mid), 0);  // two levels only
  // The dark right side's paper comes out white: most of every column is paper.
  const cv::Mat right = m(cv::Rect(m.cols * 3 / 4, 0, m.cols / 4, m.rows));
  EXPECT_GT(cv::countNonZero(right) / static_cast<double>(right.total()), 0.8);
}

TEST(PreprocessTest, DenoiseRemovesSpeckle) {
  const cv::Mat noisy = Noisy(Page(), 0.01);
  PreparedImage out = Preprocess(ImageFromMat(noisy), Steps("grey,denoise,binarise"));
  EXPECT_LT(MeasurePage(out.image).noise, MeasurePage(ImageFromMat(noisy)).noise / 3);
}

TEST(PreprocessTest, AutoChoosesFromMeasurements) {
  const cv::Mat page = Page();
  PreparedImage clean = Preprocess(ImageFromMat(page), {});
  EXPECT_EQ(clean.applied, std::vector<std::string>{"grey"});
  // The resolution follows the characters: 12 pt at 300 dpi, told as about 300-500 dpi.
  EXPECT_GT(clean.resolution, 250);
  EXPECT_LT(clean.resolution, 550);
  EXPECT_EQ(Preprocess(ImageFromMat(page), Steps("none")).resolution, 0);

  PreparedImage small = Preprocess(ImageFromMat(Scaled(page, 0.3)), {});
  ASSERT_GE(small.applied.size(), 2u);
  EXPECT_EQ(small.applied[1].rfind("upscale:", 0), 0u);

  PreparedImage skewed = Preprocess(ImageFromMat(Skewed(page, 5)), {});
  EXPECT_NE(std::find_if(skewed.applied.begin(), skewed.applied.end(),
                         [](const std::string& s) { return s.rfind("deskew:", 0) == 0; }),
            skewed.applied.end());
}

TEST(PreprocessTest, OrientUsesTheDetectorAndRecordsTheTurn) {
  cv::Mat turned;
  cv::rotate(Page(), turned, cv::ROTATE_90_COUNTERCLOCKWISE);
  int calls = 0;
  OrientationDetector detector = [&](const Image&) {
    ++calls;
    return 90;
  };
  PreparedImage out = Preprocess(ImageFromMat(turned), Steps("grey,orient"), detector);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(out.image.width(), turned.rows);
  EXPECT_EQ(out.applied.back(), "orient:90");
  // The prepared top-left corner is the input's bottom-left.
  EXPECT_NEAR(out.to_input[2], 0, 1e-9);
  EXPECT_NEAR(out.to_input[5], turned.rows - 1, 1e-9);
  // Without a detector the step is skipped.
  PreparedImage skipped = Preprocess(ImageFromMat(turned), Steps("grey,orient"));
  EXPECT_EQ(skipped.applied, std::vector<std::string>{"grey"});
}

}  // namespace
}  // namespace scanline
