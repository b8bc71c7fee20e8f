// Plate characters with Tesseract (see core/plate_reader.h).
//
// Choices a reader might question:
// - The engine runs the LSTM recogniser only, as a single text line (PSM 7), with every
//   dictionary off (a plate is not a word) and `lstm_choice_mode=2`, which makes Tesseract
//   keep each character's alternatives and their probabilities.
// - Characters are scaled to 40 pixels tall: Tesseract's LSTM reads best at 30-50 pixel
//   capitals; a 12-pixel character in a street photo is upscaled with cubic interpolation.
// - The first binarisation keeps only the blobs of character size on the row's band and
//   paints them on a clean white line: screws, frames, state names and stickers are gone
//   before Tesseract sees them. The others (Tesseract's own Otsu on the grey crop, a local
//   mean threshold) rescue plates where the first one breaks strokes.
// - Perspective makes characters lean; the slant that makes ink columns sharpest is undone.
// - With a plate character model (core/plate_chars.h), each binarised line is also cut into
//   its characters and each classified; that reading joins Tesseract's, position by position
//   where the lengths agree. The stock `eng` model confuses plate lettering (W/H, 7/T, G/6)
//   that the trained model tells apart; Tesseract reads what segmentation breaks.
#include "core/plate_reader.h"

#include <leptonica/allheaders.h>
#include <tesseract/baseapi.h>
#include <tesseract/resultiterator.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <queue>
#include <set>

#include "core/detail/image_mat.h"
#include "core/detail/plate_detail.h"
#include "core/error.h"
#include "core/ocr.h"  // PrepareTesseractThread
#include "core/plate_chars.h"

namespace scanline {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
constexpr int kCharPx = 40;                 // character height given to Tesseract, pixels
constexpr int kPad = 12;                    // white border around the line, pixels
constexpr int kFrameRun = kCharPx * 6 / 5;  // longer runs of ink off the line's middle: frame
constexpr size_t kBestPerReading = 120;     // combinations enumerated per reading

struct TessDeleter {
  void operator()(tesseract::TessBaseAPI* api) const {
    api->End();
    delete api;
  }
};
using TessPtr = std::unique_ptr<tesseract::TessBaseAPI, TessDeleter>;

bool IsAlnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// Characters that plates print alike (either way).
const std::multimap<char, char>& Confusions() {
  static const std::multimap<char, char> table = [] {
    std::multimap<char, char> t;
    const char* pairs[] = {"O0", "Q0", "D0", "QO", "I1", "L1", "T1", "B8", "S5",
                           "Z2", "G6", "A4", "T7", "B3", "U0", "DO", "J1"};
    for (const char* p : pairs) {
      t.emplace(p[0], p[1]);
      t.emplace(p[1], p[0]);
    }
    return t;
  }();
  return table;
}

constexpr float kConfusionFactor = 0.2f;  // probability of a confusable stand-in, relative
constexpr float kDroppedEdgeFactor = 0.85f;
constexpr double kPriorExponent = 0.15;  // see core/plate_patterns.h

// Adds the confusable stand-ins of each choice, applies same-glyph pairs, sorts.
CharChoices Expand(const CharChoices& in, const PlateRegion& region) {
  std::map<char, float> best;
  auto put = [&](char c, float p) {
    for (const auto& [from, to] : region.same_glyph) {
      if (c == from) c = to;
    }
    float& slot = best[c];
    slot = std::max(slot, p);
  };
  for (const auto& choice : in) put(choice.c, choice.p);
  for (const auto& choice : in) {
    auto [lo, hi] = Confusions().equal_range(choice.c);
    for (auto it = lo; it != hi; ++it) {
      if (!best.count(it->second)) put(it->second, choice.p * kConfusionFactor);
    }
  }
  CharChoices out;
  for (const auto& [c, p] : best) out.push_back({c, std::clamp(p, 1e-4f, 1.0f)});
  std::sort(out.begin(), out.end(), [](const CharChoice& a, const CharChoice& b) {
    return a.p != b.p ? a.p > b.p : a.c < b.c;
  });
  if (out.size() > 6) out.resize(6);
  return out;
}

// The `limit` most probable texts of one reading, with their geometric-mean probability.
std::vector<std::pair<std::string, double>> BestCombinations(const PlateReading& reading,
                                                             size_t limit) {
  std::vector<std::pair<std::string, double>> out;
  const size_t n = reading.size();
  if (n == 0) return out;
  for (const auto& pos : reading) {
    if (pos.empty()) return out;
  }
  struct State {
    double log_p;
    std::vector<uint8_t> idx;
    size_t last;  // only positions >= last are advanced: each state is generated once
    bool operator<(const State& o) const { return log_p < o.log_p; }
  };
  auto log_p_of = [&](const std::vector<uint8_t>& idx) {
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += std::log(reading[i][idx[i]].p);
    return s;
  };
  std::priority_queue<State> queue;
  std::vector<uint8_t> first(n, 0);
  queue.push({log_p_of(first), first, 0});
  while (!queue.empty() && out.size() < limit) {
    State s = queue.top();
    queue.pop();
    std::string text(n, ' ');
    for (size_t i = 0; i < n; ++i) text[i] = reading[i][s.idx[i]].c;
    out.emplace_back(std::move(text), std::exp(s.log_p / n));
    for (size_t i = s.last; i < n; ++i) {
      if (s.idx[i] + 1u >= reading[i].size()) continue;
      State next{0, s.idx, i};
      ++next.idx[i];
      next.log_p = log_p_of(next.idx);
      queue.push(std::move(next));
    }
  }
  return out;
}

}  // namespace

