// Splitting a list written on one line. For core/*.cc only.
#pragma once

#include <string_view>
#include <vector>

namespace scanline::detail {

// The parts of `s` between `separator`s, empty ones included ("a,,b," gives a, "", b, "";
// "" gives one empty part). The views point into `s`.
inline std::vector<std::string_view> SplitOn(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t end = s.find(separator, start);
    parts.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

}  // namespace scanline::detail
