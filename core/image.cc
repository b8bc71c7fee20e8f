// Image inspection and decoding (see core/image.h).
//
// The header readers below follow the format specifications: PNG (ISO/IEC 15948, IHDR),
// JPEG (ITU T.81 B.1.1: markers, SOFn), TIFF 6.0 (and BigTIFF: IFD chains), WebP (RIFF
// container: VP8, VP8L and VP8X chunks), BMP (BITMAPFILEHEADER + DIB header) and PDF (page
// boxes via poppler). They read only what is needed to refuse an input before the decoder
// allocates anything, and treat every offset as hostile: bounds checked, loops bounded.
//
// Decoding uses OpenCV (single images, and multi-page TIFF through a memory file, since
// OpenCV 4.6 decodes several pages only from a path) and poppler for PDF pages. Decoded
// pages are normalised to 8 bits, 1 or 3 channels; transparency is composited over white,
// because text on a transparent background would otherwise read as black on black.
#include "core/image.h"

#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page-renderer.h>
#include <poppler/cpp/poppler-page.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "core/config.h"
#include "core/crypto.h"
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
    case ImageFormat::kPng:
      return "png";
    case ImageFormat::kJpeg:
      return "jpeg";
    case ImageFormat::kTiff:
      return "tiff";
    case ImageFormat::kWebp:
      return "webp";
    case ImageFormat::kBmp:
      return "bmp";
    case ImageFormat::kPdf:
      return "pdf";
    case ImageFormat::kUnknown:
      break;
  }
  return "unknown";
}

ImageFormat SniffFormat(std::string_view b) {
  using namespace std::string_view_literals;
  if (b.starts_with("\x89PNG\r\n\x1a\n"sv)) return ImageFormat::kPng;
  if (b.starts_with("\xff\xd8\xff"sv)) return ImageFormat::kJpeg;
  if (b.starts_with("II*\0"sv) || b.starts_with("MM\0*"sv) || b.starts_with("II+\0"sv) ||
      b.starts_with("MM\0+"sv)) {
    return ImageFormat::kTiff;
  }
  if (b.size() >= 12 && b.starts_with("RIFF"sv) && b.substr(8, 4) == "WEBP"sv) {
    return ImageFormat::kWebp;
  }
  if (b.starts_with("BM"sv)) return ImageFormat::kBmp;
  // PDF readers accept the header anywhere in the first 1024 bytes; we ask for it first.
  if (b.starts_with("%PDF-"sv)) return ImageFormat::kPdf;
  return ImageFormat::kUnknown;
}

namespace {

[[noreturn]] void Corrupt(std::string_view format, std::string_view why) {
  throw Error(ErrorCode::kCorruptImage,
              "the " + std::string(format) + " image is corrupt or truncated: " + std::string(why));
}

// Bounds-checked big- and little-endian reads.
struct Reader {
  std::string_view b;
  std::string_view format;
  bool little = false;

