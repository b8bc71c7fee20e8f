// Fuzzes the SigV4 canonicalisers (core/sigv4.h): CanonicalQuery, CanonicalUri and
// CanonicalHeaders. Checks their output shape, and that the canonical query is a fixed point
// (canonicalising it again changes nothing).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/http.h"
#include "core/sigv4.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}
bool IsUpperHex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

// Only unreserved characters, `extra`, and %XX escapes with upper-case hex.
bool WellEncoded(std::string_view s, std::string_view extra) {
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (IsUnreserved(c) || extra.find(c) != std::string_view::npos) continue;
    if (c != '%' || i + 2 >= s.size() || !IsUpperHex(s[i + 1]) || !IsUpperHex(s[i + 2])) {
      return false;
    }
    i += 2;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider provider(data, size);
  std::string query = provider.ConsumeRandomLengthString(1024);
  std::string path = provider.ConsumeRandomLengthString(1024);

  std::string canonical_query = scanline::CanonicalQuery(query);
  Check(WellEncoded(canonical_query, "=&"));
  Check(scanline::CanonicalQuery(canonical_query) == canonical_query);

  std::string uri = scanline::CanonicalUri(path);
  Check(!uri.empty() && uri.front() == '/');
  Check(WellEncoded(uri, "/"));
  Check(uri.find("//") == std::string::npos);
  Check(uri.find("/./") == std::string::npos && uri.find("/../") == std::string::npos);

  scanline::HeaderList headers;
  std::vector<std::string> names;
  while (provider.remaining_bytes() > 0 && headers.size() < 16) {
    std::string name = provider.ConsumeRandomLengthString(32);
    std::string value = provider.ConsumeRandomLengthString(256);
    if (provider.ConsumeBool()) names.push_back(name);
    headers.emplace_back(std::move(name), std::move(value));
  }
  try {
    std::string block = scanline::CanonicalHeaders(headers, names);
    // One line per signed name, each "name:" followed by the joined values.
    size_t lines = 0;
    for (char c : block) lines += c == '\n';
    size_t newlines_in_input = 0;
    for (const auto& [name, value] : headers) {
      for (char c : name) newlines_in_input += c == '\n';
      for (char c : value) newlines_in_input += c == '\n';
    }
    if (newlines_in_input == 0) Check(lines == names.size());
  } catch (const scanline::Error& e) {
    Check(e.code() == scanline::ErrorCode::kMissingSignedHeader);
  }
  return 0;
}
