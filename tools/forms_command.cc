// `scanline fill FORM --profile P.json [--out FILLED.png]`: POST /v1/forms/fill in this
// process: placements as JSON on stdout, the filled form written to --out.
// `scanline extract --type T FILE...`: the extraction of POST /v1/forms/extract in this
// process, with the built-in templates (or --template FILE) and no server; JSON out, one
// object per line with a "file" member when there are several files.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "core/data_files.h"
#include "core/error.h"
#include "core/form_fill.h"
#include "core/forms.h"
#include "core/http.h"
#include "core/image.h"
#include "core/llm_client.h"
#include "core/ocr.h"
#include "core/template.h"
#include "tools/commands.h"

namespace scanline {
namespace {

struct ExtractFlags {
  std::string type;
  std::string template_file;
  std::string engine = "rules";
  bool mask = false;
  std::vector<std::string> files;
};

int RunExtract(const ExtractFlags& flags) {
  const Config config = CliConfig();
  Template t;
  ExtractEngine engine;
  std::unique_ptr<LlmClient> llm;
  std::unique_ptr<OcrEngines> engines;
  try {
    engine = ParseEngine(flags.engine);
    if (engine == ExtractEngine::kLlm && config.llm.endpoint.empty()) {
      throw InvalidOption("engine", "llm needs an LLM endpoint (llm.endpoint), none is configured");
    }
    if (!flags.template_file.empty()) {
      t = LoadTemplateFile(flags.template_file);
    } else {
      t = LoadBuiltinTemplate(config.forms, flags.type);
    }
    if (!config.llm.endpoint.empty()) llm = std::make_unique<LlmClient>(LlmOptionsFrom(config.llm));
    OcrConfig oc = config.ocr;
    oc.preload_langs = "";
    engines = MakeOcrEngines(oc);
  } catch (const Error& e) {
    std::cerr << "scanline extract: " << e.detail() << "\n";
    return 2;
  }
  OcrOptions options = FormOcrOptions(t, config.ocr);
  options.deadline_ms = 0;
  int failed = 0;
  for (const std::string& file : flags.files) {
    std::string bytes;
    if (!ReadFileBytes(file, bytes) || bytes.empty()) {
      std::cerr << "scanline extract: " << file << ": cannot read\n";
      ++failed;
      continue;
    }
    try {
      OcrDocument doc = RecognizeDocument(*engines, bytes, ImageLimitsFrom(config.limits), options);
      const SecondReading second{engines.get(), doc.images};
      FormExtraction r = ExtractForm(t, doc.pages, engine, llm.get(), &second);
      std::string json = FormExtractionToJson(r, t, flags.mask);
      if (flags.files.size() > 1) json = "{\"file\":\"" + JsonEscape(file) + "\"," + json.substr(1);
      std::cout << json << "\n";
    } catch (const Error& e) {
      std::cerr << "scanline extract: " << file << ": " << e.detail() << "\n";
      ++failed;
    }
  }
  return failed ? 1 : 0;
}

struct FillFlags {
  std::string form;
  std::string profile;
  std::string out;
};

int RunFill(const FillFlags& flags) {
  const Config config = CliConfig();
  std::string bytes;
  std::string profile_json;
  if (!ReadFileBytes(flags.form, bytes)) {
    std::cerr << "scanline fill: " << flags.form << ": cannot read\n";
    return 1;
  }
  if (!ReadFileBytes(flags.profile, profile_json)) {
    std::cerr << "scanline fill: " << flags.profile << ": cannot read\n";
    return 1;
  }
  try {
    Profile profile = ParseProfile(profile_json);
    OcrConfig oc = config.ocr;
    oc.preload_langs = "";
    auto engines = MakeOcrEngines(oc);
    std::vector<Image> pages =
        DecodeImage(bytes, ImageLimitsFrom(config.limits), nullptr, /*first_pages=*/1);
    if (pages.empty()) throw Error(ErrorCode::kCorruptImage, "no page");
    OcrOptions options = FillOcrOptions(config.ocr);
    OcrPage page = Recognize(*engines, pages[0], options);
    FillOptions fill;
    fill.render = !flags.out.empty();
    FillResult r = FillForm(pages[0], page, profile, fill);
    if (!flags.out.empty()) std::ofstream(flags.out, std::ios::binary) << r.png;
    std::cout << FillResultToJson(r, false) << "\n";
  } catch (const Error& e) {
    std::cerr << "scanline fill: " << e.detail() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

void AddFillCommand(CLI::App& app) {
  auto flags = std::make_shared<FillFlags>();
  auto* cmd = app.add_subcommand("fill", "place profile values on a blank form (no server)");
  cmd->add_option("form", flags->form, "blank form image")->required();
  cmd->add_option("--profile", flags->profile, "JSON object of known values")->required();
  cmd->add_option("--out", flags->out, "write the filled form here (PNG)");
  cmd->callback([flags] {
    const int status = RunFill(*flags);
    if (status != 0) throw CLI::RuntimeError(status);
  });
}

void AddExtractCommand(CLI::App& app) {
  auto flags = std::make_shared<ExtractFlags>();
  auto* cmd = app.add_subcommand("extract", "extract form fields from document images (no server)");
  cmd->add_option("--type", flags->type, "document type of a built-in template (receipt, ...)");
  cmd->add_option("--template", flags->template_file, "a template JSON file instead");
  cmd->add_option("--engine", flags->engine, "rules, llm or auto (default rules)");
  cmd->add_flag("--mask", flags->mask, "mask the values of sensitive fields");
  cmd->add_option("files", flags->files, "image files")->required();
  cmd->callback([flags] {
    if (flags->type.empty() && flags->template_file.empty()) {
      throw CLI::ValidationError("--type or --template is required");
    }
    const int status = RunExtract(*flags);
    if (status != 0) throw CLI::RuntimeError(status);
  });
}

}  // namespace scanline
