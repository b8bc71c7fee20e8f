// Form extraction accuracy and speed on the labelled data in ../shared/data:
//
//   receipts/ (SROIE task 3): the built-in `receipt` template with the rule engine; a field is
//             right when its value equals the label after collapsing whitespace and case.
//             Per-field and overall precision, recall, F1.
//   forms/    (FUNSD): key -> value pairs of `generic_form` against the labelled
//             question -> answer links. A pair is right when the centre of its key box lies
//             in the question's box and the centre of its value box in the answer's box
//             (boxes grown by 4 px); each link is matched once.
//   Extraction time per document, OCR excluded (mean and 95th percentile, ms).
//   Receipts are extracted as the service does (ExtractForm, engine rules): the fields whose
//   template sets rules.reread have their lines read again from the image (core/
//   line_reread.h), timed apart: that time is OCR the cache cannot hold.
//
// OCR is most of the cost (~0.5 s a page), so results are cached as the OCR JSON of
// `scanline ocr --level words` in build/ocr_cache/<set>_psm<N>_<preprocess>.jsonl, made with
// the OCR options the service uses for the template (FormOcrOptions); documents missing from
// the cache are recognised here and appended. Options:
//   --only receipts|forms   one data set
//   --first N --skip M      a slice of each set (tuning); default all
//   --verbose               print every mismatch
//   --psm N, --preprocess P OCR options other than the service's, to compare
//   --cache-tag TAG         another OCR cache file
//   --no-reread             the rules over the cached OCR alone, without the second reading
#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "core/forms.h"
#include "core/image.h"
#include "core/ocr.h"
#include "core/ocr_json.h"
#include "core/ocr_options.h"
#include "core/ocr_render.h"
#include "core/rule_engine.h"
#include "core/template.h"
#include "core/template_eval.h"

namespace fs = std::filesystem;
using namespace scanline;