  void Need(uint64_t offset, uint64_t size) const {
    if (offset > b.size() || size > b.size() - offset) Corrupt(format, "header cut short");
  }
  uint8_t U8(uint64_t at) const {
    Need(at, 1);
    return static_cast<uint8_t>(b[at]);
  }
  uint16_t U16(uint64_t at) const {
    Need(at, 2);
    uint16_t v0 = U8(at), v1 = U8(at + 1);
    return little ? static_cast<uint16_t>(v0 | v1 << 8) : static_cast<uint16_t>(v0 << 8 | v1);
  }
  uint32_t U32(uint64_t at) const {
    uint32_t hi = U16(at), lo = U16(at + 2);
    return little ? (lo << 16 | hi) : (hi << 16 | lo);
  }
  uint64_t U64(uint64_t at) const {
    uint64_t hi = U32(at), lo = U32(at + 4);
    return little ? (lo << 32 | hi) : (hi << 32 | lo);
  }
};

void CheckPixels(uint64_t width, uint64_t height, const ImageLimits& limits,
                 std::string_view format) {
  if (width == 0 || height == 0) Corrupt(format, "zero width or height");
  if (width > (1u << 30) || height > (1u << 30) || width * height > limits.max_pixels) {
    throw Error(ErrorCode::kImageTooLarge,
                "image of " + std::to_string(width) + "x" + std::to_string(height) +
                    " pixels is over the limit of " + std::to_string(limits.max_pixels) +
                    " pixels per page");
  }
}

void CheckPages(uint64_t pages, const ImageLimits& limits) {
  if (pages > static_cast<uint64_t>(limits.max_pages)) {
    throw Error(ErrorCode::kImageTooLarge,
                "document has more than " + std::to_string(limits.max_pages) + " pages");
  }
}

ImageInfo InspectPng(std::string_view b, const ImageLimits& limits) {
  Reader r{b, "png"};
  // Signature (8), then the first chunk must be IHDR of length 13.
  if (r.U32(8) != 13 || b.substr(12, 4) != "IHDR") Corrupt("png", "no IHDR chunk first");
  ImageInfo info{ImageFormat::kPng, static_cast<int>(r.U32(16) & 0x7fffffff),
                 static_cast<int>(r.U32(20) & 0x7fffffff), 1};
  CheckPixels(r.U32(16), r.U32(20), limits, "png");
  if (b.size() < 33 + 12) Corrupt("png", "no image data");
  return info;
}

ImageInfo InspectJpeg(std::string_view b, const ImageLimits& limits) {
  Reader r{b, "jpeg"};
  uint64_t at = 2;
  while (true) {
    if (r.U8(at) != 0xff) Corrupt("jpeg", "marker expected");
    while (r.U8(at) == 0xff) ++at;  // fill bytes
    const uint8_t marker = r.U8(at++);
    if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;  // no length
    if (marker == 0xd9 || marker == 0xda) Corrupt("jpeg", "no frame header before the scan");
    const uint16_t length = r.U16(at);
    if (length < 2) Corrupt("jpeg", "bad segment length");
    // SOF0..SOF15 except DHT (c4), JPG (c8) and DAC (cc).
    if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc) {
      const uint16_t height = r.U16(at + 3), width = r.U16(at + 5);
      if (height == 0) Corrupt("jpeg", "height given later (DNL) is not supported");
      CheckPixels(width, height, limits, "jpeg");
      // The scan must be followed by an end-of-image marker; without it the file is cut.
      const size_t sos = b.find("\xff\xda", at);
      if (sos == std::string_view::npos || b.find("\xff\xd9", sos) == std::string_view::npos) {
        Corrupt("jpeg", "no end-of-image marker");
      }
      return ImageInfo{ImageFormat::kJpeg, width, height, 1};
    }
    at += length;
  }
}

ImageInfo InspectTiff(std::string_view b, const ImageLimits& limits) {
  Reader r{b, "tiff", b[0] == 'I'};
  const bool big = r.U16(2) == 43;
  uint64_t ifd;
  if (big) {
    if (r.U16(4) != 8 || r.U16(6) != 0) Corrupt("tiff", "bad BigTIFF header");
    ifd = r.U64(8);
  } else {
    ifd = r.U32(4);
  }
  ImageInfo info{ImageFormat::kTiff, 0, 0, 0};
  std::set<uint64_t> seen;
  while (ifd != 0) {
    if (!seen.insert(ifd).second) Corrupt("tiff", "directory chain loops");
    CheckPages(seen.size(), limits);
    const uint64_t count = big ? r.U64(ifd) : r.U16(ifd);
    if (count == 0 || count > b.size()) Corrupt("tiff", "bad directory entry count");
    const uint64_t entry_size = big ? 20 : 12;
    const uint64_t first = ifd + (big ? 8 : 2);
    r.Need(first, count * entry_size + (big ? 8 : 4));
    uint64_t width = 0, height = 0;
    for (uint64_t i = 0; i < count; ++i) {
      const uint64_t e = first + i * entry_size;
      const uint16_t tag = r.U16(e), type = r.U16(e + 2);
      if (tag != 256 && tag != 257) continue;
      const uint64_t value_at = e + (big ? 12 : 8);
      uint64_t value;
      if (type == 3) {
        value = r.U16(value_at);  // SHORT
      } else if (type == 4) {
        value = r.U32(value_at);  // LONG
      } else if (type == 16) {
        value = r.U64(value_at);  // LONG8 (BigTIFF)
      } else {
        Corrupt("tiff", "bad type for image size");
      }
      (tag == 256 ? width : height) = value;
    }
    CheckPixels(width, height, limits, "tiff");
    if (info.pages == 0) {
      info.width = static_cast<int>(width);
      info.height = static_cast<int>(height);
    }
    ++info.pages;
    ifd = big ? r.U64(first + count * entry_size) : r.U32(first + count * entry_size);
  }
  if (info.pages == 0) Corrupt("tiff", "no image directory");
  return info;
}

