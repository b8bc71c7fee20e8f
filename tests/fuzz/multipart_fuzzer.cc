// Fuzzes the request-body parsers as a request reaches them (core/request_body.h): the first
// line of the input is the Content-Type, the rest the body. Mostly multipart/form-data
// (ParseMultipart), but any media type goes through ParseRequestBody's dispatch. Every input
// must either parse or throw scanline::Error with a 4xx code; what parses holds at most
// kMaxMultipartParts parts and no more bytes than the body had (nothing read outside it).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/request_body.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

void CheckRefusal(const scanline::Error& error) {
  Check(error.code() == scanline::ErrorCode::kBadRequest ||
        error.code() == scanline::ErrorCode::kUnsupportedMediaType);
  Check(!error.detail().empty());
}

void CheckParsed(const scanline::RequestBody& parsed, std::string_view body) {
  size_t bytes = parsed.image.size() + parsed.filename.size() + parsed.image_type.size();
  for (const auto& [name, value] : parsed.fields) bytes += name.size() + value.size();
  Check(bytes <= body.size());
  Check(parsed.fields.size() <= static_cast<size_t>(scanline::kMaxMultipartParts));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  std::string_view content_type = input.substr(0, newline);
  std::string_view body = newline == std::string_view::npos ? "" : input.substr(newline + 1);

  try {
    scanline::RequestBody parsed = scanline::ParseMultipart(content_type, body);
    CheckParsed(parsed, body);
  } catch (const scanline::Error& error) {
    CheckRefusal(error);
  }
  for (bool require_image : {true, false}) {
    try {
      scanline::RequestBody parsed = scanline::ParseRequestBody(content_type, body, require_image);
      if (require_image) Check(!parsed.image.empty());
      // A raw image body is the body itself; anything parsed out of it is smaller.
      Check(parsed.image.size() <= body.size());
    } catch (const scanline::Error& error) {
      CheckRefusal(error);
    }
  }
  return 0;
}