namespace {

const std::string kData = SCANLINE_SOURCE_DIR "/../shared/data";
const std::string kCacheDir = SCANLINE_BINARY_DIR "/ocr_cache";

struct Args {
  std::string only;
  size_t first = 0;
  size_t skip = 0;
  bool verbose = false;
  std::string tag;         // OCR cache variant: build/ocr_cache/<set>_<tag>.jsonl; "" = by options
  int psm = 0;             // OCR psm; 0 = what the service uses (FormOcrOptions)
  std::string preprocess;  // OCR preprocess; "" = what the service uses
  bool reread = true;      // read the lines of rules.reread fields again, as the service does
};

// The OCR options the service uses for a template (core/forms.h), with the overrides of
// --psm and --preprocess.
OcrOptions BenchOcrOptions(const Template& t, const Args& args) {
  OcrOptions o = FormOcrOptions(t, Config().ocr);
  o.deadline_ms = 0;
  if (args.psm != 0) o.psm = args.psm;
  if (!args.preprocess.empty()) o.preprocess = ParsePreprocess(args.preprocess);
  return o;
}

std::string CacheFile(const std::string& set, const OcrOptions& o, const Args& args) {
  std::string tag = args.tag;
  if (tag.empty()) {
    tag = "psm" + std::to_string(o.psm) + "_" + PreprocessText(o.preprocess);
    for (char& c : tag) {
      if (c == ',') c = '+';
    }
  }
  return kCacheDir + "/" + set + "_" + tag + ".jsonl";
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// OCR of `files` from the cache, recognising and appending what is missing.
std::map<std::string, std::vector<OcrPage>> OcrAll(const std::vector<std::string>& files,
                                                   const std::string& cache,
                                                   const OcrOptions& ocr_options) {
  fs::create_directories(kCacheDir);
  auto pages = ReadOcrJsonLines(cache);
  std::unique_ptr<OcrEngines> engines;
  Config config;
  OcrRequestOptions options = DefaultOcrRequestOptions(config.ocr);
  options.ocr = ocr_options;
  std::ofstream out(cache, std::ios::app);
  for (const std::string& file : files) {
    const std::string name = fs::path(file).filename().string();
    if (pages.count(name)) continue;
    if (!engines) {
      OcrConfig oc = config.ocr;
      oc.preload_langs = "";
      engines = MakeOcrEngines(oc);
    }
    std::fprintf(stderr, "ocr %s\n", file.c_str());
    const OcrDocument doc =
        RecognizeDocument(*engines, ReadAll(file), ImageLimitsFrom(config.limits), options.ocr);
    RenderedOcr rendered = RenderOcrDocument(doc, options);
    out << "{\"file\":\"" << file << "\"," << rendered.body.substr(1) << "\n";
    pages[name] = doc.pages;
  }
  return pages;
}

std::vector<std::string> Slice(std::vector<std::string> v, const Args& a) {
  if (a.skip >= v.size()) return {};
  v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(a.skip));
  if (a.first > 0 && a.first < v.size()) v.resize(a.first);
  return v;
}

struct Timing {
  std::vector<double> ms;
  void Print(const char* what) {
    if (ms.empty()) return;
    std::sort(ms.begin(), ms.end());
    double sum = 0;
    for (double m : ms) sum += m;
    std::printf("%s: mean %.2f ms, p95 %.2f ms, max %.2f ms over %zu documents\n", what,
                sum / ms.size(), ms[std::min(ms.size() - 1, ms.size() * 95 / 100)], ms.back(),
                ms.size());
  }
};

void Receipts(const Args& args) {
  const Template t = LoadTemplateFile(SCANLINE_SOURCE_DIR "/templates/receipt.json");
  std::vector<std::string> images;
  for (const auto& [image, key] : LabelledDocuments(kData + "/receipts")) images.push_back(image);
  images = Slice(images, args);
  const OcrOptions ocr_options = BenchOcrOptions(t, args);
  auto ocr = OcrAll(images, CacheFile("receipts", ocr_options, args), ocr_options);
  std::printf("OCR: psm %d, preprocess=%s\n", ocr_options.psm,
              PreprocessText(ocr_options.preprocess).c_str());
  EvalReport report;
  Timing timing, reread_timing;
  std::unique_ptr<OcrEngines> engines;
  if (args.reread) {
    OcrConfig oc = Config().ocr;
    oc.preload_langs = "";
    engines = MakeOcrEngines(oc);
  }
  for (const std::string& image : images) {
    const std::string stem = fs::path(image).stem().string();
    auto labels = ReadFieldLabels(kData + "/receipts/key/" + stem + ".json");
    SecondReading second;
    if (args.reread) {
      second.engines = engines.get();
      second.images = DecodeImage(ReadAll(image), ImageLimitsFrom(Config().limits));
    }
    const FormExtraction r = ExtractForm(t, ocr[fs::path(image).filename().string()],
                                         ExtractEngine::kRules, nullptr, &second);
    for (const StageTiming& s : r.timings) {
      if (s.stage == "rules") timing.ms.push_back(s.ms);
      if (s.stage == "reread") reread_timing.ms.push_back(s.ms);
    }
    std::vector<std::string> mismatches;
    ScoreDocument(r.fields, labels, report, &mismatches);
    if (args.verbose) {
      for (const auto& m : mismatches) std::printf("%s %s\n", stem.c_str(), m.c_str());
    }
  }
  std::printf("== receipts (SROIE task 3 scoring), template receipt, rule engine\n%s",
              EvalReportText(report).c_str());
  timing.Print("receipts: extraction time per document (OCR excluded)");
  reread_timing.Print(
      "receipts: second reading of the reread fields' lines and the rules again, per document "
      "read again");
}

struct Entity {
  int id = 0;
  std::string label;
  std::string text;
  PixelBox box;
};

bool Inside(const PixelBox& outer, const PixelBox& inner) {
  const int cx = inner.x + inner.w / 2, cy = inner.y + inner.h / 2;
  return cx >= outer.x - 4 && cx <= outer.x + outer.w + 4 && cy >= outer.y - 4 &&
         cy <= outer.y + outer.h + 4;
}

void Forms(const Args& args) {
  std::vector<std::string> images;
  for (const auto& e : fs::directory_iterator(kData + "/forms/images")) {
    images.push_back(e.path().string());
  }
  std::sort(images.begin(), images.end());
  images = Slice(images, args);
  const OcrOptions ocr_options =
      BenchOcrOptions(LoadTemplateFile(SCANLINE_SOURCE_DIR "/templates/generic_form.json"), args);
  auto ocr = OcrAll(images, CacheFile("forms", ocr_options, args), ocr_options);
  std::printf("OCR: psm %d, preprocess=%s\n", ocr_options.psm,
              PreprocessText(ocr_options.preprocess).c_str());
  int tp = 0, predicted = 0, gold_total = 0;
  Timing timing;
  for (const std::string& image : images) {
    const std::string stem = fs::path(image).stem().string();
    const std::string json = ReadAll(kData + "/forms/annotations/" + stem + ".json");
    rapidjson::Document doc;
    doc.Parse(json.data(), json.size());
    if (doc.HasParseError() || !doc.HasMember("form")) continue;
    std::map<int, Entity> entities;
    std::vector<std::pair<int, int>> links;
    for (const auto& e : doc["form"].GetArray()) {
      Entity ent;
      ent.id = e["id"].GetInt();
      ent.label = e["label"].GetString();
      ent.text = e["text"].GetString();
      const auto& b = e["box"];
      ent.box = {b[0].GetInt(), b[1].GetInt(), b[2].GetInt() - b[0].GetInt(),
                 b[3].GetInt() - b[1].GetInt()};
      entities[ent.id] = ent;
      for (const auto& l : e["linking"].GetArray())
        links.emplace_back(l[0].GetInt(), l[1].GetInt());
    }
    std::vector<std::pair<int, int>> gold;
    for (const auto& [a, b] : links) {
      if (entities.count(a) && entities.count(b) && entities[a].label == "question" &&
          entities[b].label == "answer" &&
          std::find(gold.begin(), gold.end(), std::make_pair(a, b)) == gold.end()) {
        gold.emplace_back(a, b);
      }
    }
    const auto start = std::chrono::steady_clock::now();
    std::vector<KeyValuePair> pairs = FindKeyValuePairs(ocr[fs::path(image).filename().string()]);
    timing.ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
    std::vector<bool> used(gold.size(), false);
    for (const KeyValuePair& p : pairs) {
      bool hit = false;
      for (size_t g = 0; g < gold.size() && !hit; ++g) {
        if (used[g]) continue;
        if (Inside(entities[gold[g].first].box, p.key_box) &&
            Inside(entities[gold[g].second].box, p.value_box)) {
          used[g] = true;
          hit = true;
        }
      }
      tp += hit;
      if (args.verbose && !hit) {
        std::printf("%s wrong: \"%s\" -> \"%s\"\n", stem.c_str(), p.key.c_str(), p.value.c_str());
      }
    }
    predicted += static_cast<int>(pairs.size());
    gold_total += static_cast<int>(gold.size());
  }
  const double p = predicted ? static_cast<double>(tp) / predicted : 0;
  const double r = gold_total ? static_cast<double>(tp) / gold_total : 0;
  std::printf(
      "== forms (FUNSD question->answer links), template generic_form key/value pairs\n"
      "pairs found %d, links %d, right %d: P %.3f R %.3f F1 %.3f over %zu forms\n",
      predicted, gold_total, tp, p, r, p + r > 0 ? 2 * p * r / (p + r) : 0.0, images.size());
  timing.Print("forms: extraction time per document (OCR excluded)");
}

}  // namespace