ImageInfo InspectWebp(std::string_view b, const ImageLimits& limits) {
  Reader r{b, "webp", true};
  const std::string_view chunk = b.size() >= 16 ? b.substr(12, 4) : "";
  uint64_t width = 0, height = 0;
  if (chunk == "VP8 ") {
    // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height.
    if (r.U8(23) != 0x9d || r.U8(24) != 0x01 || r.U8(25) != 0x2a) {
      Corrupt("webp", "bad VP8 start code");
    }
    width = r.U16(26) & 0x3fff;
    height = r.U16(28) & 0x3fff;
  } else if (chunk == "VP8L") {
    if (r.U8(20) != 0x2f) Corrupt("webp", "bad VP8L signature");
    const uint32_t bits = r.U32(21);
    width = (bits & 0x3fff) + 1;
    height = ((bits >> 14) & 0x3fff) + 1;
  } else if (chunk == "VP8X") {
    width = (r.U32(24) & 0xffffff) + 1;
    height = (r.U32(27) & 0xffffff) + 1;
  } else {
    Corrupt("webp", "unknown first chunk");
  }
  CheckPixels(width, height, limits, "webp");
  return ImageInfo{ImageFormat::kWebp, static_cast<int>(width), static_cast<int>(height), 1};
}

ImageInfo InspectBmp(std::string_view b, const ImageLimits& limits) {
  Reader r{b, "bmp", true};
  const uint32_t header = r.U32(14);
  int64_t width, height;
  if (header == 12) {  // BITMAPCOREHEADER
    width = r.U16(18);
    height = r.U16(20);
  } else if (header >= 40) {
    width = static_cast<int32_t>(r.U32(18));
    height = static_cast<int32_t>(r.U32(22));
  } else {
    Corrupt("bmp", "unknown header size");
  }
  if (width <= 0) Corrupt("bmp", "bad width");
  height = height < 0 ? -height : height;  // negative: rows stored top-down
  CheckPixels(width, height, limits, "bmp");
  if (r.U32(10) >= b.size()) Corrupt("bmp", "no pixel data");
  return ImageInfo{ImageFormat::kBmp, static_cast<int>(width), static_cast<int>(height), 1};
}

void QuietPoppler(const std::string&, void*) {}

std::unique_ptr<poppler::document> LoadPdf(std::string_view b) {
  static std::once_flag quiet;
  std::call_once(quiet, [] { poppler::set_debug_error_function(&QuietPoppler, nullptr); });
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(b.data(), static_cast<int>(b.size())));
  if (!doc) Corrupt("pdf", "the document cannot be read");
  if (doc->is_locked()) {
    throw Error(ErrorCode::kUnprocessable, "the PDF is encrypted with a password");
  }
  return doc;
}

// A PDF page's size in pixels at `dpi` (points are 1/72 inch).
std::pair<uint64_t, uint64_t> PdfPagePixels(const poppler::page& page, int dpi) {
  const poppler::rectf box = page.page_rect(poppler::crop_box);
  double w = box.width() * dpi / 72.0, h = box.height() * dpi / 72.0;
  if (page.orientation() == poppler::page::landscape ||
      page.orientation() == poppler::page::seascape) {
    std::swap(w, h);
  }
  if (!(w >= 1 && h >= 1 && w < 1e9 && h < 1e9)) return {0, 0};
  return {static_cast<uint64_t>(std::ceil(w)), static_cast<uint64_t>(std::ceil(h))};
}

