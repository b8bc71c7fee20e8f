// OCR accuracy on labelled pages: character error rate and bag-of-words F1 for
//   tesseract   the `tesseract` command with its defaults (psm 3), one process per image
//   none        scanline's Recognize with preprocess=none
//   auto        scanline's Recognize with preprocess=auto
//   <steps>     scanline with exactly these steps ("grey,upscale,binarise")
// on ../shared/data/receipts (100 SROIE receipts; ground truth: the transcripts of box/*.csv)
// and ../shared/data/forms (149 FUNSD forms; ground truth: the annotated words).
//
// Metrics, summed over a set (micro averages):
//   CER  Levenshtein distance between the ground truth and the OCR text over the ground
//        truth's length, both put in reading order from their boxes (rows top to bottom,
//        left to right within a row), whitespace collapsed; so a page segmentation mode
//        that reads columns in another order is not charged for the order.
//   F1   bag of words: whitespace-separated tokens, exact matches counted as a multiset
//        intersection; precision over OCR tokens, recall over truth tokens.
// Both compare case-folded text: the SROIE transcripts are all in capitals.
//
//   build/bench/ocr_accuracy [--set receipts|forms|both] [--modes tesseract,none,auto]
//                            [--psm N (default: ocr.default_psm)] [--every 1] [--offset 0] [--limit
//                            0] [--verbose] [--misses]
// --verbose prints each page's scores and the steps auto ran; --misses also the truth tokens
// the OCR missed and the OCR tokens matching no truth token.
// --every K --offset R keeps images whose index % K == R (a subset for tuning).
#include <rapidjson/document.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "core/image.h"
#include "core/ocr.h"
#include "core/preprocess.h"
#include "core/tessdata.h"

namespace fs = std::filesystem;
using namespace scanline;

