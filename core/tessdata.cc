#include "core/tessdata.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

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

}  // namespace scanline
