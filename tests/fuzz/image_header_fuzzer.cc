// Fuzzes the image header readers (core/image.h InspectImage): the hand-written parsers of
// PNG, JPEG, TIFF/BigTIFF, WebP and BMP headers that refuse decompression bombs before any
// decoder runs. Every input must either give a page size within the limits or throw
// scanline::Error with a 4xx code. PDF goes to poppler, which is not ours to fuzz here.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "core/image.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (scanline::SniffFormat(bytes) == scanline::ImageFormat::kPdf) return 0;
  scanline::ImageLimits limits;
  limits.max_bytes = 1 << 20;
  limits.max_pixels = 1'000'000;
  limits.max_pages = 4;
  try {
    const scanline::ImageInfo info = scanline::InspectImage(bytes, limits);
    Check(info.width > 0 && info.height > 0);
    Check(static_cast<uint64_t>(info.width) * static_cast<uint64_t>(info.height) <=
          limits.max_pixels);
    Check(info.pages >= 1 && info.pages <= limits.max_pages);
  } catch (const scanline::Error& e) {
    const int status = scanline::HttpStatusFor(e.code());
    Check(status >= 400 && status < 500);
    Check(!e.detail().empty());
  }
  return 0;
}
