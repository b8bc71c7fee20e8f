// `scanline ocr FILE...`: the OCR of POST /v1/ocr, in this process, with no server. The same
// option names and values as the query string; output as the API's formats, one result per
// file (JSON: one object per line with a "file" member when there are several files; text:
// a "==> FILE <==" line before each when there are several). Progress goes to stderr when
// there are several files; the exit status is 1 if any file failed.
#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>

#include "core/error.h"
#include "core/http.h"
#include "core/image.h"
#include "core/ocr.h"
#include "core/ocr_options.h"
#include "core/ocr_render.h"
#include "tools/commands.h"

namespace scanline {
namespace {

struct OcrFlags {
  std::vector<std::string> files;
  std::vector<std::pair<std::string, std::string>> options;  // name, value as given
  bool quiet = false;
};

int RunOcr(const OcrFlags& flags) {
  const Config config = CliConfig();
  OcrRequestOptions options = DefaultOcrRequestOptions(config.ocr);
  // The CLI has no server to hold: no deadline unless asked for.
  options.ocr.deadline_ms = 0;
  OcrConfig cli_ocr = config.ocr;
  cli_ocr.max_deadline_ms = 24 * 3600 * 1000;
  cli_ocr.preload_langs = "";
  std::unique_ptr<OcrEngines> engines;
  try {
    for (const auto& [name, value] : flags.options) SetOcrOption(options, name, value, cli_ocr);
    engines = MakeOcrEngines(cli_ocr);
    options.ocr.lang = engines->CheckLanguages(options.ocr.lang);
  } catch (const Error& e) {
    std::cerr << "scanline ocr: " << e.detail() << "\n";
    return 2;
  }
  const ImageLimits limits = ImageLimitsFrom(config.limits);
  const bool many = flags.files.size() > 1;
  const bool progress = many && !flags.quiet;
  int failed = 0;
  for (size_t i = 0; i < flags.files.size(); ++i) {
    const std::string& file = flags.files[i];
    const auto start = std::chrono::steady_clock::now();
    std::string bytes;
    if (!ReadFileBytes(file, bytes)) {
      std::cerr << "scanline ocr: " << file << ": cannot read\n";
      if (progress)
        std::fprintf(stderr, "[%zu/%zu] %s: failed\n", i + 1, flags.files.size(), file.c_str());
      ++failed;
      continue;
    }
    try {
      const OcrDocument document = RecognizeDocument(*engines, bytes, limits, options.ocr);
      RenderedOcr rendered = RenderOcrDocument(document, options);
      if (many && options.format == OcrFormat::kJson) {
        std::cout << "{\"file\":\"" << JsonEscape(file) << "\"," << rendered.body.substr(1) << "\n";
      } else {
        if (many) std::cout << "==> " << file << " <==\n";
        std::cout << rendered.body;
        if (options.format == OcrFormat::kJson) std::cout << "\n";
      }
      std::cout.flush();
      if (progress) {
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        int words = 0;
        for (const auto& page : document.pages) words += page.word_count;
        std::fprintf(stderr, "[%zu/%zu] %s: %.2f s, %zu page(s), %d words, confidence %.1f\n",
                     i + 1, flags.files.size(), file.c_str(), s, document.pages.size(), words,
                     DocumentConfidence(document));
      }
    } catch (const Error& e) {
      std::cerr << "scanline ocr: " << file << ": " << e.detail();
      if (!e.internal().empty()) std::cerr << " (" << e.internal() << ")";
      std::cerr << "\n";
      if (progress)
        std::fprintf(stderr, "[%zu/%zu] %s: failed\n", i + 1, flags.files.size(), file.c_str());
      ++failed;
    }
  }
  if (progress) {
    std::fprintf(stderr, "%zu file(s), %d failed\n", flags.files.size(), failed);
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace

void AddOcrCommand(CLI::App& app) {
  auto flags = std::make_shared<OcrFlags>();
  auto* cmd = app.add_subcommand("ocr", "recognise text in image files (no server)");
  cmd->add_option("files", flags->files, "image files (png, jpeg, tiff, webp, bmp, pdf)")
      ->required();
  // Each option is kept as text and parsed by the API's own parser, so values and errors are
  // the same as over HTTP.
  AddTextOptions(
      *cmd,
      {
          {"--lang", "lang", "languages joined by '+' (eng+deu); default ocr.default_lang"},
          {"--psm", "psm", "Tesseract page segmentation mode 1..13; default ocr.default_psm"},
          {"--roi", "roi", "x,y,w,h in pixels, or fractions of the image"},
          {"--preprocess", "preprocess",
           "auto, none, or steps: grey,orient,border,deskew,"
           "upscale,join,denoise,binarise (default auto)"},
          {"--level", "level", "text, lines or words (default words)"},
          {"--format", "format", "json, text, hocr or tsv (default json)"},
          {"--deadline-ms", "deadline_ms", "give up on a file after this many ms"},
      },
      {flags, &flags->options});
  cmd->add_flag("-q,--quiet", flags->quiet, "no progress lines on stderr");
  cmd->callback([flags] {
    const int status = RunOcr(*flags);
    if (status != 0) throw CLI::RuntimeError(status);
  });
}

}  // namespace scanline