std::vector<PlateText> RankCandidates(const std::vector<PlateReading>& readings,
                                      const PlateRegion& region, size_t top_n) {
  // Readings of one length are merged position by position (the mean of each character's
  // probability over them), so that the best character of each binarisation can combine.
  std::map<size_t, std::vector<const PlateReading*>> by_length;
  for (const PlateReading& raw : readings) {
    if (!raw.empty()) by_length[raw.size()].push_back(&raw);
  }
  std::vector<std::pair<PlateReading, double>> merged;  // reading, weight
  for (const auto& [length, group] : by_length) {
    PlateReading m(length);
    for (size_t i = 0; i < length; ++i) {
      std::map<char, float> sum;
      for (const PlateReading* r : group) {
        for (const auto& choice : (*r)[i]) sum[choice.c] += choice.p;
      }
      for (const auto& [c, p] : sum) m[i].push_back({c, p / group.size()});
      std::sort(m[i].begin(), m[i].end(),
                [](const CharChoice& a, const CharChoice& b) { return a.p > b.p; });
    }
    merged.emplace_back(std::move(m), static_cast<double>(group.size()));
  }
  std::map<std::string, double> score;
  double used = 0;
  for (const auto& [raw, weight] : merged) {
    PlateReading reading;
    for (const auto& pos : raw) reading.push_back(Expand(pos, region));
    used += weight;
    std::map<std::string, double> mine;  // a text counts once per reading
    auto add = [&](const PlateReading& r, double factor) {
      for (auto& [text, p] : BestCombinations(r, kBestPerReading)) {
        double& slot = mine[text];
        slot = std::max(slot, p * factor);
      }
    };
    add(reading, 1.0);
    // Too long for the region: an edge blob (a screw, a frame corner) may have been read.
    if (!region.patterns.empty() && reading.size() > region.max_length &&
        reading.size() <= region.max_length + 2) {
      PlateReading r = reading;
      double factor = 1.0;
      while (r.size() > region.max_length) {
        const bool drop_first = r.front().front().p < r.back().front().p;
        PlateReading left(r.begin() + 1, r.end()), right(r.begin(), r.end() - 1);
        factor *= kDroppedEdgeFactor;
        add(left, factor);
        add(right, factor);
        r = drop_first ? left : right;
      }
    }
    for (auto& [text, p] : mine) score[text] += p * weight;
  }
  std::vector<PlateText> out;
  if (used == 0) return out;
  // Ranking: texts that fit a pattern first, and in a region that trusts them sure texts
  // that fit none (by the region's free_text share of their likelihood: a vanity or rare
  // plate read clearly is not given up for a fitting misreading of it); then likelihood
  // times the pattern's prior.
  struct Keyed {
    bool first;
    double key;
    PlateText text;
  };
  std::vector<Keyed> keyed;
  for (auto& [text, s] : score) {
    PlateText t{text, static_cast<float>(100.0 * s / used), false};
    const double weight = PatternWeight(text, region);
    t.matches_pattern = weight > 0;
    const bool trusted = !t.matches_pattern && region.free_text > 0 &&
                         t.confidence >= kMinFreeConfidence && region.PlateLength(text.size());
    const bool first = t.matches_pattern || trusted;
    double key = std::log(std::max(s / used, 1e-12));
    if (t.matches_pattern) key += kPriorExponent * std::log(weight);
    if (trusted) key += std::log(region.free_text);
    keyed.push_back({first, key, std::move(t)});
  }
  std::sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {
    if (a.first != b.first) return a.first;
    if (a.key != b.key) return a.key > b.key;
    return a.text.text < b.text.text;
  });
  for (auto& k : keyed) out.push_back(std::move(k.text));
  if (out.size() > top_n) out.resize(top_n);
  return out;
}

