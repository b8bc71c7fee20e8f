// `scanline templates ...`: the operator's side of the prompt templates, against the
// configured PostgreSQL (and Redis, whose cached copies changes invalidate):
//   list [--type T]            versions, which is active, A/B shares
//   show TYPE [--version N]    one version as JSON (default: the active one)
//   create FILE                store a template file as the next version of its type
//   activate TYPE VERSION      make a version the active one
//   rollback TYPE              back to the version active before the last activation
//   split TYPE VERSION PERCENT send PERCENT % of requests to VERSION (0 ends the split)
//   export [FILE]              every version as JSON (stdout without FILE)
//   import FILE                the reverse
//   eval --type T --data DIR   per-field precision, recall and F1 on a labelled folder
#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "core/data_files.h"
#include "core/database.h"
#include "core/error.h"
#include "core/forms.h"
#include "core/image.h"
#include "core/ocr.h"
#include "core/ocr_json.h"
#include "core/redis.h"
#include "core/rule_engine.h"
#include "core/template.h"
#include "core/template_eval.h"
#include "core/template_store.h"
#include "core/tessdata.h"
#include "tools/commands.h"

namespace scanline {
namespace {

struct Stores {
  Config config = CliConfig();
  Database database{config.postgres.conninfo, config.postgres.connect_timeout_s};
  RedisClient redis{config.redis.address, config.redis.timeout_ms, config.redis.key_prefix};
  TemplateStore store{database, &redis, config.forms.template_cache_ttl_s};
  Stores() {
    store.set_installed_languages(InstalledLanguages(TessdataDir(config.ocr.tessdata_dir)));
  }
};

std::string ReadAll(const std::string& path) {
  std::string bytes;
  if (!ReadFileBytes(path, bytes)) throw Error(ErrorCode::kBadRequest, "cannot read " + path);
  return bytes;
}

// Runs `fn`, turning an Error into a message and exit status 1.
template <typename Fn>
void Run(const char* what, Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    std::cerr << "scanline templates " << what << ": " << e.detail();
    if (!e.internal().empty()) std::cerr << " (" << e.internal() << ")";
    std::cerr << "\n";
    throw CLI::RuntimeError(1);
  }
}

struct EvalFlags {
  std::string type;
  std::string data;
  int version = 0;
  std::string template_file;
  std::string ocr_cache;
  bool verbose = false;
};

void RunEval(const EvalFlags& flags) {
  const Config config = CliConfig();
  Template t;
  if (!flags.template_file.empty()) {
    t = LoadTemplateFile(flags.template_file);
  } else if (flags.version > 0) {
    Database database(config.postgres.conninfo, config.postgres.connect_timeout_s);
    TemplateStore store(database, nullptr, config.forms.template_cache_ttl_s);
    t = store.Get(flags.type, flags.version);
  } else {
    t = LoadBuiltinTemplate(config.forms, flags.type);
  }
  const auto docs = LabelledDocuments(flags.data);
  if (docs.empty()) throw Error(ErrorCode::kBadRequest, flags.data + ": no labelled documents");
  std::map<std::string, std::vector<OcrPage>> cache;
  if (!flags.ocr_cache.empty()) cache = ReadOcrJsonLines(flags.ocr_cache);
  std::unique_ptr<OcrEngines> engines;
  auto warm_engines = [&]() -> OcrEngines& {
    if (!engines) {
      OcrConfig oc = config.ocr;
      oc.preload_langs = "";
      engines = MakeOcrEngines(oc);
    }
    return *engines;
  };
  // Fields with rules.reread have their lines read again from the image, as the service does.
  const bool reread = std::any_of(t.fields.begin(), t.fields.end(),
                                  [](const FieldSpec& f) { return f.hints.reread; });
  EvalReport report;
  for (const auto& [image, key] : docs) {
    const std::string name = std::filesystem::path(image).filename().string();
    std::vector<OcrPage> pages;
    SecondReading second;
    if (auto it = cache.find(name); it != cache.end()) {
      pages = it->second;
      if (reread) second.images = DecodeImage(ReadAll(image), ImageLimitsFrom(config.limits));
    } else {
      OcrOptions options = FormOcrOptions(t, config.ocr);
      options.deadline_ms = 0;
      OcrDocument doc = RecognizeDocument(warm_engines(), ReadAll(image),
                                          ImageLimitsFrom(config.limits), options);
      pages = std::move(doc.pages);
      second.images = std::move(doc.images);
    }
    if (reread) second.engines = &warm_engines();
    const FormExtraction r = ExtractForm(t, pages, ExtractEngine::kRules, nullptr, &second);
    std::vector<std::string> mismatches;
    ScoreDocument(r.fields, ReadFieldLabels(key), report, &mismatches);
    if (flags.verbose) {
      for (const auto& m : mismatches) std::cout << name << " " << m << "\n";
    }
  }
  std::cout << "template " << t.document_type
            << (t.version ? " v" + std::to_string(t.version) : std::string(" (built-in)"))
            << ", rule engine\n"
            << EvalReportText(report);
}

}  // namespace

void AddTemplatesCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("templates", "manage prompt templates");
  cmd->require_subcommand(1);

  auto type = std::make_shared<std::string>();
  auto version = std::make_shared<int>(0);
  auto percent = std::make_shared<int>(0);
  auto file = std::make_shared<std::string>();

  auto* list = cmd->add_subcommand("list", "list template versions");
  list->add_option("--type", *type, "only this document type");
  list->callback([type] {
    Run("list", [&] {
      Stores s;
      std::printf("%-16s %7s %-8s %-8s %6s %-20s %s\n", "type", "version", "active", "builtin",
                  "fields", "created", "A/B");
      for (const auto& v : s.store.List(*type)) {
        std::printf("%-16s %7d %-8s %-8s %6d %-20s %s\n", v.document_type.c_str(), v.version,
                    v.active ? "yes" : "", v.is_default ? "yes" : "", v.field_count,
                    v.created_at.c_str(),
                    v.candidate_percent ? (std::to_string(v.candidate_percent) + "%").c_str() : "");
      }
    });
  });

  auto* show = cmd->add_subcommand("show", "print one version as JSON");
  show->add_option("type", *type)->required();
  show->add_option("--version", *version, "default: the active version");
  show->callback([type, version] {
    Run("show", [&] {
      Stores s;
      Template t = *version > 0 ? s.store.Get(*type, *version) : s.store.Resolve(*type, 0, "").tmpl;
      std::cout << TemplateToJson(t, true) << "\n";
    });
  });

  auto* create = cmd->add_subcommand("create", "store a template file as a new version");
  create->add_option("file", *file)->required();
  create->callback([file] {
    Run("create", [&] {
      Stores s;
      Template t = s.store.Create(ParseTemplate(ReadAll(*file)), "cli");
      std::cout << t.document_type << " v" << t.version << " created\n";
    });
  });

  auto* activate = cmd->add_subcommand("activate", "make a version the active one");
  activate->add_option("type", *type)->required();
  activate->add_option("version", *version)->required();
  activate->callback([type, version] {
    Run("activate", [&] {
      Stores s;
      s.store.Activate(*type, *version);
      std::cout << *type << " v" << *version << " active\n";
    });
  });

  auto* rollback = cmd->add_subcommand("rollback", "undo the last activation");
  rollback->add_option("type", *type)->required();
  rollback->callback([type] {
    Run("rollback", [&] {
      Stores s;
      std::cout << *type << " v" << s.store.Rollback(*type) << " active\n";
    });
  });

  auto* split = cmd->add_subcommand("split", "A/B: send a share of requests to a version");
  split->add_option("type", *type)->required();
  split->add_option("version", *version)->required();
  split->add_option("percent", *percent, "1..99; 0 ends the split")->required();
  split->callback([type, version, percent] {
    Run("split", [&] {
      Stores s;
      s.store.SetSplit(*type, *version, *percent);
      std::cout << *type << ": " << *percent << "% to v" << *version << "\n";
    });
  });

  auto* exp = cmd->add_subcommand("export", "every version as JSON");
  exp->add_option("file", *file, "output file (default stdout)");
  exp->callback([file] {
    Run("export", [&] {
      Stores s;
      const std::string json = s.store.ExportAll();
      if (file->empty()) {
        std::cout << json << "\n";
      } else {
        std::ofstream(*file, std::ios::binary) << json << "\n";
      }
    });
  });

  auto* imp = cmd->add_subcommand("import", "load an export");
  imp->add_option("file", *file)->required();
  imp->callback([file] {
    Run("import", [&] {
      Stores s;
      auto r = s.store.Import(ReadAll(*file), "cli");
      for (const auto& n : r.notes) std::cout << n << "\n";
      std::cout << r.created << " version(s) created, " << r.skipped << " already present\n";
    });
  });

  auto eval = std::make_shared<EvalFlags>();
  auto* ev = cmd->add_subcommand("eval", "per-field precision, recall and F1 on labelled data");
  ev->add_option("--type", eval->type, "document type")->required();
  ev->add_option("--data", eval->data, "folder with img/ and key/NAME.json")->required();
  ev->add_option("--version", eval->version, "a stored version (default: the built-in)");
  ev->add_option("--template", eval->template_file, "a template file instead");
  ev->add_option("--ocr-cache", eval->ocr_cache,
                 "OCR JSON lines of `scanline ocr --level words` to reuse");
  ev->add_flag("-v,--verbose", eval->verbose, "print every mismatch");
  ev->callback([eval] { Run("eval", [&] { RunEval(*eval); }); });
}

}  // namespace scanline