namespace {

struct Item {
  int x0, y0, x1, y1;
  std::string text;
};

struct Sample {
  std::string image;
  std::vector<Item> truth;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<Sample> Receipts(const std::string& root) {
  std::vector<Sample> out;
  std::vector<fs::path> images;
  for (const auto& e : fs::directory_iterator(root + "/img")) images.push_back(e.path());
  std::sort(images.begin(), images.end());
  for (const auto& img : images) {
    Sample s{img.string(), {}};
    std::ifstream in(root + "/box/" + img.stem().string() + ".csv");
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      // x1,y1,x2,y2,x3,y3,x4,y4,transcript (the transcript may contain commas)
      std::vector<int> v;
      size_t at = 0;
      for (int i = 0; i < 8; ++i) {
        size_t comma = line.find(',', at);
        if (comma == std::string::npos) break;
        v.push_back(std::atoi(line.substr(at, comma - at).c_str()));
        at = comma + 1;
      }
      if (v.size() != 8) continue;
      const int x0 = std::min({v[0], v[2], v[4], v[6]}), x1 = std::max({v[0], v[2], v[4], v[6]});
      const int y0 = std::min({v[1], v[3], v[5], v[7]}), y1 = std::max({v[1], v[3], v[5], v[7]});
      s.truth.push_back({x0, y0, x1, y1, line.substr(at)});
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<Sample> Forms(const std::string& root) {
  std::vector<Sample> out;
  std::vector<fs::path> images;
  for (const auto& e : fs::directory_iterator(root + "/images")) images.push_back(e.path());
  std::sort(images.begin(), images.end());
  for (const auto& img : images) {
    Sample s{img.string(), {}};
    rapidjson::Document doc;
    doc.Parse(ReadAll(root + "/annotations/" + img.stem().string() + ".json").c_str());
    if (!doc.IsObject() || !doc.HasMember("form")) continue;
    for (const auto& entity : doc["form"].GetArray()) {
      for (const auto& word : entity["words"].GetArray()) {
        const auto& box = word["box"].GetArray();
        s.truth.push_back({box[0].GetInt(), box[1].GetInt(), box[2].GetInt(), box[3].GetInt(),
                           word["text"].GetString()});
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> Tokens(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string t;
  while (in >> t) out.push_back(t);
  return out;
}

// Items in reading order: rows by vertical centre (an item joins a row when its centre lies
// within half the smaller height of the row's centre), left to right in a row.
std::string ReadingOrder(std::vector<Item> items) {
  std::vector<Item> kept;
  for (auto& item : items) {
    if (!Tokens(item.text).empty()) kept.push_back(item);
  }
  std::sort(kept.begin(), kept.end(),
            [](const Item& a, const Item& b) { return a.y0 + a.y1 < b.y0 + b.y1; });
  std::vector<std::vector<Item>> rows;
  double row_cy = 0, row_h = 0;
  for (auto& item : kept) {
    const double cy = (item.y0 + item.y1) / 2.0, h = std::max(1, item.y1 - item.y0);
    if (!rows.empty() && std::abs(cy - row_cy) < 0.5 * std::min(h, row_h)) {
      rows.back().push_back(item);
    } else {
      rows.push_back({item});
      row_cy = cy;
      row_h = h;
    }
  }
  std::string out;
  for (auto& row : rows) {
    for (auto& item : row) {
      for (char& c : item.text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    std::sort(row.begin(), row.end(), [](const Item& a, const Item& b) { return a.x0 < b.x0; });
    for (auto& item : row) {
      for (const auto& t : Tokens(item.text)) out += (out.empty() ? "" : " ") + t;
    }
  }
  return out;
}

size_t Levenshtein(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

struct Score {
  double edits = 0, truth_chars = 0;
  double matched = 0, truth_words = 0, ocr_words = 0;
  double seconds = 0;
  int pages = 0, failed = 0;
  std::vector<std::string> missed, extra;  // for --misses: unmatched truth / OCR tokens
  void Add(const std::vector<Item>& truth, const std::vector<Item>& ocr) {
    const std::string t = ReadingOrder(truth), o = ReadingOrder(ocr);
    edits += static_cast<double>(Levenshtein(t, o));
    truth_chars += static_cast<double>(t.size());
    std::map<std::string, int> bag;
    for (const auto& w : Tokens(t)) ++bag[w], ++truth_words;
    for (const auto& w : Tokens(o)) {
      ++ocr_words;
      auto it = bag.find(w);
      if (it != bag.end() && it->second > 0) {
        --it->second;
        ++matched;
      } else {
        extra.push_back(w);
      }
    }
    for (const auto& [w, left] : bag) {
      for (int i = 0; i < left; ++i) missed.push_back(w);
    }
  }
  double Cer() const { return truth_chars ? edits / truth_chars : 0; }
  double F1() const {
    const double p = ocr_words ? matched / ocr_words : 0,
                 r = truth_words ? matched / truth_words : 0;
    return p + r > 0 ? 2 * p * r / (p + r) : 0;
  }
};

// The `tesseract` command with its defaults; words from its TSV output.
std::vector<Item> RunTesseractCommand(const std::string& image, bool* ok) {
  std::string out;
  const std::string cmd = "OMP_THREAD_LIMIT=1 tesseract '" + image + "' stdout tsv 2>/dev/null";
  FILE* pipe = popen(cmd.c_str(), "r");
  char buf[65536];
  size_t n;
  while (pipe && (n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  *ok = pipe && pclose(pipe) == 0;
  std::vector<Item> items;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::stringstream ls(line);
    std::string col;
    while (std::getline(ls, col, '\t')) cols.push_back(col);
    if (cols.size() < 12 || cols[0] != "5") continue;
    const int l = std::atoi(cols[6].c_str()), t = std::atoi(cols[7].c_str());
    items.push_back(
        {l, t, l + std::atoi(cols[8].c_str()), t + std::atoi(cols[9].c_str()), cols[11]});
  }
  return items;
}

std::vector<Item> RunScanline(OcrEngines& engines, const std::string& path,
                              const OcrOptions& options, std::vector<std::string>* applied) {
  const std::string bytes = ReadAll(path);
  ImageLimits limits;
  limits.max_bytes = 1ull << 30;
  std::vector<Image> pages = DecodeImage(bytes, limits);
  OcrPage page = Recognize(engines, pages.at(0), options);
  if (applied) *applied = page.preprocess_applied;
  std::vector<Item> items;
  for (const auto& block : page.blocks) {
    for (const auto& line : block.lines) {
      for (const auto& w : line.words) {
        items.push_back({w.box.x, w.box.y, w.box.x + w.box.w, w.box.y + w.box.h, w.text});
      }
    }
  }
  return items;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, sep)) out.push_back(part);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  PrepareTesseractProcess();
  std::string set = "both", modes_text = "tesseract,none,auto";
  int psm = OcrConfig{}.default_psm, every = 1, offset = 0, limit = 0;
  bool verbose = false, misses = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--set")
      set = next();
    else if (a == "--modes")
      modes_text = next();
    else if (a == "--psm")
      psm = std::atoi(next().c_str());
    else if (a == "--every")
      every = std::max(1, std::atoi(next().c_str()));
    else if (a == "--offset")
      offset = std::atoi(next().c_str());
    else if (a == "--limit")
      limit = std::atoi(next().c_str());
    else if (a == "--verbose")
      verbose = true;
    else if (a == "--misses")
      verbose = misses = true;
    else {
      std::cerr << "unknown argument " << a << "\n";
      return 2;
    }
  }
  // Modes are separated by ';' when a step list is among them ("none;grey,upscale").
  const std::vector<std::string> modes =
      Split(modes_text, modes_text.find(';') != std::string::npos ? ';' : ',');
  const std::string data = std::string(SCANLINE_SOURCE_DIR) + "/../shared/data";
  std::vector<std::pair<std::string, std::vector<Sample>>> sets;
  if (set == "receipts" || set == "both")
    sets.emplace_back("receipts", Receipts(data + "/receipts"));
  if (set == "forms" || set == "both") sets.emplace_back("forms", Forms(data + "/forms"));

  OcrEngines engines(TessdataDir(""), 2);
  engines.Preload("eng");
  std::printf("%-9s %-26s %6s %7s %7s %7s %8s %s\n", "set", "mode", "pages", "CER", "F1", "recall",
              "s/page", "failed");
  for (auto& [name, samples] : sets) {
    std::vector<const Sample*> chosen;
    for (size_t i = 0; i < samples.size(); ++i) {
      if (static_cast<int>(i % every) == offset) chosen.push_back(&samples[i]);
    }
    if (limit > 0 && static_cast<int>(chosen.size()) > limit) chosen.resize(limit);
    for (const auto& mode : modes) {
      Score score;
      OcrOptions options;
      options.psm = psm;
      options.level = OcrLevel::kWords;
      if (mode != "tesseract") options.preprocess = ParsePreprocess(mode);
      for (const Sample* sample : chosen) {
        const auto start = std::chrono::steady_clock::now();
        std::vector<Item> ocr;
        std::vector<std::string> applied;
        bool ok = true;
        try {
          ocr = mode == "tesseract" ? RunTesseractCommand(sample->image, &ok)
                                    : RunScanline(engines, sample->image, options, &applied);
        } catch (const Error& e) {
          std::cerr << sample->image << ": " << e.what() << "\n";
          ok = false;
        }
        score.seconds +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        ++score.pages;
        if (!ok) ++score.failed;
        Score one;
        one.Add(sample->truth, ocr);
        score.Add(sample->truth, ocr);
        if (verbose) {
          std::string steps;
          for (const auto& s : applied) steps += s + " ";
          std::fprintf(stderr, "  %s %s CER %.3f F1 %.3f %s\n", mode.c_str(),
                       fs::path(sample->image).filename().c_str(), one.Cer(), one.F1(),
                       steps.c_str());
          if (misses) {
            std::string m, e;
            for (const auto& w : one.missed) m += w + " ";
            for (const auto& w : one.extra) e += w + " ";
            std::fprintf(stderr, "    missed: %s\n    extra:  %s\n", m.c_str(), e.c_str());
          }
        }
      }
      std::printf(
          "%-9s %-26s %6d %7.3f %7.3f %7.3f %8.2f %d\n", name.c_str(),
          (mode == "tesseract" ? "tesseract (psm 3)" : mode + " (psm " + std::to_string(psm) + ")")
              .c_str(),
          score.pages, score.Cer(), score.F1(),
          score.truth_words ? score.matched / score.truth_words : 0,
          score.pages ? score.seconds / score.pages : 0, score.failed);
      std::fflush(stdout);
    }
  }
  return 0;
}