ImageInfo InspectPdf(std::string_view b, const ImageLimits& limits,
                     std::unique_ptr<poppler::document>* keep = nullptr) {
  auto doc = LoadPdf(b);
  const int pages = doc->pages();
  if (pages <= 0) Corrupt("pdf", "no pages");
  CheckPages(pages, limits);
  ImageInfo info{ImageFormat::kPdf, 0, 0, pages};
  for (int i = 0; i < pages; ++i) {
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (!page) Corrupt("pdf", "page " + std::to_string(i + 1) + " cannot be read");
    auto [w, h] = PdfPagePixels(*page, limits.pdf_dpi);
    CheckPixels(w, h, limits, "pdf");
    if (i == 0) {
      info.width = static_cast<int>(w);
      info.height = static_cast<int>(h);
    }
  }
  if (keep) *keep = std::move(doc);
  return info;
}

ImageInfo Inspect(std::string_view bytes, const ImageLimits& limits,
                  std::unique_ptr<poppler::document>* pdf) {
  if (bytes.size() > limits.max_bytes) {
    throw Error(ErrorCode::kPayloadTooLarge, "image of " + std::to_string(bytes.size()) +
                                                 " bytes is over the limit of " +
                                                 std::to_string(limits.max_bytes) + " bytes");
  }
  if (bytes.empty()) throw Error(ErrorCode::kBadRequest, "the image is empty (0 bytes)");
  switch (SniffFormat(bytes)) {
    case ImageFormat::kPng:
      return InspectPng(bytes, limits);
    case ImageFormat::kJpeg:
      return InspectJpeg(bytes, limits);
    case ImageFormat::kTiff:
      return InspectTiff(bytes, limits);
    case ImageFormat::kWebp:
      return InspectWebp(bytes, limits);
    case ImageFormat::kBmp:
      return InspectBmp(bytes, limits);
    case ImageFormat::kPdf:
      return InspectPdf(bytes, limits, pdf);
    case ImageFormat::kUnknown:
      break;
  }
  throw Error(ErrorCode::kUnsupportedMediaType,
              "not an image this service reads (png, jpeg, tiff, webp, bmp, pdf)");
}

// 8 bits, 1 or 3 channels; alpha composited over white.
cv::Mat Normalise(cv::Mat mat) {
  if (mat.depth() != CV_8U) {
    double scale = mat.depth() == CV_16U   ? 1.0 / 257
                   : mat.depth() == CV_32F ? 255.0
                   : mat.depth() == CV_64F ? 255.0
                                           : 1.0;
    cv::Mat eight;
    mat.convertTo(eight, CV_8U, scale);
    mat = eight;
  }
  if (mat.channels() == 4) {
    std::vector<cv::Mat> planes;
    cv::split(mat, planes);
    cv::Mat alpha, inverse;
    planes[3].convertTo(alpha, CV_32F, 1.0 / 255);
    inverse = 1.0 - alpha;
    cv::Mat out;
    std::vector<cv::Mat> bgr(3);
    for (int c = 0; c < 3; ++c) {
      cv::Mat plane;
      planes[c].convertTo(plane, CV_32F);
      plane = plane.mul(alpha) + inverse * 255.0;
      plane.convertTo(bgr[c], CV_8U);
    }
    cv::merge(bgr, out);
    mat = out;
  } else if (mat.channels() == 2) {
    std::vector<cv::Mat> planes;
    cv::split(mat, planes);
    mat = planes[0];
  } else if (mat.channels() != 1 && mat.channels() != 3) {
    Corrupt("decoded", "unexpected channel count");
  }
  return mat;
}

// OpenCV reads several TIFF pages only from a path: give it an anonymous memory file.
std::vector<cv::Mat> DecodeTiffPages(std::string_view bytes) {
  const int fd = memfd_create("scanline-tiff", MFD_CLOEXEC);
  if (fd < 0) throw Error(ErrorCode::kInternal, "decode failed", "memfd_create failed");
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) throw Error(ErrorCode::kInternal, "decode failed", "memfd write failed");
    done += static_cast<size_t>(n);
  }
  std::vector<cv::Mat> mats;
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (!cv::imreadmulti(path, mats, cv::IMREAD_UNCHANGED)) mats.clear();
  return mats;
}

