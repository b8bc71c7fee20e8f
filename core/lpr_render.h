// The JSON of a plate recognition, shared by POST /v1/lpr and `scanline lpr`, and the
// request options of both (query string names and values).
//
//   {"plates":[{"text":"7ABC123","confidence":91.3,"region":"us","matches_pattern":true,
//               "corners":[{"x":..,"y":..} x 4, clockwise from the top-left],
//               "detectors":"chars+cascade",
//               "candidates":[{"text":..,"confidence":..,"matches_pattern":..}, ...]}],
//    "enhanced":false,"brightness":112.4,
//    "image":{"width":1280,"height":720,"format":"jpeg","sha256":"..."},
//    "timings_ms":{"decode":..,"enhance":..,"detect":..,"read":..,"total":..}}
#pragma once

#include <string>
#include <string_view>

#include "core/lpr.h"

namespace scanline {

// Sets one request option: region (a region code), top_n (1..kMaxTopN), enhance
// (auto|on|off). Throws Error(kInvalidOption) naming the option on a bad value or an unknown
// name. The region is checked against the loaded regions by RecognizePlates.
void SetLprOption(LprOptions& options, std::string_view name, std::string_view value);

// The result as one JSON object (no trailing newline).
std::string RenderLprJson(const LprResult& result);

}  // namespace scanline
