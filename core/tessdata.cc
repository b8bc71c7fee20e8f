#include "core/tessdata.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "core/detail/text.h"
#include "core/error.h"

namespace scanline {

std::string TessdataDir(const std::string& configured) {
  if (!configured.empty()) return configured;
  if (const char* env = std::getenv("TESSDATA_PREFIX"); env && *env) return env;
  return "/usr/share/tesseract-ocr/5/tessdata";
}

std::vector<std::string> InstalledLanguages(const std::string& dir) {
  std::vector<std::string> langs;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto& path = entry.path();
    if (path.extension() != ".traineddata") continue;
    std::string code = path.stem().string();
    if (code != "osd") langs.push_back(code);
  }
  std::sort(langs.begin(), langs.end());
  return langs;
}

namespace {

std::string JoinList(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

}  // namespace

std::string CheckLanguageSet(std::string_view lang, const std::vector<std::string>& installed) {
  while (!lang.empty() && lang.front() == ' ') lang.remove_prefix(1);
  while (!lang.empty() && lang.back() == ' ') lang.remove_suffix(1);
  if (lang.empty()) {
    throw InvalidOption("lang", "must name a language; installed: " + JoinList(installed));
  }
  std::vector<std::string> seen;
  for (std::string_view piece : detail::SplitOn(lang, '+')) {
    const std::string part(piece);
    if (part.empty()) {
      throw InvalidOption("lang",
                          "empty language in '" + std::string(lang) + "'; join languages with '+'");
    }
    if (!std::binary_search(installed.begin(), installed.end(), part)) {
      throw InvalidOption(
          "lang", "language '" + part + "' is not installed; installed: " + JoinList(installed));
    }
    if (std::find(seen.begin(), seen.end(), part) != seen.end()) {
      throw InvalidOption("lang", "language '" + part + "' named twice");
    }
    seen.push_back(part);
  }
  return std::string(lang);
}

}  // namespace scanline