struct PlateReader::Impl {
  TessPtr api;
  std::string model;
  int64_t calls = 0;
  std::optional<PlateCharClassifier> chars;

  // Reads a dark-on-light line image (CV_8UC1). Empty when Tesseract finds no character.
  PlateReading ReadLine(const cv::Mat& line) {
    ++calls;
    cv::Mat padded;
    cv::copyMakeBorder(line, padded, kPad, kPad, kPad, kPad, cv::BORDER_CONSTANT, cv::Scalar(255));
    api->SetImage(padded.data, padded.cols, padded.rows, 1, static_cast<int>(padded.step));
    api->SetSourceResolution(300);
    PrepareTesseractThread();
    PlateReading reading;
    if (api->Recognize(nullptr) != 0) {
      api->Clear();
      return reading;
    }
    std::unique_ptr<tesseract::ResultIterator> it(api->GetIterator());
    if (it) {
      do {
        std::unique_ptr<char[]> text(it->GetUTF8Text(tesseract::RIL_SYMBOL));
        if (!text || !IsAlnum(text[0]) || text[1] != 0) continue;
        CharChoices choices;
        choices.push_back(
            {text[0], std::clamp(it->Confidence(tesseract::RIL_SYMBOL) / 100.0f, 0.0f, 1.0f)});
        tesseract::ChoiceIterator ci(*it);
        do {
          const char* alt = ci.GetUTF8Text();
          if (!alt || !IsAlnum(alt[0]) || alt[1] != 0) continue;
          const float p = std::clamp(ci.Confidence() / 100.0f, 0.0f, 1.0f);
          auto same = std::find_if(choices.begin(), choices.end(),
                                   [&](const CharChoice& c) { return c.c == alt[0]; });
          if (same == choices.end()) {
            choices.push_back({alt[0], p});
          } else {
            same->p = std::max(same->p, p);
          }
        } while (ci.Next());
        std::sort(choices.begin(), choices.end(),
                  [](const CharChoice& a, const CharChoice& b) { return a.p > b.p; });
        reading.push_back(std::move(choices));
      } while (it->Next(tesseract::RIL_SYMBOL));
    }
    api->Clear();
    return reading;
  }
};

