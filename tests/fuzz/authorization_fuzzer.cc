// Fuzzes the SigV4 Authorization header parser (core/sigv4.h ParseAuthorization). Any input
// must either parse or throw scanline::Error; what parses must satisfy the parser's contract
// and print back to a header that parses to the same thing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/sigv4.h"

namespace {

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  scanline::SigV4Authorization auth;
  try {
    auth = scanline::ParseAuthorization(input);
  } catch (const scanline::Error&) {
    return 0;
  }
  Check(!auth.key_id.empty() && auth.date.size() == 8 && !auth.region.empty() &&
        !auth.service.empty());
  Check(auth.signature.size() == 64);
  for (char c : auth.signature) Check(IsLowerHex(c));
  Check(!auth.signed_headers.empty());
  for (size_t i = 1; i < auth.signed_headers.size(); ++i) {
    Check(auth.signed_headers[i - 1] < auth.signed_headers[i]);
  }
  std::string printed = "AWS4-HMAC-SHA256 Credential=" + auth.key_id + "/" + auth.Scope() +
                        ", SignedHeaders=" + auth.SignedHeadersText() +
                        ", Signature=" + auth.signature;
  scanline::SigV4Authorization again = scanline::ParseAuthorization(printed);
  Check(again.key_id == auth.key_id && again.Scope() == auth.Scope() &&
        again.signed_headers == auth.signed_headers && again.signature == auth.signature);
  return 0;
}