std::vector<Image> RenderPdf(poppler::document& doc, const ImageLimits& limits, int count) {
  poppler::page_renderer renderer;
  renderer.set_render_hint(poppler::page_renderer::antialiasing, true);
  renderer.set_render_hint(poppler::page_renderer::text_antialiasing, true);
  renderer.set_paper_color(0xffffffff);
  renderer.set_image_format(poppler::image::format_bgr24);
  std::vector<Image> pages;
  for (int i = 0; i < std::min(doc.pages(), count); ++i) {
    std::unique_ptr<poppler::page> page(doc.create_page(i));
    if (!page) Corrupt("pdf", "page " + std::to_string(i + 1) + " cannot be read");
    poppler::image img = renderer.render_page(page.get(), limits.pdf_dpi, limits.pdf_dpi);
    if (!img.is_valid() || img.width() <= 0 || img.height() <= 0) {
      Corrupt("pdf", "page " + std::to_string(i + 1) + " cannot be rendered");
    }
    cv::Mat view(img.height(), img.width(), CV_8UC3, img.data(),
                 static_cast<size_t>(img.bytes_per_row()));
    pages.push_back(ImageFromMat(view.clone()));
  }
  return pages;
}

}  // namespace

ImageInfo InspectImage(std::string_view bytes, const ImageLimits& limits) {
  return Inspect(bytes, limits, nullptr);
}

std::vector<Image> DecodeImage(std::string_view bytes, const ImageLimits& limits,
                               ImageInfo* info_out, int first_pages) {
  std::unique_ptr<poppler::document> pdf;
  const ImageInfo info = Inspect(bytes, limits, &pdf);
  if (info_out) *info_out = info;
  const int wanted = first_pages > 0 ? std::min(first_pages, info.pages) : info.pages;
  if (info.format == ImageFormat::kPdf) return RenderPdf(*pdf, limits, wanted);

  std::vector<cv::Mat> mats;
  try {
    if (info.format == ImageFormat::kTiff && wanted > 1) {
      mats = DecodeTiffPages(bytes);
    } else {
      const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1,
                        const_cast<char*>(bytes.data()));
      // JPEG: any colour (grey stays one channel), EXIF orientation applied, as phones
      // expect. Others: unchanged, so transparency can be composited over white.
      cv::Mat mat = cv::imdecode(
          raw, info.format == ImageFormat::kJpeg ? cv::IMREAD_ANYCOLOR : cv::IMREAD_UNCHANGED);
      if (!mat.empty()) mats.push_back(std::move(mat));
    }
  } catch (const cv::Exception& e) {
    throw Error(ErrorCode::kCorruptImage,
                "the " + std::string(FormatName(info.format)) + " image could not be decoded",
                e.what());
  }
  // imdecode reads a TIFF's first page; imreadmulti all of them.
  if (mats.empty() || (info.format == ImageFormat::kTiff && wanted > 1 &&
                       static_cast<int>(mats.size()) != info.pages)) {
    throw Error(ErrorCode::kCorruptImage,
                "the " + std::string(FormatName(info.format)) + " image could not be decoded");
  }
  if (static_cast<int>(mats.size()) > wanted) mats.resize(static_cast<size_t>(wanted));
  std::vector<Image> pages;
  for (auto& mat : mats) {
    if (mat.empty()) Corrupt(FormatName(info.format), "a page has no pixels");
    pages.push_back(ImageFromMat(Normalise(std::move(mat))));
  }
  return pages;
}

std::string EncodePng(const Image& image) {
  std::vector<uchar> out;
  if (image.empty() || !cv::imencode(".png", MatOf(image), out)) {
    throw Error(ErrorCode::kInternal, "image encoding failed", "PNG encode of an empty image");
  }
  return std::string(out.begin(), out.end());
}

std::string Sha256Hex(std::string_view bytes) { return LowerHex(Sha256(bytes)); }

ImageLimits ImageLimitsFrom(const LimitsConfig& config) {
  ImageLimits limits;
  limits.max_bytes = static_cast<uint64_t>(config.max_body_bytes);
  limits.max_pixels = static_cast<uint64_t>(config.max_pixels);
  limits.max_pages = config.max_pages;
  limits.pdf_dpi = config.pdf_dpi;
  return limits;
}

}  // namespace scanline
