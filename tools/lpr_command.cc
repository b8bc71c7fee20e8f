// `scanline lpr FILE...`: the plate recognition of POST /v1/lpr, in this process, with no
// server. The same option names and values as the query string (--region, --top-n,
// --enhance). Output: the API's JSON, one object per line with a "file" member first. Progress
// goes to stderr when there are several files (file, time, plates read); the exit status is 1
// if any file failed, 2 on a bad option.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "core/error.h"
#include "core/http.h"
#include "core/image.h"
#include "core/lpr.h"
#include "core/lpr_render.h"
#include "core/ocr.h"
#include "core/tessdata.h"
#include "tools/commands.h"

namespace scanline {
namespace {

struct LprFlags {
  std::vector<std::string> files;
  std::vector<std::pair<std::string, std::string>> options;  // name, value as given
  bool quiet = false;
};

int RunLpr(const LprFlags& flags) {
  const Config config = CliConfig();
  LprOptions options;
  std::unique_ptr<LprEngines> engines;
  try {
    for (const auto& [name, value] : flags.options) SetLprOption(options, name, value);
    engines = std::make_unique<LprEngines>(config.lpr, TessdataDir(config.ocr.tessdata_dir));
    engines->Region(options.region);
  } catch (const Error& e) {
    std::cerr << "scanline lpr: " << e.detail();
    if (!e.internal().empty()) std::cerr << " (" << e.internal() << ")";
    std::cerr << "\n";
    return 2;
  }
  const ImageLimits limits = ImageLimitsFrom(config.limits);
  const bool progress = flags.files.size() > 1 && !flags.quiet;
  int failed = 0;
  for (size_t i = 0; i < flags.files.size(); ++i) {
    const std::string& file = flags.files[i];
    const auto start = std::chrono::steady_clock::now();
    std::string bytes;
    if (!ReadFileBytes(file, bytes)) {
      std::cerr << "scanline lpr: " << file << ": cannot read\n";
      ++failed;
      continue;
    }
    try {
      const LprResult result = RecognizePlates(*engines, bytes, limits, options);
      std::cout << "{\"file\":\"" << JsonEscape(file) << "\"," << RenderLprJson(result).substr(1)
                << "\n";
      std::cout.flush();
      if (progress) {
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count();
        std::string texts;
        for (const auto& plate : result.plates) texts += (texts.empty() ? "" : " ") + plate.text;
        std::fprintf(stderr, "[%zu/%zu] %s: %.0f ms, %zu plate(s)%s%s%s\n", i + 1,
                     flags.files.size(), file.c_str(), ms, result.plates.size(),
                     texts.empty() ? "" : ": ", texts.c_str(),
                     result.enhanced ? " (enhanced)" : "");
      }
    } catch (const Error& e) {
      std::cerr << "scanline lpr: " << file << ": " << e.detail();
      if (!e.internal().empty()) std::cerr << " (" << e.internal() << ")";
      std::cerr << "\n";
      ++failed;
    }
  }
  if (progress) std::fprintf(stderr, "%zu file(s), %d failed\n", flags.files.size(), failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace

void AddLprCommand(CLI::App& app) {
  auto flags = std::make_shared<LprFlags>();
  auto* cmd = app.add_subcommand("lpr", "read licence plates in photos (no server)");
  cmd->add_option("files", flags->files, "photos (png, jpeg, tiff, webp, bmp)")->required();
  AddTextOptions(
      *cmd,
      {
          {"--region", "region", "plate region: us, eu, br, ... (default lpr.default_region)"},
          {"--top-n", "top_n", "candidates per plate, 1..50 (default 10)"},
          {"--enhance", "enhance", "low-light enhancement: auto, on or off (default auto)"},
      },
      {flags, &flags->options});
  cmd->add_flag("-q,--quiet", flags->quiet, "no progress lines on stderr");
  cmd->callback([flags] {
    const int status = RunLpr(*flags);
    if (status != 0) throw CLI::RuntimeError(status);
  });
}

}  // namespace scanline
