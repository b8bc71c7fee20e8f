// Plate accuracy and speed on the labelled OpenALPR benchmark photos (../shared/data/lpr/us
// and br), in-process, one core.
//
//   lpr_accuracy [--set us|br]... [--every K] [--offset I] [--limit N] [--enhance auto|on|off]
//                [--part all|held-out|train] [--verbose]
//
// The photos are split for the plate character model (tools/train/plate_labels.h): the
// model is trained on the training half only, so the held-out half's figures are THE
// figures; the training half's and all photos' follow, marked. --part train runs only the
// training half (for tuning), --part held-out only the other.
//
// Per set: plates detected (a plate whose outline's bounding box has IoU >= 0.5 with the
// labelled box), exact reads at top-1 and within the top 10 (A-Z0-9, case-insensitive, O
// and 0 different) of the plate that overlaps the labelled box most, false detections per
// photo (plates that do not overlap the labelled box by IoU >= 0.5, other than the one
// scored), and milliseconds per photo (decode to result; mean and p90), with the mean for
// the photos of 1280x720 or less; and the plates not right at top-1, by what went wrong: no
// plate reported over the labelled box, or one read wrong (and of those, how many have the
// label among their candidates). --every K --offset I takes photos I, I+K, I+2K... of the
// sorted list (a fixed subset for tuning).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/lpr.h"
#include "core/ocr.h"
#include "core/tessdata.h"
#include "tools/train/plate_labels.h"

namespace {

double Iou(double ax, double ay, double aw, double ah, double bx, double by, double bw, double bh) {
  const double ix = std::max(0.0, std::min(ax + aw, bx + bw) - std::max(ax, bx));
  const double iy = std::max(0.0, std::min(ay + ah, by + bh) - std::max(ay, by));
  const double inter = ix * iy;
  const double uni = aw * ah + bw * bh - inter;
  return uni > 0 ? inter / uni : 0;
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream b;
  b << in.rdbuf();
  return b.str();
}

struct PhotoScore {
  bool training = false;
  bool detected = false, top1 = false, top10 = false, enhanced = false, hd = false;
  bool over_box = false;  // a plate reported over the labelled box (any overlap)
  int false_plates = 0;
  double ms = 0, cpu_ms = 0;
};

enum class Part { kAll, kHeldOut, kTrain };

double Mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0 : sum / v.size();
}

double P90(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(0.9 * v.size()))];
}

void Summarise(const std::string& name, const std::vector<PhotoScore>& scores) {
  const size_t n = scores.size();
  int detected = 0, top1 = 0, top10 = 0, false_plates = 0, enhanced = 0;
  int missed = 0, misread = 0, misread_top10 = 0;  // not right at top-1, by what went wrong
  std::vector<double> ms, ms_hd, cpu, cpu_hd;
  for (const auto& s : scores) {
    if (!s.top1) {
      ++(s.over_box ? misread : missed);
      misread_top10 += s.over_box && s.top10;
    }
    detected += s.detected;
    top1 += s.top1;
    top10 += s.top10;
    false_plates += s.false_plates;
    enhanced += s.enhanced;
    ms.push_back(s.ms);
    cpu.push_back(s.cpu_ms);
    if (s.hd) {
      ms_hd.push_back(s.ms);
      cpu_hd.push_back(s.cpu_ms);
    }
  }
  const double d = static_cast<double>(std::max<size_t>(1, n));
  std::printf(
      "%s: %zu photos, detected %.1f %%, top-1 %.1f %%, top-10 %.1f %%, false %.2f/photo, "
      "enhanced %d, ms mean %.0f p90 %.0f (<=1280x720: %zu photos, mean %.0f), "
      "cpu ms mean %.0f p90 %.0f (<=1280x720: %.0f); not right at top-1: %d with no plate "
      "over the box, %d read wrong (%d of them right among the candidates)\n",
      name.c_str(), n, 100.0 * detected / d, 100.0 * top1 / d, 100.0 * top10 / d, false_plates / d,
      enhanced, Mean(ms), P90(ms), ms_hd.size(), Mean(ms_hd), Mean(cpu), P90(cpu), Mean(cpu_hd),
      missed, misread, misread_top10);
}

}  // namespace