PlateReader::PlateReader(const std::string& tessdata_dir, const std::string& model,
                         const std::string& char_model)
    : impl_(std::make_unique<Impl>()) {
  impl_->model = model;
  if (!char_model.empty()) impl_->chars.emplace(char_model);
  impl_->api.reset(new tesseract::TessBaseAPI());
  std::vector<std::string> names = {"load_system_dawg", "load_freq_dawg",    "load_punc_dawg",
                                    "load_number_dawg", "load_unambig_dawg", "load_bigram_dawg"};
  std::vector<std::string> values(names.size(), "0");
  if (impl_->api->Init(tessdata_dir.c_str(), model.c_str(), tesseract::OEM_LSTM_ONLY, nullptr, 0,
                       &names, &values, false) != 0) {
    impl_->api.reset();
    throw Error(ErrorCode::kInternal, "plate recogniser unavailable",
                "Tesseract Init failed for " + model + " in " + tessdata_dir);
  }
  impl_->api->SetPageSegMode(tesseract::PSM_SINGLE_LINE);
  impl_->api->SetVariable("tessedit_char_whitelist", kAlphabet);
  impl_->api->SetVariable("lstm_choice_mode", "2");
  // Lines reach Tesseract dark on light (PrepareRow): its own second reading of an unsure
  // line inverted cost a sixth of a photo's time and, on the training photos, changed one
  // plate's reading in 166.
  impl_->api->SetVariable("invert_threshold", "0");
  impl_->api->SetVariable("debug_file", "/dev/null");
}

PlateReader::~PlateReader() = default;

const std::string& PlateReader::model() const { return impl_->model; }
int64_t PlateReader::recognitions() const { return impl_->calls; }

std::vector<PlateReading> PlateReader::ReadCrop(const Image& crop) {
  const cv::Mat& mat = MatOf(crop);
  cv::Mat grey = mat;
  if (mat.channels() == 3) cv::cvtColor(mat, grey, cv::COLOR_BGR2GRAY);
  detail::RowSearch search;
  search.min_chars = 3;
  search.max_char_height = std::max(10, grey.rows);
  auto rows = detail::FindCharRows(grey, search);
  if (rows.empty()) return {};
  return detail::ReadRow(*this, grey, rows.front(), 0, 2);
}

