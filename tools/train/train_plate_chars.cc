// Trains the plate character model (core/plate_chars.h): run by scripts/train-plate-model.
//
//   train_plate_chars [--data DIR] [--out FILE] [--font FILE]... [--hidden N]
//                     [--iterations N] [--synthetic N] [--validate K]
//                     [--validate-offset I] [--dump DIR]
//
// Samples come from two places, both cut out by the same code the service reads plates with:
// - the TRAINING half of the labelled photos (tools/train/plate_labels.h; held-out photos
//   are never opened): the service's own detector finds the rows of characters inside the
//   labelled plate box, each row is prepared and binarised the two ways the reader uses, and
//   when a way segments exactly as many characters as the label has, each character is a
//   sample (plus three randomly distorted copies);
// - characters rendered with the given fonts (FreeType), condensed or widened, thickened or
//   thinned, shrunk to 10-20 pixels and blown up again, blurred and thresholded, so that
//   characters no training plate shows are still known.
// --validate K keeps every K-th training photo's characters out of the model (photos I,
// I+K, ... with --validate-offset I) and prints the accuracy on them (a check on the method,
// and with `lpr_accuracy --part train --every K --offset I` an end-to-end one; the shipped
// model is trained without it).
// Deterministic: fixed seeds, one thread.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <opencv2/freetype.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/data_files.h"
#include "core/detail/image_mat.h"
#include "core/detail/plate_detail.h"
#include "core/error.h"
#include "core/image.h"
#include "core/plate_chars.h"
#include "core/plate_detector.h"
#include "core/plate_patterns.h"
#include "core/retinex.h"
#include "tools/train/plate_labels.h"

namespace {

using scanline::GlyphSample;

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream b;
  b << in.rdbuf();
  return b.str();
}

// A glyph (ink 255) scaled to 40 pixels tall and randomly distorted: scale, shear, a small
// rotation, a pixel of erosion or dilation.
cv::Mat Distort(const cv::Mat& glyph, cv::RNG& rng) {
  const double s = 40.0 / std::max(1, glyph.rows);
  cv::Mat big;
  cv::resize(glyph, big, cv::Size(), s, s, cv::INTER_LINEAR);
  const int pad = 8;
  cv::copyMakeBorder(big, big, pad, pad, pad, pad, cv::BORDER_CONSTANT, cv::Scalar(0));
  const double sx = rng.uniform(0.85, 1.15), sy = rng.uniform(0.9, 1.1);
  const double shear = rng.uniform(-0.12, 0.12), angle = rng.uniform(-0.05, 0.05);
  const cv::Point2f c(big.cols / 2.0f, big.rows / 2.0f);
  const double ca = std::cos(angle), sa = std::sin(angle);
  cv::Matx22d a = cv::Matx22d(ca, -sa, sa, ca) * cv::Matx22d(sx, shear, 0, sy);
  cv::Mat m = (cv::Mat_<double>(2, 3) << a(0, 0), a(0, 1), c.x - a(0, 0) * c.x - a(0, 1) * c.y,
               a(1, 0), a(1, 1), c.y - a(1, 0) * c.x - a(1, 1) * c.y);
  cv::Mat out;
  cv::warpAffine(big, out, m, big.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, 0);
  const double morph = rng.uniform(0.0, 1.0);
  if (morph < 0.25) {
    cv::erode(out, out, cv::Mat());
  } else if (morph < 0.5) {
    cv::dilate(out, out, cv::Mat());
  }
  cv::threshold(out, out, 127, 255, cv::THRESH_BINARY);
  return out;
}