int main(int argc, char** argv) {
  PrepareTesseractProcess();
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--only" && i + 1 < argc) {
      args.only = argv[++i];
    } else if (a == "--first" && i + 1 < argc) {
      args.first = std::stoul(argv[++i]);
    } else if (a == "--skip" && i + 1 < argc) {
      args.skip = std::stoul(argv[++i]);
    } else if (a == "--cache-tag" && i + 1 < argc) {
      args.tag = argv[++i];
    } else if (a == "--psm" && i + 1 < argc) {
      args.psm = std::stoi(argv[++i]);
    } else if (a == "--preprocess" && i + 1 < argc) {
      args.preprocess = argv[++i];
    } else if (a == "--no-reread") {
      args.reread = false;
    } else if (a == "--verbose") {
      args.verbose = true;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--only receipts|forms] [--first N] [--skip M] [--psm N] "
                   "[--preprocess P] [--cache-tag TAG] [--no-reread] [--verbose]\n",
                   argv[0]);
      return 2;
    }
  }
  try {
    if (args.only.empty() || args.only == "receipts") Receipts(args);
    if (args.only.empty() || args.only == "forms") Forms(args);
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s (%s)\n", std::string(e.detail()).c_str(), e.internal().c_str());
    return 1;
  }
  return 0;
}