namespace detail {
namespace {

// Undoes the lean of the characters: the horizontal shear that makes the ink's column
// profile sharpest.
cv::Mat Unslant(const cv::Mat& line, const cv::Mat& ink) {
  double best_score = -1, best_k = 0;
  for (double k = -0.35; k <= 0.3501; k += 0.05) {
    cv::Mat m = (cv::Mat_<double>(2, 3) << 1, k, -k * ink.rows / 2.0, 0, 1, 0);
    cv::Mat sheared;
    cv::warpAffine(ink, sheared, m, ink.size(), cv::INTER_NEAREST, cv::BORDER_CONSTANT, 0);
    cv::Mat cols;
    cv::reduce(sheared, cols, 0, cv::REDUCE_SUM, CV_64F);
    const double score = cols.dot(cols);
    if (score > best_score * 1.0001) {
      best_score = score;
      best_k = k;
    }
  }
  if (std::abs(best_k) < 1e-9) return line;
  cv::Mat m = (cv::Mat_<double>(2, 3) << 1, best_k, -best_k * line.rows / 2.0, 0, 1, 0);
  cv::Mat out;
  cv::warpAffine(line, out, m, line.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  return out;
}

// A character touching something above or below it (a plate's header text, its frame, a
// sticker) is one blob with it, too tall to keep. Given the blobs kept in `keep` (at least
// one), the ink of every other blob that spans their band is cut to that band, and the
// pieces of it as tall as the characters are kept too (drawn dark into `out`). A frame's side
// bar cut to the band is as tall but only a stroke wide, narrower than any character but 1
// and I: it stays out, as does the dark around the plate.
void KeepCharsTouchingBand(const cv::Mat& labels, const cv::Mat& stats,
                           const std::vector<uint8_t>& keep, cv::Mat* out) {
  std::vector<int> tops, bottoms;
  for (int i = 1; i < stats.rows; ++i) {
    if (!keep[i]) continue;
    const int* s = stats.ptr<int>(i);
    tops.push_back(s[cv::CC_STAT_TOP]);
    bottoms.push_back(s[cv::CC_STAT_TOP] + s[cv::CC_STAT_HEIGHT]);
  }
  std::nth_element(tops.begin(), tops.begin() + tops.size() / 2, tops.end());
  std::nth_element(bottoms.begin(), bottoms.begin() + bottoms.size() / 2, bottoms.end());
  const int top = tops[tops.size() / 2], bottom = bottoms[bottoms.size() / 2];
  const int height = bottom - top;
  const int slack = std::max(1, height / 16);
  const int band_top = std::max(0, top - slack);
  const int band_bottom = std::min(labels.rows, bottom + slack);
  for (int i = 1; i < stats.rows; ++i) {
    if (keep[i]) continue;
    const int* s = stats.ptr<int>(i);
    const int y = s[cv::CC_STAT_TOP], h = s[cv::CC_STAT_HEIGHT];
    if (y > top + slack || y + h < bottom - slack || h <= height + 2 * slack) continue;
    const cv::Rect box(s[cv::CC_STAT_LEFT], band_top, s[cv::CC_STAT_WIDTH], band_bottom - band_top);
    const cv::Mat piece = labels(box) == i;
    cv::Mat piece_labels, piece_stats, piece_centroids;
    const int n = cv::connectedComponentsWithStats(piece, piece_labels, piece_stats,
                                                   piece_centroids, 8, CV_32S);
    for (int k = 1; k < n; ++k) {
      const int* p = piece_stats.ptr<int>(k);
      if (p[cv::CC_STAT_HEIGHT] < 0.8 * height) continue;
      const int x = box.x + p[cv::CC_STAT_LEFT], w = p[cv::CC_STAT_WIDTH];
      if (w < 0.3 * height || w > 4 * kCharPx) continue;
      // Not the dark around the plate: that reaches the line's end, or fills its box.
      if (x == 0 || x + w == labels.cols) continue;
      if (p[cv::CC_STAT_AREA] > 0.75 * w * p[cv::CC_STAT_HEIGHT]) continue;
      (*out)(box).setTo(0, piece_labels == k);
    }
  }
}

// Keeps the blobs of `binary` (white = ink) that are characters on the row's band; returns
// dark-on-light. Falls back to all the ink when no blob qualifies. With `cut_frame`, runs of
// ink longer than any character is wide (1.2 character heights) above or below the middle
// of the line, the plate frame's top or bottom edge, are taken away first, so that the
// characters touching it come apart; *cut tells whether there were any. With
// `cut_touching`, characters joined to something above or below them are cut out of it
// (KeepCharsTouchingBand).
cv::Mat CleanLine(const cv::Mat& binary, bool cut_touching, bool cut_frame = false,
                  bool* cut = nullptr) {
  cv::Mat ink = binary;
  if (cut_frame) {
    cv::Mat edges;
    cv::morphologyEx(binary, edges, cv::MORPH_OPEN,
                     cv::getStructuringElement(cv::MORPH_RECT, cv::Size(kFrameRun, 1)));
    const int mid_top = std::max(0, static_cast<int>(binary.rows / 2.0 - 0.3 * kCharPx));
    const int mid_bottom =
        std::min(binary.rows, static_cast<int>(binary.rows / 2.0 + 0.3 * kCharPx));
    edges.rowRange(mid_top, mid_bottom).setTo(0);
    if (cv::countNonZero(edges) > 0) {
      ink = binary.clone();
      ink.setTo(0, edges);
      if (cut) *cut = true;
    }
  }
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(ink, labels, stats, centroids, 8, CV_32S);
  const double band_top = ink.rows / 2.0 - 0.35 * kCharPx;
  const double band_bottom = ink.rows / 2.0 + 0.35 * kCharPx;
  std::vector<uint8_t> keep(n, 0);
  int kept = 0;
  for (int i = 1; i < n; ++i) {
    const int* s = stats.ptr<int>(i);
    const int x = s[cv::CC_STAT_LEFT], y = s[cv::CC_STAT_TOP];
    const int w = s[cv::CC_STAT_WIDTH], h = s[cv::CC_STAT_HEIGHT];
    const double cy = y + h / 2.0;
    if (h < 0.55 * kCharPx || h > 1.5 * kCharPx) continue;
    // Up to four characters joined by blur: LineGlyphs cuts them apart.
    if (w > 4 * kCharPx || w < 2) continue;
    if (cy < band_top || cy > band_bottom) continue;
    if (y == 0 && y + h == ink.rows) continue;  // frame edges running through
    (void)x;
    keep[i] = 1;
    ++kept;
  }
  // Of one height: a bolt, a dash or a sticker beside the characters is shorter or taller
  // than the median of the characters kept.
  if (kept >= 3) {
    std::vector<int> heights;
    for (int i = 1; i < n; ++i) {
      if (keep[i]) heights.push_back(stats.ptr<int>(i)[cv::CC_STAT_HEIGHT]);
    }
    std::nth_element(heights.begin(), heights.begin() + heights.size() / 2, heights.end());
    const double median = heights[heights.size() / 2];
    for (int i = 1; i < n; ++i) {
      const int h = stats.ptr<int>(i)[cv::CC_STAT_HEIGHT];
      if (keep[i] && (h < 0.72 * median || h > 1.3 * median)) {
        keep[i] = 0;
        --kept;
      }
    }
  }
  cv::Mat out(ink.size(), CV_8UC1, cv::Scalar(255));
  if (kept == 0) {
    out.setTo(0, ink);
    return out;
  }
  for (int r = 0; r < labels.rows; ++r) {
    const int* l = labels.ptr<int>(r);
    uint8_t* o = out.ptr<uint8_t>(r);
    for (int c = 0; c < labels.cols; ++c) {
      if (keep[l[c]]) o[c] = 0;
    }
  }
  if (cut_touching && kept >= 3) KeepCharsTouchingBand(labels, stats, keep, &out);
  return out;
}

}  // namespace

cv::Mat StraightenRow(const cv::Mat& grey, const CharRow& row, int char_px, double margin_x,
                      double margin_y) {
  const double s = char_px / std::max(1.0, row.char_height);
  const double h = row.char_height;
  const int width =
      std::max(8, static_cast<int>(std::lround((row.Length() + 2 * margin_x * h) * s)));
  const int height = std::max(8, static_cast<int>(std::lround(h * (1 + 2 * margin_y) * s)));
  const cv::Point2f c = row.Center();
  const double cs = std::cos(row.angle), sn = std::sin(row.angle);
  // Destination (u, v) to source (x, y).
  cv::Mat m =
      (cv::Mat_<double>(2, 3) << cs / s, -sn / s, c.x - (width / 2.0 * cs - height / 2.0 * sn) / s,
       sn / s, cs / s, c.y - (width / 2.0 * sn + height / 2.0 * cs) / s);
  cv::Mat out;
  cv::warpAffine(grey, out, m, cv::Size(width, height), cv::INTER_CUBIC | cv::WARP_INVERSE_MAP,
                 cv::BORDER_REPLICATE);
  if (row.light_on_dark) cv::bitwise_not(out, out);
  return out;
}

double CharBandInk(const cv::Mat& otsu) {
  const cv::Rect band(0, otsu.rows / 2 - kCharPx / 3, otsu.cols, 2 * (kCharPx / 3));
  return cv::countNonZero(otsu(band)) / static_cast<double>(band.area());
}

double MarginInk(const cv::Mat& otsu) {
  const int x0 = otsu.cols / 4, width = otsu.cols / 2;
  const int above = otsu.rows / 2 - kCharPx / 2 - 3;
  const int below = otsu.rows / 2 + kCharPx / 2 + 3;
  int ink = 0, area = 0;
  if (above > 0) {
    const cv::Rect r(x0, 0, width, above);
    ink += cv::countNonZero(otsu(r));
    area += r.area();
  }
  if (below < otsu.rows) {
    const cv::Rect r(x0, below, width, otsu.rows - below);
    ink += cv::countNonZero(otsu(r));
    area += r.area();
  }
  return area > 0 ? ink / static_cast<double>(area) : 0;
}

RowImages PrepareRow(const cv::Mat& grey, const CharRow& row, bool band_only_polarity) {
  RowImages images;
  cv::Mat line = StraightenRow(grey, row, kCharPx, 0.45, 0.45);
  cv::normalize(line, line, 0, 255, cv::NORM_MINMAX);
  cv::Mat smooth, otsu;
  cv::GaussianBlur(line, smooth, cv::Size(3, 3), 0);
  cv::threshold(smooth, otsu, 0, 255, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
  // Characters cover less than half of their band, heavy condensed ones up to about 60 %:
  // when the dark class covers more, the row was found in the other polarity (the gaps
  // between characters) and the line is inverted. Unless the margins above and below the
  // characters are light: then the plate is light, and what darkens the band is beyond it
  // (a row that runs on past the plate's end over the car's darker body).
  if (CharBandInk(otsu) > 0.62 && (band_only_polarity || MarginInk(otsu) > 0.5)) {
    cv::bitwise_not(line, line);
    cv::GaussianBlur(line, smooth, cv::Size(3, 3), 0);
    cv::threshold(smooth, otsu, 0, 255, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
  }
  images.line = Unslant(line, otsu);
  cv::GaussianBlur(images.line, images.smooth, cv::Size(3, 3), 0);
  cv::threshold(images.smooth, images.otsu, 0, 255, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
  return images;
}

cv::Mat BinarisedLine(const RowImages& images, int way, bool cut_touching) {
  switch (way) {
    case 0:
      return CleanLine(images.otsu, cut_touching);
    case 1:
      return images.line;
    case 3: {
      bool cut = false;
      cv::Mat out = CleanLine(images.otsu, cut_touching, true, &cut);
      return cut ? out : cv::Mat();
    }
    default: {
      cv::Mat local;
      cv::adaptiveThreshold(images.smooth, local, 255, cv::ADAPTIVE_THRESH_MEAN_C,
                            cv::THRESH_BINARY_INV, kCharPx | 1, 6);
      return CleanLine(local, cut_touching);
    }
  }
}

std::vector<cv::Mat> LineGlyphs(const cv::Mat& clean) {
  cv::Mat ink = clean < 128;
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(ink, labels, stats, centroids, 8, CV_32S);
  struct Part {
    cv::Rect r;
    std::vector<int> ids;
  };
  std::vector<Part> parts;
  for (int i = 1; i < n; ++i) {
    const int* s = stats.ptr<int>(i);
    if (s[cv::CC_STAT_AREA] < 12) continue;
    parts.push_back({cv::Rect(s[cv::CC_STAT_LEFT], s[cv::CC_STAT_TOP], s[cv::CC_STAT_WIDTH],
                              s[cv::CC_STAT_HEIGHT]),
                     {i}});
  }
  std::sort(parts.begin(), parts.end(), [](const Part& a, const Part& b) { return a.r.x < b.r.x; });
  // Pieces of one broken character overlap in x: they are one glyph.
  std::vector<Part> glyphs;
  for (auto& p : parts) {
    if (!glyphs.empty()) {
      Part& last = glyphs.back();
      const int overlap =
          std::min(last.r.x + last.r.width, p.r.x + p.r.width) - std::max(last.r.x, p.r.x);
      if (overlap > 0.5 * std::min(last.r.width, p.r.width)) {
        last.r |= p.r;
        last.ids.insert(last.ids.end(), p.ids.begin(), p.ids.end());
        continue;
      }
    }
    glyphs.push_back(std::move(p));
  }
  if (glyphs.empty()) return {};
  std::vector<int> heights;
  heights.reserve(glyphs.size());
  for (const auto& g : glyphs) heights.push_back(g.r.height);
  std::nth_element(heights.begin(), heights.begin() + heights.size() / 2, heights.end());
  const double h = heights[heights.size() / 2];
  std::vector<cv::Mat> out;
  for (const auto& g : glyphs) {
    cv::Mat mask(g.r.size(), CV_8UC1, cv::Scalar(0));
    for (int r = 0; r < g.r.height; ++r) {
      const int* l = labels.ptr<int>(g.r.y + r) + g.r.x;
      uint8_t* m = mask.ptr<uint8_t>(r);
      for (int c = 0; c < g.r.width; ++c) {
        if (std::find(g.ids.begin(), g.ids.end(), l[c]) != g.ids.end()) m[c] = 255;
      }
    }
    // Characters joined by blur: a blob much wider than a character is cut at the columns of
    // least ink near the even division.
    const int parts_n = static_cast<int>(std::lround(g.r.width / (0.62 * h)));
    if (g.r.width > 1.05 * h && parts_n >= 2) {
      cv::Mat cols;
      cv::reduce(mask, cols, 0, cv::REDUCE_SUM, CV_32S);
      int from = 0;
      for (int k = 1; k <= parts_n; ++k) {
        int cut = g.r.width;
        if (k < parts_n) {
          const int guess = g.r.width * k / parts_n;
          const int span = std::max(1, g.r.width / (4 * parts_n));
          int best = cols.at<int>(0, guess);
          cut = guess;
          for (int x = std::max(from + 1, guess - span); x <= std::min(g.r.width - 1, guess + span);
               ++x) {
            if (cols.at<int>(0, x) < best) {
              best = cols.at<int>(0, x);
              cut = x;
            }
          }
        }
        if (cut > from) out.push_back(mask.colRange(from, cut).clone());
        from = cut;
      }
      continue;
    }
    out.push_back(mask);
  }
  return out;
}

std::vector<cv::Mat> RowBlobGlyphs(const cv::Mat& grey, const CharRow& row) {
  std::vector<cv::Mat> out;
  const cv::Rect frame(0, 0, grey.cols, grey.rows);
  for (const cv::Rect& r : row.chars) {
    const int m = std::max(1, r.height / 10);
    const cv::Rect box = cv::Rect(r.x - m, r.y - m, r.width + 2 * m, r.height + 2 * m) & frame;
    if (box.width < 2 || box.height < 4) {
      out.emplace_back();
      continue;
    }
    cv::Mat patch = grey(box).clone();
    if (row.light_on_dark) cv::bitwise_not(patch, patch);
    cv::Mat ink;
    cv::threshold(patch, ink, 0, 255, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
    // The character is the largest blob of the box; bits of neighbours and frame go.
    cv::Mat labels, stats, centroids;
    const int n = cv::connectedComponentsWithStats(ink, labels, stats, centroids, 8, CV_32S);
    int best = 0, best_area = 0;
    for (int i = 1; i < n; ++i) {
      const int area = stats.ptr<int>(i)[cv::CC_STAT_AREA];
      if (area > best_area) {
        best_area = area;
        best = i;
      }
    }
    if (best == 0) {
      out.emplace_back();
      continue;
    }
    out.push_back(labels == best);
  }
  return out;
}

PlateReading ReadRowBlobs(PlateReader& reader, const cv::Mat& grey, const CharRow& row) {
  PlateReading r;
  auto& impl = reader.impl();
  if (!impl.chars) return r;
  for (const cv::Mat& glyph : RowBlobGlyphs(grey, row)) {
    if (glyph.empty()) continue;
    CharChoices c = impl.chars->Classify(ImageFromMat(glyph));
    if (!c.empty()) r.push_back(std::move(c));
  }
  return r;
}

std::vector<PlateReading> ReadRowWay(PlateReader& reader, const RowImages& images, int way) {
  std::vector<PlateReading> out;
  const cv::Mat line = BinarisedLine(images, way);
  if (line.empty()) return out;
  auto& impl = reader.impl();
  {
    PlateReading r = impl.ReadLine(line);
    if (!r.empty()) out.push_back(std::move(r));
  }
  if (impl.chars && way != 1) {
    PlateReading r;
    for (const cv::Mat& glyph : LineGlyphs(line)) {
      CharChoices c = impl.chars->Classify(ImageFromMat(glyph));
      if (!c.empty()) r.push_back(std::move(c));
    }
    if (!r.empty()) out.push_back(std::move(r));
  }
  return out;
}

std::vector<PlateReading> ReadRow(PlateReader& reader, const cv::Mat& grey, const CharRow& row,
                                  int first_way, int last_way) {
  const RowImages images = PrepareRow(grey, row);
  std::vector<PlateReading> readings;
  for (int way = first_way; way <= last_way; ++way) {
    for (auto& r : ReadRowWay(reader, images, way)) readings.push_back(std::move(r));
  }
  return readings;
}

}  // namespace detail
}  // namespace scanline