int main(int argc, char** argv) {
  scanline::PrepareTesseractProcess();
  std::vector<std::string> sets;
  int every = 1, offset = 0, limit = 1 << 30;
  bool verbose = false;
  Part part = Part::kAll;
  scanline::EnhanceMode enhance = scanline::EnhanceMode::kAuto;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--set") {
      sets.push_back(next());
    } else if (a == "--every") {
      every = std::max(1, std::atoi(next().c_str()));
    } else if (a == "--offset") {
      offset = std::atoi(next().c_str());
    } else if (a == "--limit") {
      limit = std::atoi(next().c_str());
    } else if (a == "--enhance") {
      if (!scanline::ParseEnhanceMode(next(), &enhance)) {
        std::cerr << "--enhance auto|on|off\n";
        return 2;
      }
    } else if (a == "--part") {
      const std::string v = next();
      if (v == "all") {
        part = Part::kAll;
      } else if (v == "held-out") {
        part = Part::kHeldOut;
      } else if (v == "train") {
        part = Part::kTrain;
      } else {
        std::cerr << "--part all|held-out|train\n";
        return 2;
      }
    } else if (a == "--verbose") {
      verbose = true;
    } else {
      std::cerr << "usage: lpr_accuracy [--set us|br]... [--every K] [--offset I] [--limit N] "
                   "[--enhance auto|on|off] [--part all|held-out|train] [--verbose]\n";
      return 2;
    }
  }
  if (sets.empty()) sets = {"us", "br"};
  const std::string data = SCANLINE_SOURCE_DIR "/../shared/data/lpr/";
  scanline::LprConfig config;
  scanline::LprEngines engines(config, scanline::TessdataDir(""));
  scanline::ImageLimits limits;

  for (const std::string& set : sets) {
    std::vector<scanline::PlateLabel> all = scanline::LoadPlateLabels(data + set);
    // The part first, then the subset: `--part train --every 5` is the fifth of the training
    // photos that `train_plate_chars --validate` keeps out of its model.
    std::vector<scanline::PlateLabel> in_part, labels;
    for (const auto& label : all) {
      const bool training = scanline::IsTrainingPhoto(label.name);
      if ((part == Part::kHeldOut && training) || (part == Part::kTrain && !training)) continue;
      in_part.push_back(label);
    }
    for (size_t i = offset; i < in_part.size() && static_cast<int>(labels.size()) < limit;
         i += every) {
      labels.push_back(in_part[i]);
    }
    scanline::LprOptions options;
    options.region = set;
    options.enhance = enhance;
    std::vector<PhotoScore> scores;
    for (const scanline::PlateLabel& label : labels) {
      const bool training = scanline::IsTrainingPhoto(label.name);
      const std::string bytes = ReadBytes(label.image);
      const auto start = std::chrono::steady_clock::now();
      timespec cpu0{}, cpu1{};
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
      scanline::LprResult result;
      try {
        result = scanline::RecognizePlates(engines, bytes, limits, options);
      } catch (const scanline::Error& e) {
        std::cerr << label.image << ": " << e.what() << "\n";
        continue;
      }
      PhotoScore score;
      score.training = training;
      score.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count();
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
      score.cpu_ms = (cpu1.tv_sec - cpu0.tv_sec) * 1e3 + (cpu1.tv_nsec - cpu0.tv_nsec) / 1e6;
      score.hd = result.info.width * result.info.height <= 1280 * 720;
      score.enhanced = result.enhanced;
      int best = -1;
      double best_iou = 0;
      std::vector<double> ious;
      for (size_t p = 0; p < result.plates.size(); ++p) {
        float x0 = 1e9f, y0 = 1e9f, x1 = -1e9f, y1 = -1e9f;
        for (const auto& c : result.plates[p].corners) {
          x0 = std::min(x0, c.x);
          y0 = std::min(y0, c.y);
          x1 = std::max(x1, c.x);
          y1 = std::max(y1, c.y);
        }
        const double iou = Iou(x0, y0, x1 - x0, y1 - y0, label.x, label.y, label.w, label.h);
        ious.push_back(iou);
        if (iou > best_iou) {
          best_iou = iou;
          best = static_cast<int>(p);
        }
      }
      if (best >= 0) {
        const auto& plate = result.plates[best];
        score.top1 = plate.text == label.plate;
        for (const auto& c : plate.candidates) score.top10 = score.top10 || c.text == label.plate;
      }
      score.detected = best_iou >= 0.5;
      score.over_box = best_iou > 0;
      for (size_t p = 0; p < ious.size(); ++p) {
        if (static_cast<int>(p) != best && ious[p] < 0.5) ++score.false_plates;
        if (static_cast<int>(p) == best && ious[p] < 0.5 && !score.top1) ++score.false_plates;
      }
      scores.push_back(score);
      if (verbose) {
        std::printf("%s %s%s %s iou=%.2f %s%s %.0fms %dx%d", set.c_str(), training ? "" : "*",
                    label.name.c_str(), label.plate.c_str(), best_iou,
                    score.top1 ? "OK" : (score.top10 ? "top10" : "--"),
                    result.enhanced ? " enh" : "", score.ms, result.info.width, result.info.height);
        for (const auto& st : result.timings) std::printf(" %s=%.0f", st.stage.c_str(), st.ms);
        for (const auto& p : result.plates) {
          std::printf(" [%s %.0f %s]", p.text.c_str(), p.confidence, p.methods.c_str());
        }
        // The scored plate's next-best readings, when its first is wrong.
        if (best >= 0 && !score.top1) {
          std::printf(" |");
          for (const auto& c : result.plates[best].candidates) {
            std::printf(" %s:%.0f%s", c.text.c_str(), c.confidence, c.matches_pattern ? "" : "*");
          }
        }
        std::printf("\n");
      }
    }
    std::vector<PhotoScore> held_out, train;
    for (const auto& sc : scores) (sc.training ? train : held_out).push_back(sc);
    if (part != Part::kTrain) Summarise(set + " held-out", held_out);
    if (part != Part::kHeldOut) Summarise(set + " train", train);
    if (part == Part::kAll) Summarise(set + " all", scores);
    std::fflush(stdout);
  }
  return 0;
}
