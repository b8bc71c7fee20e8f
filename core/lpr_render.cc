// Plate results as JSON and the request options (see core/lpr_render.h).
#include "core/lpr_render.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>
#include <cmath>

#include "core/error.h"

namespace scanline {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Two decimals are more than any consumer of a confidence, a coordinate or a millisecond
// figure needs.
void Num(Writer& w, double v) { w.Double(std::round(v * 100) / 100); }

Error BadOption(std::string_view name, std::string detail) {
  return Error(ErrorCode::kInvalidOption, std::move(detail)).With("option", std::string(name));
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
    Str(w, plate.text);
    w.Key("confidence");
    Num(w, plate.confidence);
    w.Key("region");
    Str(w, plate.region);
    w.Key("matches_pattern");
    w.Bool(plate.matches_pattern);
    w.Key("corners");
    w.StartArray();
    for (const auto& p : plate.corners) {
      w.StartObject();
      w.Key("x");
      Num(w, p.x);
      w.Key("y");
      Num(w, p.y);
      w.EndObject();
    }
    w.EndArray();
    w.Key("detectors");
    Str(w, plate.methods);
    w.Key("candidates");
    w.StartArray();
    for (const auto& c : plate.candidates) {
      w.StartObject();
      w.Key("text");
      Str(w, c.text);
      w.Key("confidence");
      Num(w, c.confidence);
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
  Num(w, result.brightness);
  w.Key("image");
  w.StartObject();
  w.Key("width");
  w.Int(result.info.width);
  w.Key("height");
  w.Int(result.info.height);
  w.Key("format");
  Str(w, FormatName(result.info.format));
  w.Key("sha256");
  Str(w, result.sha256);
  w.EndObject();
  w.Key("timings_ms");
  w.StartObject();
  for (const auto& t : result.timings) {
    Str(w, t.stage);
    Num(w, t.ms);
  }
  w.EndObject();
  w.EndObject();
  return buffer.GetString();
}

}  // namespace scanline