// One character rendered with `font` and degraded like a small plate character; empty when
// the rendering came out as nothing.
cv::Mat RenderGlyph(cv::freetype::FreeType2& font, char c, cv::RNG& rng) {
  const int height = 48;
  cv::Mat colour(96, 96, CV_8UC3, cv::Scalar::all(255));  // FreeType2 draws on BGR only
  font.putText(colour, std::string(1, c), cv::Point(20, 72), height, cv::Scalar::all(0), -1,
               cv::LINE_AA, true);
  cv::Mat canvas;
  cv::cvtColor(colour, canvas, cv::COLOR_BGR2GRAY);
  cv::Mat ink = canvas < 128;
  const cv::Rect box = cv::boundingRect(ink);
  if (box.area() == 0) return {};
  cv::Mat grey = canvas(box & cv::Rect(0, 0, 96, 96)).clone();
  cv::copyMakeBorder(grey, grey, 6, 6, 6, 6, cv::BORDER_CONSTANT, cv::Scalar(255));
  // Condensed or widened; thicker or thinner strokes.
  cv::resize(grey, grey, cv::Size(), rng.uniform(0.65, 1.1), 1.0, cv::INTER_AREA);
  const double morph = rng.uniform(0.0, 1.0);
  const cv::Mat k = cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(3, 3));
  if (morph < 0.35) {
    cv::erode(grey, grey, k, cv::Point(-1, -1), 1 + (morph < 0.1));  // dark ink grows
  } else if (morph < 0.55) {
    cv::dilate(grey, grey, k);
  }
  // Through a small size and back.
  const double small = rng.uniform(10.0, 22.0) / box.height;
  cv::Mat tiny;
  cv::resize(grey, tiny, cv::Size(), small, small, cv::INTER_AREA);
  cv::resize(tiny, grey, cv::Size(), 40.0 / (box.height * small) * 1.0, 40.0 / (box.height * small),
             cv::INTER_CUBIC);
  cv::GaussianBlur(grey, grey, cv::Size(3, 3), rng.uniform(0.3, 1.2));
  cv::Mat noise(grey.size(), CV_16SC1);
  rng.fill(noise, cv::RNG::NORMAL, 0, rng.uniform(0.0, 12.0));
  cv::Mat g16;
  grey.convertTo(g16, CV_16SC1);
  g16 += noise;
  g16.convertTo(grey, CV_8UC1);
  cv::Mat binary;
  cv::threshold(grey, binary, 0, 255, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
  const cv::Rect tight = cv::boundingRect(binary);
  if (tight.area() == 0) return {};
  return binary(tight).clone();
}

struct PhotoGlyphs {
  std::vector<GlyphSample> samples;
  bool matched = false;
};

