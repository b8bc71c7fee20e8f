// Image decoding. A first cut: sniffing and OpenCV decoding. Header checks for bombs and
// multi-page formats land with the OCR work.
#include "core/image.h"

#include <openssl/evp.h>

#include <opencv2/imgcodecs.hpp>

#include "core/detail/image_mat.h"
#include "core/error.h"

namespace scanline {

Image::Image() = default;
Image::~Image() = default;
Image::Image(const Image&) = default;
Image& Image::operator=(const Image&) = default;
Image::Image(Image&&) noexcept = default;
Image& Image::operator=(Image&&) noexcept = default;
Image::Image(std::shared_ptr<Pixels> pixels) : pixels_(std::move(pixels)) {}

int Image::width() const { return pixels_ ? pixels_->mat.cols : 0; }
int Image::height() const { return pixels_ ? pixels_->mat.rows : 0; }
int Image::channels() const { return pixels_ ? pixels_->mat.channels() : 0; }
bool Image::empty() const { return !pixels_ || pixels_->mat.empty(); }

std::string_view FormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kPng: return "png";
    case ImageFormat::kJpeg: return "jpeg";
    case ImageFormat::kTiff: return "tiff";
    case ImageFormat::kWebp: return "webp";
    case ImageFormat::kBmp: return "bmp";
    case ImageFormat::kPdf: return "pdf";
    case ImageFormat::kUnknown: break;
  }
  return "unknown";
}

ImageFormat SniffFormat(std::string_view b) {
  if (b.starts_with("\x89PNG\r\n\x1a\n")) return ImageFormat::kPng;
  if (b.starts_with("\xff\xd8\xff")) return ImageFormat::kJpeg;
  if (b.starts_with("II*\0") || b.starts_with(std::string_view("MM\0*", 4)))
    return ImageFormat::kTiff;
  if (b.size() >= 12 && b.starts_with("RIFF") && b.substr(8, 4) == "WEBP")
    return ImageFormat::kWebp;
  if (b.starts_with("BM")) return ImageFormat::kBmp;
  if (b.starts_with("%PDF-")) return ImageFormat::kPdf;
  return ImageFormat::kUnknown;
}

ImageInfo InspectImage(std::string_view bytes, const ImageLimits& limits) {
  if (bytes.size() > limits.max_bytes) {
    throw Error(ErrorCode::kPayloadTooLarge, "image larger than " +
                                                 std::to_string(limits.max_bytes) + " bytes");
  }
  ImageInfo info;
  info.format = SniffFormat(bytes);
  if (info.format == ImageFormat::kUnknown) {
    throw Error(ErrorCode::kUnsupportedMediaType,
                "not an image this service reads (png, jpeg, tiff, webp, bmp, pdf)");
  }
  return info;
}

std::vector<Image> DecodeImage(std::string_view bytes, const ImageLimits& limits) {
  InspectImage(bytes, limits);
  cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1,
              const_cast<char*>(bytes.data()));
  cv::Mat mat = cv::imdecode(raw, cv::IMREAD_COLOR);
  if (mat.empty()) throw Error(ErrorCode::kCorruptImage, "the image could not be decoded");
  return {ImageFromMat(std::move(mat))};
}

std::string EncodePng(const Image& image) {
  std::vector<uchar> out;
  cv::imencode(".png", MatOf(image), out);
  return std::string(out.begin(), out.end());
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 15]);
  }
  return hex;
}

}  // namespace scanline
