// Fuzzes the whole SigV4 check (core/sigv4.h VerifySignature) on a request read from the
// input in the AWS test suite's text form:
//   METHOD URI [PROTOCOL]\nName:value\n...\n\nBODY
// with the suite's secret, region, service and date, so inputs close to a valid request reach
// every check. Any input must verify or throw scanline::Error.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/http.h"
#include "core/sigv4.h"

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

scanline::Request ParseRequest(std::string_view text) {
  scanline::Request request;
  size_t head_end = text.find("\n\n");
  std::string_view head = text.substr(0, head_end);
  if (head_end != std::string_view::npos) request.body = text.substr(head_end + 2);
  size_t line_end = head.find('\n');
  std::string_view line = head.substr(0, line_end);
  size_t a = line.find(' ');
  request.method = line.substr(0, a);
  if (a != std::string_view::npos) {
    std::string_view uri = line.substr(a + 1);
    uri = uri.substr(0, uri.find(' '));
    size_t q = uri.find('?');
    request.path = uri.substr(0, q);
    if (q != std::string_view::npos) request.query = uri.substr(q + 1);
  }
  while (line_end != std::string_view::npos) {
    size_t start = line_end + 1;
    line_end = head.find('\n', start);
    line = head.substr(start, line_end == std::string_view::npos ? line_end : line_end - start);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    request.headers.emplace_back(Lower(line.substr(0, colon)), line.substr(colon + 1));
  }
  return request;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  scanline::Request request = ParseRequest(input);
  scanline::SigV4Params params;
  params.region = "us-east-1";
  params.service = "service";
  const int64_t now = 1440938160;  // 20150830T123600Z
  auto lookup = [](const std::string& key_id) -> std::vector<std::string> {
    if (key_id != "AKIDEXAMPLE") throw scanline::Error(scanline::ErrorCode::kUnknownKey, "unknown");
    return {"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "second"};
  };
  scanline::SigV4Diagnostics diagnostics;
  try {
    scanline::VerifiedSignature result =
        scanline::VerifySignature(request, now, params, lookup, &diagnostics);
    if (result.key_id != "AKIDEXAMPLE" || result.signature.size() != 64) __builtin_trap();
  } catch (const scanline::Error&) {
  }
  return 0;
}
