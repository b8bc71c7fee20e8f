// Region files and pattern matching (see core/plate_patterns.h).
#include "core/plate_patterns.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace scanline {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool IsPatternChar(char c) {
  return c == '@' || c == '#' || c == '?' || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

}  // namespace

bool MatchesPattern(std::string_view text, std::string_view pattern) {
  if (text.size() != pattern.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool letter = c >= 'A' && c <= 'Z';
    const bool digit = c >= '0' && c <= '9';
    switch (pattern[i]) {
      case '@':
        if (!letter) return false;
        break;
      case '#':
        if (!digit) return false;
        break;
      case '?':
        if (!letter && !digit) return false;
        break;
      default:
        if (c != pattern[i]) return false;
    }
  }
  return true;
}

bool MatchesRegion(std::string_view text, const PlateRegion& region) {
  return std::any_of(region.patterns.begin(), region.patterns.end(),
                     [&](const std::string& p) { return MatchesPattern(text, p); });
}

double PatternWeight(std::string_view text, const PlateRegion& region) {
  double best = 0;
  for (size_t i = 0; i < region.patterns.size(); ++i) {
    if (MatchesPattern(text, region.patterns[i])) {
      best = std::max(best, i < region.weights.size() ? region.weights[i] : 1.0);
    }
  }
  return best;
}

PlateRegion ParsePlateRegion(std::string_view code, std::string_view text,
                             std::string_view file_name) {
  PlateRegion region;
  region.code = std::string(code);
  region.name = region.code;
  int line_number = 0;
  auto fail = [&](const std::string& why) {
    return Error(ErrorCode::kInternal, "plate region data is malformed",
                 std::string(file_name) + ":" + std::to_string(line_number) + ": " + why);
  };
  auto number = [&](std::string_view value, double lo, double hi) {
    std::string s(value);
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || v < lo || v > hi) {
      throw fail("expected a number in " + std::to_string(lo) + ".." + std::to_string(hi));
    }
    return v;
  };
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (size_t semi = line.find(';'); semi != std::string_view::npos) line = line.substr(0, semi);
    line = Trim(line);
    if (line.empty()) continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) throw fail("expected key = value");
    std::string_view key = Trim(line.substr(0, eq));
    std::string_view value = Trim(line.substr(eq + 1));
    if (key == "name") {
      region.name = std::string(value);
    } else if (key == "aspect") {
      region.aspect = number(value, 0.5, 8);
    } else if (key == "char_height") {
      region.char_height = number(value, 0.1, 1);
    } else if (key == "char_center") {
      region.char_center = number(value, 0, 1);
    } else if (key == "free_text") {
      region.free_text = number(value, 0, 1);
    } else if (key == "same_glyph") {
      auto alnum = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
      if (value.size() != 2 || !alnum(value[0]) || !alnum(value[1])) {
        throw fail("same_glyph is two characters A-Z 0-9, e.g. O0");
      }
      region.same_glyph.emplace_back(value[0], value[1]);
    } else if (key == "pattern") {
      double weight = 1.0;
      if (size_t space = value.find_first_of(" \t"); space != std::string_view::npos) {
        weight = number(Trim(value.substr(space)), 0.01, 1000);
        value = Trim(value.substr(0, space));
      }
      region.weights.push_back(weight);
      if (value.empty() || value.size() > 12 ||
          !std::all_of(value.begin(), value.end(), IsPatternChar)) {
        throw fail("a pattern is 1..12 of @ # ? A-Z 0-9");
      }
      region.patterns.emplace_back(value);
    } else {
      throw fail("unknown key '" + std::string(key) + "'");
    }
  }
  if (!region.patterns.empty()) {
    region.min_length = region.max_length = region.patterns.front().size();
    for (const auto& p : region.patterns) {
      region.min_length = std::min(region.min_length, p.size());
      region.max_length = std::max(region.max_length, p.size());
    }
  }
  return region;
}

std::map<std::string, PlateRegion> LoadPlateRegions(const std::string& dir) {
  namespace fs = std::filesystem;
  std::map<std::string, PlateRegion> regions;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    throw Error(ErrorCode::kInternal, "plate region data missing",
                "cannot list " + dir + ": " + ec.message());
  }
  for (const auto& entry : it) {
    if (!entry.is_regular_file() || entry.path().extension() != ".txt") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    if (!in && !in.eof()) {
      throw Error(ErrorCode::kInternal, "plate region data unreadable",
                  "cannot read " + entry.path().string());
    }
    std::string code = entry.path().stem().string();
    regions.emplace(code, ParsePlateRegion(code, buffer.str(), entry.path().string()));
  }
  return regions;
}

}  // namespace scanline
