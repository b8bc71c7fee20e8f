// Fuzzes the JSON request-body parser (core/request_body.h ParseJsonBody) and the base64
// decoder under it. Every input must either parse or throw scanline::Error(kBadRequest); the
// image of a parsed body is what DecodeBase64 gives for the `image` member; whatever
// DecodeBase64 accepts, encoded again in standard base64, decodes to the same bytes.
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/request_body.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

std::string EncodeBase64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  try {
    scanline::RequestBody parsed = scanline::ParseJsonBody(input);
    // base64 never grows: the image is at most 3/4 of the body.
    Check(parsed.image.size() * 4 <= input.size() * 3 + 4);
  } catch (const scanline::Error& error) {
    Check(error.code() == scanline::ErrorCode::kBadRequest);
    Check(!error.detail().empty());
  }

  std::optional<std::string> decoded = scanline::DecodeBase64(input);
  if (decoded) {
    Check(decoded->size() * 4 <= input.size() * 3 + 4);
    std::optional<std::string> again = scanline::DecodeBase64(EncodeBase64(*decoded));
    Check(again.has_value() && *again == *decoded);
  }
  return 0;
}
