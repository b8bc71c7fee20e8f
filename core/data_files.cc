#include "core/data_files.h"

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "core/build_info.h"
#include "core/error.h"

namespace scanline {

std::string DataDir(std::string_view subdir) {
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("SCANLINE_DATA_DIR"); env && *env) {
    candidates.push_back(fs::path(env) / subdir);
  }
  // In the source tree: SQL sits in core/sql, templates in templates/, the rest in data/.
  fs::path source(kSourceDir);
  if (subdir == "sql") {
    candidates.push_back(source / "core" / "sql");
  } else if (subdir == "templates") {
    candidates.push_back(source / "templates");
  } else {
    candidates.push_back(source / "data" / subdir);
  }
  candidates.push_back(fs::path(kInstalledDataDir) / subdir);
  std::string tried;
  for (const fs::path& p : candidates) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) return p.string();
    tried += (tried.empty() ? "" : ", ") + p.string();
  }
  throw Error(ErrorCode::kInternal, "data files missing",
              "no " + std::string(subdir) + " directory in: " + tried);
}

}  // namespace scanline
