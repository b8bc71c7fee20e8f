// Plate accuracy and speed on the labelled OpenALPR benchmark photos (../shared/data/lpr/us
// and br), in-process, one core.
//
//   lpr_accuracy [--set us|br]... [--every K] [--offset I] [--limit N] [--enhance auto|on|off]
//                [--verbose]
//
// Per set: plates detected (a plate whose outline's bounding box has IoU >= 0.5 with the
// labelled box), exact reads at top-1 and within the top 10 (A-Z0-9, case-insensitive, O
// and 0 different) of the plate that overlaps the labelled box most, false detections per
// photo (plates that do not overlap the labelled box by IoU >= 0.5, other than the one
// scored), and milliseconds per photo (decode to result; mean and p90), with the mean for
// the photos of 1280x720 or less. --every K --offset I takes photos I, I+K, I+2K... of the
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

namespace {

struct Label {
  std::string image;  // path
  double x = 0, y = 0, w = 0, h = 0;
  std::string plate;
};

std::vector<Label> LoadLabels(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".txt") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  std::vector<Label> labels;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string line;
    if (!std::getline(in, line)) continue;
    std::istringstream fields(line);
    Label l;
    std::string name;
    fields >> name >> l.x >> l.y >> l.w >> l.h >> l.plate;
    if (!fields) continue;
    l.image = dir + "/" + name;
    for (char& c : l.plate) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    labels.push_back(l);
  }
  return labels;
}

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

}  // namespace

int main(int argc, char** argv) {
  scanline::PrepareTesseractProcess();
  std::vector<std::string> sets;
  int every = 1, offset = 0, limit = 1 << 30;
  bool verbose = false;
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
    } else if (a == "--verbose") {
      verbose = true;
    } else {
      std::cerr << "usage: lpr_accuracy [--set us|br]... [--every K] [--offset I] [--limit N] "
                   "[--enhance auto|on|off] [--verbose]\n";
      return 2;
    }
  }
  if (sets.empty()) sets = {"us", "br"};
  const std::string data = SCANLINE_SOURCE_DIR "/../shared/data/lpr/";
  scanline::LprConfig config;
  scanline::LprEngines engines(config, scanline::TessdataDir(""));
  scanline::ImageLimits limits;

  for (const std::string& set : sets) {
    std::vector<Label> all = LoadLabels(data + set);
    std::vector<Label> labels;
    for (size_t i = offset; i < all.size() && static_cast<int>(labels.size()) < limit; i += every) {
      labels.push_back(all[i]);
    }
    scanline::LprOptions options;
    options.region = set;
    options.enhance = enhance;
    int detected = 0, top1 = 0, top10 = 0, false_plates = 0, enhanced = 0;
    std::vector<double> ms, ms_hd, cpu_ms, cpu_hd;
    for (const Label& label : labels) {
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
      const double t =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
      const double cpu = (cpu1.tv_sec - cpu0.tv_sec) * 1e3 + (cpu1.tv_nsec - cpu0.tv_nsec) / 1e6;
      cpu_ms.push_back(cpu);
      if (result.info.width * result.info.height <= 1280 * 720) cpu_hd.push_back(cpu);
      ms.push_back(t);
      if (result.info.width * result.info.height <= 1280 * 720) ms_hd.push_back(t);
      if (result.enhanced) ++enhanced;
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
      bool hit1 = false, hit10 = false;
      if (best >= 0) {
        const auto& plate = result.plates[best];
        hit1 = plate.text == label.plate;
        for (const auto& c : plate.candidates) hit10 = hit10 || c.text == label.plate;
      }
      if (best_iou >= 0.5) ++detected;
      top1 += hit1;
      top10 += hit10;
      for (size_t p = 0; p < ious.size(); ++p) {
        if (static_cast<int>(p) != best && ious[p] < 0.5) ++false_plates;
        if (static_cast<int>(p) == best && ious[p] < 0.5 && !hit1) ++false_plates;
      }
      if (verbose) {
        std::printf("%s %s %s iou=%.2f %s%s %.0fms", set.c_str(),
                    std::filesystem::path(label.image).filename().c_str(), label.plate.c_str(),
                    best_iou, hit1 ? "OK" : (hit10 ? "top10" : "--"), result.enhanced ? " enh" : "",
                    t);
        for (const auto& st : result.timings) std::printf(" %s=%.0f", st.stage.c_str(), st.ms);
        for (const auto& p : result.plates) {
          std::printf(" [%s %.0f %s]", p.text.c_str(), p.confidence, p.methods.c_str());
        }
        std::printf("\n");
      }
    }
    const size_t n = ms.size();
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    double mean = 0, mean_hd = 0;
    for (double v : ms) mean += v;
    for (double v : ms_hd) mean_hd += v;
    mean = n ? mean / n : 0;
    mean_hd = ms_hd.empty() ? 0 : mean_hd / ms_hd.size();
    const double p90 = n ? sorted[std::min(n - 1, static_cast<size_t>(0.9 * n))] : 0;
    std::sort(cpu_ms.begin(), cpu_ms.end());
    double cpu_mean = 0;
    for (double v : cpu_ms) cpu_mean += v;
    cpu_mean = n ? cpu_mean / n : 0;
    const double cpu_p90 = n ? cpu_ms[std::min(n - 1, static_cast<size_t>(0.9 * n))] : 0;
    double cpu_hd_mean = 0;
    for (double v : cpu_hd) cpu_hd_mean += v;
    cpu_hd_mean = cpu_hd.empty() ? 0 : cpu_hd_mean / cpu_hd.size();
    std::printf(
        "%s: %zu photos, detected %.1f %%, top-1 %.1f %%, top-10 %.1f %%, false %.2f/photo, "
        "enhanced %d, ms mean %.0f p90 %.0f (<=1280x720: %zu photos, mean %.0f), "
        "cpu ms mean %.0f p90 %.0f (<=1280x720: %.0f)\n",
        set.c_str(), n, 100.0 * detected / std::max<size_t>(1, n),
        100.0 * top1 / std::max<size_t>(1, n), 100.0 * top10 / std::max<size_t>(1, n),
        static_cast<double>(false_plates) / std::max<size_t>(1, n), enhanced, mean, p90,
        ms_hd.size(), mean_hd, cpu_mean, cpu_p90, cpu_hd_mean);
    std::fflush(stdout);
  }
  return 0;
}
