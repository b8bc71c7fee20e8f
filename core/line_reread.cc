// A second reading of chosen text lines (see core/line_reread.h).
//
// Choices a reader might question:
// - The cut follows the line's axis (a least-squares fit through its words' centres) and is
//   1.5 median word heights tall: psm 7 takes everything in the cut as one line, so parts of
//   the lines above and below, which a tilted line's axis-aligned box holds, must stay out.
// - The cut is grey and not binarised: Otsu on a short strip of a receipt read worse.
// - 64 and 40 pixels: two scales far enough apart that Tesseract's readings differ where it
//   is unsure; chosen on receipts 000-049 of the accuracy benchmark (64 and 48, 80 and 40
//   scored within a receipt or two of it; 48 and 32 lower).
#include "core/line_reread.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "core/detail/image_mat.h"
#include "core/error.h"

namespace scanline {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double kMaxScale = 4;
// Of the median word height: paper kept above and below the line's axis, each side.
constexpr double kBandMargin = 0.25;
// Of the median word height: paper kept left and right of the line's box.
constexpr double kSideMargin = 0.5;

// The line of `page` with exactly this box, or null.
OcrLine* FindLine(OcrPage& page, const PixelBox& box) {
  for (OcrBlock& block : page.blocks) {
    for (OcrLine& line : block.lines) {
      if (line.box == box) return &line;
    }
  }
  return nullptr;
}

// Where a line lies on its page: a point on its axis, the axis's slope, its words' median
// height.
struct LineAxis {
  double x = 0;
  double y = 0;
  double slope = 0;  // dy/dx, pixels
  int word_height = 0;
};

bool AxisOf(const OcrLine& line, LineAxis& axis) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0;
  std::vector<int> heights;
  for (const OcrWord& w : line.words) {
    if (w.box.w <= 0 || w.box.h <= 0) continue;
    const double cx = w.box.x + w.box.w / 2.0, cy = w.box.y + w.box.h / 2.0;
    sx += cx, sy += cy, sxx += cx * cx, sxy += cx * cy, n += 1;
    heights.push_back(w.box.h);
  }
  if (n == 0) return false;
  std::nth_element(heights.begin(), heights.begin() + static_cast<std::ptrdiff_t>(n / 2),
                   heights.end());
  axis.word_height = heights[heights.size() / 2];
  const double spread = sxx - sx * sx / n;
  axis.slope = n >= 2 && spread > 1e-6 ? std::clamp((sxy - sx * sy / n) / spread, -0.1, 0.1) : 0;
  axis.x = line.box.x + line.box.w / 2.0;
  axis.y = sy / n + axis.slope * (axis.x - sx / n);
  return true;
}