// The characters of the labelled plate in one training photo (see the file comment).
PhotoGlyphs GlyphsOfPhoto(scanline::PlateDetector& detector, const scanline::PlateRegion& region,
                          const scanline::PlateLabel& label) {
  using namespace scanline;
  PhotoGlyphs out;
  const std::string bytes = ReadBytes(label.image);
  std::vector<Image> pages;
  try {
    pages = DecodeImage(bytes, ImageLimits{});
  } catch (const Error& e) {
    std::cerr << label.image << ": " << e.what() << "\n";
    return out;
  }
  Image image = pages.front();
  if (MeanBrightness(image) < kDarkBrightness) image = EnhanceLowLight(image);
  const cv::Mat& mat = MatOf(image);
  cv::Mat grey = mat;
  if (mat.channels() == 3) cv::cvtColor(mat, grey, cv::COLOR_BGR2GRAY);
  const cv::Rect box(cvRound(label.x), cvRound(label.y), cvRound(label.w), cvRound(label.h));
  int rows = 0;
  for (const auto& candidate : detail::DetectCandidates(detector, mat, region)) {
    const cv::Rect bounds = detail::RowBounds(candidate.row);
    if ((bounds & box).area() < 0.6 * bounds.area()) continue;
    if (bounds.width < 0.4 * box.width) continue;
    if (++rows > 4) break;
    const auto blobs = detail::RowBlobGlyphs(grey, candidate.row);
    if (blobs.size() == label.plate.size()) {
      out.matched = true;
      for (size_t i = 0; i < blobs.size(); ++i) {
        if (!blobs[i].empty()) out.samples.push_back({ImageFromMat(blobs[i]), label.plate[i]});
      }
    }
    // The rows as the shipped model was trained on them: each line's polarity judged by the
    // characters' band alone. With the margins' check the reader makes, some rows give other
    // samples, and a model trained on them is another draw, whose reads differ by a few
    // plates either way (docs/lpr.md).
    const detail::RowImages images =
        detail::PrepareRow(grey, candidate.row, /*band_only_polarity=*/true);
    for (int way : {0, 2}) {
      // Untouched characters only: one cut out of what it touched may have lost a stroke to
      // the cut, and taught as the label's character it would blur that class. (Read with
      // such cuts, rows trained with them read fewer plates right: docs/lpr.md.)
      const auto glyphs =
          detail::LineGlyphs(detail::BinarisedLine(images, way, /*cut_touching=*/false));
      if (glyphs.size() != label.plate.size()) continue;
      out.matched = true;
      for (size_t i = 0; i < glyphs.size(); ++i) {
        out.samples.push_back({ImageFromMat(glyphs[i]), label.plate[i]});
      }
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace scanline;
  std::string data = SCANLINE_SOURCE_DIR "/../shared/data/lpr";
  std::string out_file = SCANLINE_SOURCE_DIR "/data/models/plate_chars.yml.gz";
  std::string dump;
  std::vector<std::string> fonts;
  PlateCharTraining training;
  int synthetic = 12;       // renderings per character and font
  int validate = 0;         // keep every validate-th training photo out (0 = none)
  int validate_offset = 0;  // ... starting with this one
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--data") {
      data = next();
    } else if (a == "--out") {
      out_file = next();
    } else if (a == "--font") {
      fonts.push_back(next());
    } else if (a == "--hidden") {
      training.hidden = std::atoi(next().c_str());
    } else if (a == "--iterations") {
      training.iterations = std::atoi(next().c_str());
    } else if (a == "--synthetic") {
      synthetic = std::atoi(next().c_str());
    } else if (a == "--validate") {
      validate = std::max(2, std::atoi(next().c_str()));
    } else if (a == "--validate-offset") {
      validate_offset = std::max(0, std::atoi(next().c_str()));
    } else if (a == "--dump") {
      dump = next();
    } else {
      std::cerr << "usage: train_plate_chars [--data DIR] [--out FILE] [--font FILE]... "
                   "[--hidden N] [--iterations N] [--synthetic N] [--validate K] "
                   "[--validate-offset I] [--dump DIR]\n";
      return 2;
    }
  }
  cv::setNumThreads(1);
  cv::RNG rng(20261129);
  try {
    const auto regions = LoadPlateRegions(DataDir("regions"));
    PlateDetector detector(PlateDetectorOptions{});
    std::vector<GlyphSample> samples, check;
    for (const std::string set : {"us", "br"}) {
      int photos = 0, matched = 0, index = 0;
      size_t real = 0;
      for (const PlateLabel& label :
           LoadPlateLabels((std::filesystem::path(data) / set).string())) {
        if (!IsTrainingPhoto(label.name)) continue;  // held-out photos are never read
        ++photos;
        const bool checked = validate && index++ % validate == validate_offset;
        PhotoGlyphs glyphs = GlyphsOfPhoto(detector, regions.at(set), label);
        matched += glyphs.matched;
        for (auto& s : glyphs.samples) {
          if (checked) {
            check.push_back(s);
            continue;
          }
          ++real;
          for (int k = 0; k < 3; ++k) {
            samples.push_back({ImageFromMat(Distort(MatOf(s.ink), rng)), s.label});
          }
          samples.push_back(std::move(s));
        }
      }
      std::printf(
          "%s: %d training photos, %d with the plate's characters segmented, %zu "
          "characters\n",
          set.c_str(), photos, matched, real);
    }
    size_t rendered = 0;
    for (const std::string& file : fonts) {
      auto font = cv::freetype::createFreeType2();
      font->loadFontData(file, 0);
      for (const char* c = kAlphabet; *c; ++c) {
        for (int v = 0; v < synthetic; ++v) {
          cv::Mat glyph = RenderGlyph(*font, *c, rng);
          if (glyph.empty()) continue;
          samples.push_back({ImageFromMat(glyph), *c});
          ++rendered;
        }
      }
    }
    std::printf("%zu rendered characters from %zu fonts; %zu samples in all\n", rendered,
                fonts.size(), samples.size());
    if (!dump.empty()) {
      std::map<char, int> n;
      for (const auto& s : samples) {
        const int k = n[s.label]++;
        if (k < 40) {
          cv::imwrite(dump + "/" + std::string(1, s.label) + "_" + std::to_string(k) + ".png",
                      MatOf(s.ink));
        }
      }
    }
    PlateCharClassifier model = PlateCharClassifier::Train(samples, training);
    if (validate) {
      int right = 0;
      std::map<std::string, int> confusions;
      for (const auto& s : check) {
        const CharChoices c = model.Classify(s.ink, 1);
        if (!c.empty() && c[0].c == s.label) {
          ++right;
        } else if (!c.empty()) {
          const std::string pair = std::string(1, s.label) + "->" + c[0].c;
          const int k = confusions[pair]++;
          if (!dump.empty()) {
            cv::imwrite(dump + "/miss_" + pair.substr(0, 1) + pair.substr(3) + "_" +
                            std::to_string(k) + ".png",
                        MatOf(s.ink));
          }
        }
      }
      int fit = 0;
      for (const auto& s : samples) {
        const CharChoices c = model.Classify(s.ink, 1);
        fit += !c.empty() && c[0].c == s.label;
      }
      std::printf("training samples: %d of %zu right\n", fit, samples.size());
      std::printf("validation: %d of %zu characters right (%.1f %%)\n", right, check.size(),
                  100.0 * right / std::max<size_t>(1, check.size()));
      for (const auto& [pair, count] : confusions) {
        if (count > 1) std::printf("  %s %d\n", pair.c_str(), count);
      }
    }
    model.Save(out_file);
    std::printf("wrote %s\n", out_file.c_str());
  } catch (const Error& e) {
    std::cerr << "train_plate_chars: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
