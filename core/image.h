// Decoding client images safely.
//
// A client can send anything: the format is sniffed from the bytes (never trusted from the
// Content-Type), and the byte size, pixel count and page count are read from the header and
// checked against ImageLimits before any pixel is decoded, so a decompression bomb is refused
// cheaply. Multi-page TIFF and PDF (rendered at a chosen dpi) decode to one Image per page.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace scanline {

enum class ImageFormat { kUnknown, kPng, kJpeg, kTiff, kWebp, kBmp, kPdf };

std::string_view FormatName(ImageFormat format);  // "png", "jpeg", ...
// The format from the magic bytes; kUnknown when none matches.
ImageFormat SniffFormat(std::string_view bytes);

struct ImageLimits {
  uint64_t max_bytes = 20ull << 20;  // bytes of the encoded image
  uint64_t max_pixels = 40'000'000;  // width * height of one page
  int max_pages = 20;                // pages of a TIFF or PDF
  int pdf_dpi = 300;                 // dots per inch when rendering PDF pages
};

// The limits of the service configuration (limits.* keys).
struct LimitsConfig;
ImageLimits ImageLimitsFrom(const LimitsConfig& config);

struct ImageInfo {
  ImageFormat format = ImageFormat::kUnknown;
  int width = 0;   // pixels, of the first page
  int height = 0;  // pixels, of the first page
  int pages = 1;
};

// Reads the header only (for PDF: the document structure and page boxes, no rendering).
// Throws Error: kPayloadTooLarge (bytes), kBadRequest (zero bytes), kUnsupportedMediaType
// (unknown format), kImageTooLarge (pixels of any page, or pages), kCorruptImage (truncated
// or inconsistent header), kUnprocessable (encrypted PDF).
ImageInfo InspectImage(std::string_view bytes, const ImageLimits& limits);

// A decoded page: 8-bit, 1 (grey) or 3 (BGR) channels. Cheap to copy (shared pixels).
class Image {
 public:
  Image();
  ~Image();
  Image(const Image&);
  Image& operator=(const Image&);
  Image(Image&&) noexcept;
  Image& operator=(Image&&) noexcept;

  int width() const;
  int height() const;
  int channels() const;
  bool empty() const;

  struct Pixels;  // defined in core/detail/image_mat.h
  explicit Image(std::shared_ptr<Pixels> pixels);
  const std::shared_ptr<Pixels>& pixels() const { return pixels_; }

 private:
  std::shared_ptr<Pixels> pixels_;
};

// Inspects, then decodes every page (the first `first_pages` only when > 0: a caller that
// reads one page does not pay for rendering the others); stores what InspectImage returns
// in `info` when given. Throws the errors of InspectImage, kBadRequest for zero bytes,
// kCorruptImage when the decoder fails (never crashes on hostile input), kUnprocessable for
// an encrypted PDF.
std::vector<Image> DecodeImage(std::string_view bytes, const ImageLimits& limits,
                               ImageInfo* info = nullptr, int first_pages = 0);

// Encodes as PNG (for filled forms and debugging).
std::string EncodePng(const Image& image);

// Hex SHA-256 of the bytes, as logged and returned.
std::string Sha256Hex(std::string_view bytes);

}  // namespace scanline
