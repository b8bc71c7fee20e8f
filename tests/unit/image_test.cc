// Image decoding: every input format, multi-page TIFF and PDF, and every hostile input
// refused with its own error before or instead of decoding.
#include "core/image.h"

#include <gtest/gtest.h>

#include "core/detail/image_mat.h"
#include "core/error.h"
#include "tests/unit/text_images.h"

namespace scanline {
namespace {

using testing::Encode;
using testing::MultipageTiff;
using testing::PdfOfPages;

cv::Mat Sample(int w = 320, int h = 200, int shade = 40) {
  cv::Mat m(h, w, CV_8UC1, cv::Scalar(255));
  cv::rectangle(m, cv::Rect(w / 4, h / 4, w / 2, h / 2), cv::Scalar(shade), cv::FILLED);
  return m;
}

ErrorCode DecodeError(std::string_view bytes, const ImageLimits& limits = {}) {
  try {
    DecodeImage(bytes, limits);
  } catch (const Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "decoded";
  return ErrorCode::kInternal;
}

TEST(ImageTest, SniffsFormatsFromBytes) {
  EXPECT_EQ(SniffFormat(Encode(Sample(), ".png")), ImageFormat::kPng);
  EXPECT_EQ(SniffFormat(Encode(Sample(), ".jpg")), ImageFormat::kJpeg);
  EXPECT_EQ(SniffFormat(Encode(Sample(), ".tiff")), ImageFormat::kTiff);
  EXPECT_EQ(SniffFormat(Encode(Sample(), ".webp")), ImageFormat::kWebp);
  EXPECT_EQ(SniffFormat(Encode(Sample(), ".bmp")), ImageFormat::kBmp);
  EXPECT_EQ(SniffFormat(PdfOfPages({Sample()})), ImageFormat::kPdf);
  EXPECT_EQ(SniffFormat("GIF89a...."), ImageFormat::kUnknown);
}

TEST(ImageTest, DecodesEveryFormat) {
  const cv::Mat page = Sample();
  for (const char* ext : {".png", ".jpg", ".tiff", ".webp", ".bmp"}) {
    ImageInfo info;
    std::vector<Image> pages = DecodeImage(Encode(page, ext), {}, &info);
    ASSERT_EQ(pages.size(), 1u) << ext;
    EXPECT_EQ(info.width, 320) << ext;
    EXPECT_EQ(info.height, 200) << ext;
    EXPECT_EQ(pages[0].width(), 320) << ext;
    EXPECT_EQ(pages[0].height(), 200) << ext;
    cv::Mat grey;
    const cv::Mat& m = MatOf(pages[0]);
    if (m.channels() == 3) {
      cv::cvtColor(m, grey, cv::COLOR_BGR2GRAY);
    } else {
      grey = m;
    }
    // Lossy formats keep the picture within a few grey levels on average.
    EXPECT_LT(cv::norm(grey, page, cv::NORM_L1) / page.total(), 4.0) << ext;
  }
}

TEST(ImageTest, MultipageTiffGivesOnePerPage) {
  const std::string tiff =
      MultipageTiff({Sample(300, 200, 0), Sample(200, 100, 128), Sample(100, 80, 200)});
  ImageInfo info;
  std::vector<Image> pages = DecodeImage(tiff, {}, &info);
  EXPECT_EQ(info.pages, 3);
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(pages[1].width(), 200);
  EXPECT_EQ(pages[2].height(), 80);
  // A caller that reads one page gets the first only (the plate reader, form filling).
  pages = DecodeImage(tiff, {}, &info, 1);
  EXPECT_EQ(info.pages, 3);
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_EQ(pages[0].width(), 300);
  EXPECT_EQ(DecodeImage(tiff, {}, &info, 2).size(), 2u);
}

TEST(ImageTest, PdfPagesAreRenderedAtTheChosenDpi) {
  ImageLimits limits;
  limits.pdf_dpi = 100;
  // Pages of 300x150 pixels at 150 dpi are 2 x 1 inches.
  const std::string pdf = PdfOfPages({Sample(300, 150), Sample(150, 300)}, 150);
  ImageInfo info;
  std::vector<Image> pages = DecodeImage(pdf, limits, &info);
  EXPECT_EQ(info.format, ImageFormat::kPdf);
  EXPECT_EQ(info.pages, 2);
  ASSERT_EQ(pages.size(), 2u);
  EXPECT_NEAR(pages[0].width(), 200, 1);
  EXPECT_NEAR(pages[0].height(), 100, 1);
  EXPECT_NEAR(pages[1].width(), 100, 1);
  pages = DecodeImage(pdf, limits, &info, 1);
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_NEAR(pages[0].width(), 200, 1);
}

TEST(ImageTest, TransparencyIsCompositedOverWhite) {
  cv::Mat rgba(50, 50, CV_8UC4, cv::Scalar(0, 0, 0, 0));  // black, fully transparent
  std::vector<Image> pages = DecodeImage(Encode(rgba, ".png"), {});
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_EQ(pages[0].channels(), 3);
  EXPECT_EQ(cv::mean(MatOf(pages[0]))[0], 255);
}

TEST(ImageTest, ZeroBytesIsABadRequest) { EXPECT_EQ(DecodeError(""), ErrorCode::kBadRequest); }

TEST(ImageTest, UnknownBytesAreUnsupported) {
  EXPECT_EQ(DecodeError("GIF89a\x01\x00\x01\x00"), ErrorCode::kUnsupportedMediaType);
  EXPECT_EQ(DecodeError("just some text, not an image"), ErrorCode::kUnsupportedMediaType);
}

TEST(ImageTest, TruncatedAndCorruptFilesAreCorrupt) {
  const std::string png = Encode(Sample(), ".png");
  const std::string jpeg = Encode(Sample(), ".jpg");
  const std::string tiff = Encode(Sample(), ".tiff");
  const std::string webp = Encode(Sample(), ".webp");
  const std::string bmp = Encode(Sample(), ".bmp");
  for (const std::string* bytes : {&png, &jpeg, &tiff, &webp, &bmp}) {
    for (size_t keep : {size_t{16}, size_t{30}, bytes->size() / 2}) {
      EXPECT_EQ(DecodeError(bytes->substr(0, keep)), ErrorCode::kCorruptImage)
          << FormatName(SniffFormat(*bytes)) << " kept " << keep;
    }
  }
  // A good header over garbage.
  std::string garbage = png;
  for (size_t i = 40; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 31);
  EXPECT_EQ(DecodeError(garbage), ErrorCode::kCorruptImage);
  EXPECT_EQ(DecodeError("%PDF-1.4\nnothing here\n"), ErrorCode::kCorruptImage);
}

TEST(ImageTest, DecompressionBombIsRefusedFromTheHeader) {
  // 8000 x 6000 of one colour: 48 megapixels in a few tens of kilobytes.
  const std::string bomb = Encode(cv::Mat(6000, 8000, CV_8UC1, cv::Scalar(255)), ".png");
  ASSERT_LT(bomb.size(), 1u << 20);
  EXPECT_EQ(DecodeError(bomb), ErrorCode::kImageTooLarge);
  try {
    InspectImage(bomb, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.detail()).find("8000x6000"), std::string::npos) << e.detail();
  }
  // A header that claims more than its bytes could ever hold is refused the same way.
  std::string liar = Encode(Sample(), ".png");
  liar[16] = liar[17] = 0x7f;  // width 2 billion-ish
  EXPECT_EQ(DecodeError(liar), ErrorCode::kImageTooLarge);
}

// Little-endian bytes of `value`, `n` of them.
std::string Le(uint64_t value, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out.push_back(static_cast<char>(value >> (8 * i) & 0xff));
  return out;
}

TEST(ImageTest, EveryFormatsBombIsRefusedFromItsHeader) {
  // Headers claiming pages of billions of pixels, in a few dozen bytes: refused by what the
  // header says (413), never given to a decoder.
  std::vector<std::pair<std::string, std::string>> bombs;
  // JPEG: a real file whose frame header says 60000 x 60000.
  std::string jpeg = Encode(Sample(16, 16), ".jpg");
  const size_t sof = jpeg.find("\xff\xc0");
  ASSERT_NE(sof, std::string::npos);
  jpeg[sof + 5] = jpeg[sof + 7] = static_cast<char>(0xea);  // height, width: 0xea60 = 60000
  jpeg[sof + 6] = jpeg[sof + 8] = 0x60;
  bombs.emplace_back("jpeg", jpeg);
  // BMP: a real file whose info header says 100000 x 100000.
  std::string bmp = Encode(Sample(16, 16), ".bmp");
  bmp.replace(18, 8, Le(100000, 4) + Le(100000, 4));
  bombs.emplace_back("bmp", bmp);
  // TIFF and BigTIFF: one directory of width and height (LONG / LONG8).
  bombs.emplace_back("tiff", std::string("II*\0", 4) + Le(8, 4) + Le(2, 2) + Le(256, 2) + Le(4, 2) +
                                 Le(1, 4) + Le(100000, 4) + Le(257, 2) + Le(4, 2) + Le(1, 4) +
                                 Le(100000, 4) + Le(0, 4));
  bombs.emplace_back("bigtiff", std::string("II+\0", 4) + Le(8, 2) + Le(0, 2) + Le(16, 8) +
                                    Le(2, 8) + Le(256, 2) + Le(16, 2) + Le(1, 8) + Le(1 << 20, 8) +
                                    Le(257, 2) + Le(16, 2) + Le(1, 8) + Le(1 << 20, 8) + Le(0, 8));
  // WebP, the three bitstreams: 16384 x 16384 (VP8X, VP8L), 16383 x 16383 (VP8).
  auto riff = [](const std::string& chunk) {
    return "RIFF" + Le(4 + chunk.size(), 4) + "WEBP" + chunk + std::string(16, '\0');
  };
  bombs.emplace_back("webp VP8X",
                     riff("VP8X" + Le(10, 4) + Le(0, 4) + Le(16383, 3) + Le(16383, 3)));
  bombs.emplace_back("webp VP8L",
                     riff("VP8L" + Le(5, 4) + "\x2f" + Le(16383 | uint64_t{16383} << 14, 4)));
  bombs.emplace_back("webp VP8",
                     riff("VP8 " + Le(10, 4) + std::string("\x10\x02\x00\x9d\x01\x2a", 6) +
                          Le(16383, 2) + Le(16383, 2)));
  for (const auto& [name, bytes] : bombs) {
    EXPECT_EQ(DecodeError(bytes), ErrorCode::kImageTooLarge) << name;
  }
  // The same headers with a size inside the limit pass inspection.
  ImageLimits generous;
  generous.max_pixels = uint64_t{1} << 40;
  for (const auto& [name, bytes] : bombs) {
    if (name == "jpeg" || name == "bmp") continue;  // these need their pixel data
    EXPECT_NO_THROW(InspectImage(bytes, generous)) << name;
  }
}

TEST(ImageTest, LimitsOnBytesAndPages) {
  ImageLimits limits;
  limits.max_bytes = 100;
  EXPECT_EQ(DecodeError(Encode(Sample(), ".bmp"), limits), ErrorCode::kPayloadTooLarge);
  limits = {};
  limits.max_pages = 2;
  EXPECT_EQ(DecodeError(MultipageTiff({Sample(), Sample(), Sample()}), limits),
            ErrorCode::kImageTooLarge);
  EXPECT_EQ(DecodeError(PdfOfPages({Sample(), Sample(), Sample()}), limits),
            ErrorCode::kImageTooLarge);
}

TEST(ImageTest, Sha256IsHex) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace scanline
