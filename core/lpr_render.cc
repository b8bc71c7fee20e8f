// Plate results as JSON and the request options (see core/lpr_render.h).
#include "core/lpr_render.h"

#include <charconv>
#include <cmath>

#include "core/detail/json_write.h"
#include "core/error.h"

namespace scanline {
namespace {

using Writer = detail::JsonWriter;
using detail::WriteRounded;
using detail::WriteString;
using detail::WriteTimings;

Error BadOption(std::string_view name, const std::string& detail) {
  return Error(ErrorCode::kInvalidOption, detail).With("option", std::string(name));
}

}  // namespace

void SetLprOption(LprOptions& options, std::string_view name, std::string_view value) {
  if (name == "region") {
    if (value.empty() || value.size() > 16 ||
        value.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") !=
            std::string_view::npos) {
      throw BadOption(name, "region must be a region code such as us, eu or br");
    }
    options.region = std::string(value);
  } else if (name == "top_n") {
    size_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || end != value.data() + value.size() || n < 1 || n > kMaxTopN) {
      throw BadOption(name, "top_n must be an integer 1.." + std::to_string(kMaxTopN));
    }
    options.top_n = n;
  } else if (name == "enhance") {
    if (!ParseEnhanceMode(value, &options.enhance)) {
      throw BadOption(name, "enhance must be auto, on or off");
    }
  } else {
    throw BadOption(name, "unknown option '" + std::string(name) +
                              "'; /v1/lpr takes region, top_n and enhance");
  }
}

std::string RenderLprJson(const LprResult& result) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("plates");
  w.StartArray();
  for (const PlateResult& plate : result.plates) {
    w.StartObject();
    w.Key("text");
    WriteString(w, plate.text);
    w.Key("confidence");
    WriteRounded(w, plate.confidence);
    w.Key("region");
    WriteString(w, plate.region);
    w.Key("matches_pattern");
    w.Bool(plate.matches_pattern);
    w.Key("corners");
    w.StartArray();
    for (const auto& p : plate.corners) {
      w.StartObject();
      w.Key("x");
      WriteRounded(w, p.x);
      w.Key("y");
      WriteRounded(w, p.y);
      w.EndObject();
    }
    w.EndArray();
    w.Key("detectors");
    WriteString(w, plate.methods);
    w.Key("candidates");
    w.StartArray();
    for (const auto& c : plate.candidates) {
      w.StartObject();
      w.Key("text");
      WriteString(w, c.text);
      w.Key("confidence");
      WriteRounded(w, c.confidence);
      w.Key("matches_pattern");
      w.Bool(c.matches_pattern);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("enhanced");
  w.Bool(result.enhanced);
  w.Key("brightness");
  WriteRounded(w, result.brightness);
  w.Key("image");
  w.StartObject();
  w.Key("width");
  w.Int(result.info.width);
  w.Key("height");
  w.Int(result.info.height);
  w.Key("format");
  WriteString(w, FormatName(result.info.format));
  w.Key("sha256");
  WriteString(w, result.sha256);
  w.EndObject();
  w.Key("timings_ms");
  WriteTimings(w, result.timings);
  w.EndObject();
  return buffer.GetString();
}

}  // namespace scanline
