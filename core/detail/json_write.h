// Writing the JSON pieces every result shares (strings, rounded numbers, pixel boxes, stage
// timings) with rapidjson's SAX writer, so OCR, plate and form results spell them alike.
// For core/*.cc only: rapidjson's types stay out of our public headers.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <string_view>
#include <vector>

#include "core/ocr.h"          // PixelBox
#include "core/request_log.h"  // StageTiming

namespace scanline::detail {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

inline void WriteString(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Two decimals are more than any consumer of a confidence, a coordinate or a millisecond
// figure needs.
inline void WriteRounded(JsonWriter& w, double v) { w.Double(std::round(v * 100) / 100); }

// {"x", "y", "w", "h"} in pixels.
inline void WriteBox(JsonWriter& w, const PixelBox& b) {
  w.StartObject();
  w.Key("x");
  w.Int(b.x);
  w.Key("y");
  w.Int(b.y);
  w.Key("w");
  w.Int(b.w);
  w.Key("h");
  w.Int(b.h);
  w.EndObject();
}

// {"<stage>": ms, ...} in the order measured.
inline void WriteTimings(JsonWriter& w, const std::vector<StageTiming>& timings) {
  w.StartObject();
  for (const auto& t : timings) {
    WriteString(w, t.stage);
    WriteRounded(w, t.ms);
  }
  w.EndObject();
}

}  // namespace scanline::detail