// One reading of the line along `axis`, its word height scaled to `height` pixels; word boxes
// in page pixels.
std::vector<OcrWord> ReadLine(OcrEngines& engines, const cv::Mat& grey, const PixelBox& box,
                              const LineAxis& axis, double height, const std::string& lang,
                              Clock::time_point deadline) {
  const double scale = std::clamp(height / axis.word_height, 1.0, kMaxScale);
  const int out_w =
      static_cast<int>(std::lround((box.w + 2 * kSideMargin * axis.word_height) * scale));
  const int out_h = static_cast<int>(std::lround(axis.word_height * (1 + 2 * kBandMargin) * scale));
  const double theta = std::atan(axis.slope), cs = std::cos(theta), sn = std::sin(theta);
  // page -> cut: scale * R * (p - axis point) + cut centre; R turns the axis level.
  cv::Matx23d forward(scale * cs, scale * sn, 0, -scale * sn, scale * cs, 0);
  forward(0, 2) = out_w / 2.0 - (forward(0, 0) * axis.x + forward(0, 1) * axis.y);
  forward(1, 2) = out_h / 2.0 - (forward(1, 0) * axis.x + forward(1, 1) * axis.y);
  cv::Mat cut;
  cv::warpAffine(grey, cut, forward, cv::Size(out_w, out_h), cv::INTER_CUBIC, cv::BORDER_REPLICATE);
  // A margin of paper (the cut's 90th percentile of brightness) around the line, as
  // Tesseract expects around text.
  std::vector<uchar> values(cut.begin<uchar>(), cut.end<uchar>());
  const auto at = values.begin() + static_cast<std::ptrdiff_t>(values.size() * 9 / 10);
  std::nth_element(values.begin(), at, values.end());
  const int border = static_cast<int>(std::lround(height / 2));
  cv::Mat framed;
  cv::copyMakeBorder(cut, framed, border, border, border, border, cv::BORDER_CONSTANT,
                     cv::Scalar(*at));

  OcrOptions o;
  o.lang = lang;
  o.psm = 7;
  o.preprocess.mode = PreprocessOptions::Mode::kNone;
  o.level = OcrLevel::kWords;
  OcrPage read = Recognize(engines, ImageFromMat(framed), o, deadline);
  TidyWords(read.blocks);
  std::vector<OcrWord> words;
  for (const OcrBlock& b : read.blocks) {
    for (const OcrLine& l : b.lines) {
      for (OcrWord w : l.words) {
        // cut -> page: the inverse of `forward` at the box's corners, their bounding box.
        double x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
        for (int corner = 0; corner < 4; ++corner) {
          const double u = (w.box.x - border + (corner & 1 ? w.box.w : 0) - out_w / 2.0) / scale;
          const double v = (w.box.y - border + (corner & 2 ? w.box.h : 0) - out_h / 2.0) / scale;
          const double x = axis.x + cs * u - sn * v, y = axis.y + sn * u + cs * v;
          x0 = std::min(x0, x), y0 = std::min(y0, y), x1 = std::max(x1, x), y1 = std::max(y1, y);
        }
        w.box = {static_cast<int>(std::lround(x0)), static_cast<int>(std::lround(y0)),
                 static_cast<int>(std::lround(x1 - x0)), static_cast<int>(std::lround(y1 - y0))};
        words.push_back(std::move(w));
      }
    }
  }
  return words;
}

bool SameWords(const std::vector<OcrWord>& a, const std::vector<OcrWord>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const OcrWord& x, const OcrWord& y) { return x.text == y.text; });
}

}  // namespace

LineRereadResult RereadLines(OcrEngines& engines, const std::vector<Image>& images,
                             const std::vector<LineRef>& lines, const LineRereadOptions& options,
                             std::vector<OcrPage>& pages) {
  const auto start = Clock::now();
  LineRereadResult result;
  std::vector<cv::Mat> greys(images.size());
  for (const LineRef& ref : lines) {
    if (Clock::now() >= options.deadline) break;
    if (ref.page < 0 || static_cast<size_t>(ref.page) >= pages.size() ||
        static_cast<size_t>(ref.page) >= images.size() || images[ref.page].empty()) {
      continue;
    }
    OcrLine* line = FindLine(pages[ref.page], ref.box);
    LineAxis axis;
    if (line == nullptr || ref.box.w <= 0 || !AxisOf(*line, axis)) continue;
    cv::Mat& grey = greys[ref.page];
    if (grey.empty()) {
      const cv::Mat& page = MatOf(images[ref.page]);
      if (page.channels() == 3) {
        cv::cvtColor(page, grey, cv::COLOR_BGR2GRAY);
      } else {
        grey = page;
      }
    }
    std::vector<OcrWord> first, second;
    try {
      first = ReadLine(engines, grey, ref.box, axis, options.first_height, options.lang,
                       options.deadline);
      second = ReadLine(engines, grey, ref.box, axis, options.second_height, options.lang,
                        options.deadline);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::kDeadlineExceeded) break;
      throw;
    }
    ++result.reread;
    if (first.empty() || !SameWords(first, second) || SameWords(first, line->words)) continue;
    double sum = 0;
    line->text.clear();
    for (size_t i = 0; i < first.size(); ++i) {
      first[i].confidence = std::min(first[i].confidence, second[i].confidence);
      sum += first[i].confidence;
      line->text += (i ? " " : "") + first[i].text;
    }
    line->words = std::move(first);
    line->confidence = static_cast<float>(sum / static_cast<double>(line->words.size()));
    ++result.replaced;
  }
  result.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return result;
}

}  // namespace scanline
