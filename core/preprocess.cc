// Page preparation (see core/preprocess.h).
//
// Choices a reader might question:
// - Measuring uses a local (adaptive) threshold, not Otsu: one global level misreads pages
//   with uneven light, and every measure below is taken from the ink it finds.
// - The skew is found by Leptonica's sweep-and-search over shears of a reduced binary page
//   (pixFindSkewSweepAndSearch), a well-tried method, rather than by our own projection
//   search. Below its confidence threshold the page is taken as level.
// - Binarisation is Sauvola's local threshold (Sauvola and Pietikainen, Pattern Recognition
//   33, 2000) with k = 0.2 and R = 128 over a window of about three character heights,
//   computed with box filters in O(pixels). Tesseract's own binarisation is one global Otsu
//   level, which loses text on shaded or unevenly lit paper.
// - Upscaling uses cubic interpolation toward kTargetCharHeight; beyond 4x the interpolation
//   adds nothing.
// - auto does not binarise clean pages: Tesseract's line recogniser reads the grey image it
//   was given, and a hard threshold takes away the grey edges it reads best from. Measured
//   on the receipts of the accuracy benchmark, binarising every page cost 4 points of word F1.
// - The character height is the median of components that sit in lines of text (a like
//   neighbour beside each), not of every character-sized component: on receipts with
//   stains, speckle or dashed rules the plain median measured a third of the real height
//   and auto upscaled 3x what needed none.
// - Dot-matrix print is joined by a grey closing rather than read as dots: Tesseract's
//   layout analysis takes separate dots for noise (one such receipt read 0.12 word F1
//   upscaled as dots, 0.72 joined).
// - Geometric steps are kept as 3x3 matrices from the prepared image back to the input, so
//   boxes can be mapped whatever combination ran.
#include "core/preprocess.h"

#include <leptonica/allheaders.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <opencv2/imgproc.hpp>

#include "core/detail/image_mat.h"
#include "core/error.h"

namespace scanline {
namespace {

constexpr PreprocessStep kOrder[] = {
    PreprocessStep::kGrey,    PreprocessStep::kOrient,   PreprocessStep::kBorder,
    PreprocessStep::kDeskew,  PreprocessStep::kUpscale,  PreprocessStep::kJoin,
    PreprocessStep::kDenoise, PreprocessStep::kBinarise,
};

// pixels: the median character height upscaling aims at. Tesseract's line recogniser
// rescales every text line itself; what small text lacks is enough pixels for the layout
// analysis and the threshold to keep strokes apart. 24 read best on the tuning subset of the
// accuracy benchmark (every 10th page); 30 and 40 cost time and read no better.
constexpr double kTargetCharHeight = 24;
// auto upscales pages whose median character is smaller than this.
constexpr double kUpscaleBelow = 22;
constexpr double kMaxUpscale = 4;
// The prepared page stays below this many pixels, whatever the scale asks for.
constexpr double kMaxPreparedPixels = 60e6;
// dots per inch per pixel of median character height, for the resolution auto reports: a
// character 24 pixels tall is 8-point print at 300 dpi. Tesseract otherwise guesses the
// resolution of a bare bitmap from its text; its layout analysis (noise and rule sizes)
// scales with it. Telling it the measured one read 1.3 points of word F1 better on the
// receipts' tuning subset and 3.6 on the forms'.
constexpr double kDpiPerCharPixel = 12.5;
constexpr double kMinResolution = 150;
constexpr double kMaxResolution = 600;
// Joining dots 1-2 pixels apart makes components at least this much taller when the print is
// made of dots: on the receipts, dot-matrix pages measure 2.6-5, all others below 1.6.
constexpr double kDotPrintRatio = 2;
// auto deskews beyond this angle (degrees); smaller skews do not hurt Tesseract.
constexpr double kDeskewAbove = 0.4;
constexpr double kMaxSkew = 15;
// pixels of input: the gaps between dots the join step bridges, as the measurement does.
constexpr double kDotGap = 3;
// Joining dots 1-2 pixels apart multiplies the character-sized components by more than this
// on a halftone page (3.8 on the one receipt that is one; below 1.2 on the others).
constexpr double kHalftoneRatio = 2;
// auto removes speckle when this fraction of ink components are specks.
constexpr double kNoisyAbove = 0.35;
// auto binarises only when the paper's brightness varies this much over the page (0..255):
// shadows and uneven light that one global threshold cannot split. Faint but evenly lit
// print is left grey: Tesseract's line recogniser reads the grey image, and on the receipts
// of the accuracy benchmark binarising faint pages cost up to 30 points of word F1 each.
constexpr double kUnevenAbove = 100;

bool Has(const std::vector<PreprocessStep>& steps, PreprocessStep step) {
  return std::find(steps.begin(), steps.end(), step) != steps.end();
}

cv::Mat Grey(const cv::Mat& mat) {
  if (mat.channels() == 1) return mat;
  cv::Mat grey;
  cv::cvtColor(mat, grey, cv::COLOR_BGR2GRAY);
  return grey;
}

using Matrix = cv::Matx33d;

// The 3x3 form of a 2x3 affine map.
Matrix Affine3(const cv::Mat& m) {
  return Matrix(m.at<double>(0, 0), m.at<double>(0, 1), m.at<double>(0, 2), m.at<double>(1, 0),
                m.at<double>(1, 1), m.at<double>(1, 2), 0, 0, 1);
}

std::string Format(const char* fmt, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, value);
  return buf;
}

// An odd window size >= 3.
int OddWindow(double size) {
  int w = std::max(3, static_cast<int>(std::lround(size)));
  return w | 1;
}

// Ink as 255 on 0, from a local mean threshold (robust to uneven light). `char_height`
// sizes the window; 0 = unknown.
cv::Mat InkMask(const cv::Mat& grey, double char_height = 0) {
  const int window = OddWindow(
      char_height > 0 ? char_height * 2.5 : std::max(15.0, std::min(grey.cols, grey.rows) / 40.0));
  cv::Mat mask;
  cv::adaptiveThreshold(grey, mask, 255, cv::ADAPTIVE_THRESH_MEAN_C, cv::THRESH_BINARY_INV, window,
                        12);
  return mask;
}

double Percentile(const cv::Mat& grey, double fraction, const cv::Mat& where = cv::Mat()) {
  int histogram[256] = {};
  int64_t total = 0;
  for (int y = 0; y < grey.rows; ++y) {
    const uchar* row = grey.ptr<uchar>(y);
    const uchar* m = where.empty() ? nullptr : where.ptr<uchar>(y);
    for (int x = 0; x < grey.cols; ++x) {
      if (m && !m[x]) continue;
      ++histogram[row[x]];
      ++total;
    }
  }
  if (total == 0) return 0;
  const int64_t want = static_cast<int64_t>(fraction * static_cast<double>(total));
  int64_t seen = 0;
  for (int v = 0; v < 256; ++v) {
    seen += histogram[v];
    if (seen > want) return v;
  }
  return 255;
}

struct PixDeleter {
  void operator()(PIX* pix) const { pixDestroy(&pix); }
};
using PixPtr = std::unique_ptr<PIX, PixDeleter>;

// Leptonica's skew of an ink mask (255 = ink), degrees; 0 when it is not confident.
double FindSkew(const cv::Mat& mask) {
  PixPtr pix(pixCreate(mask.cols, mask.rows, 1));
  if (!pix) return 0;
  l_uint32* data = pixGetData(pix.get());
  const int wpl = pixGetWpl(pix.get());
  for (int y = 0; y < mask.rows; ++y) {
    const uchar* row = mask.ptr<uchar>(y);
    l_uint32* line = data + static_cast<ptrdiff_t>(y) * wpl;
    for (int x = 0; x < mask.cols; ++x) {
      if (row[x]) SET_DATA_BIT(line, x);
    }
  }
  l_float32 angle = 0, conf = 0;
  // Reductions 4 and 2 as pixFindSkew uses, swept over +-kMaxSkew in 1-degree steps, then
  // binary search to 0.01 degree.
  const int reduce = std::min(mask.cols, mask.rows) >= 800 ? 4 : 2;
  if (pixFindSkewSweepAndSearch(pix.get(), &angle, &conf, reduce, std::min(reduce, 2),
                                static_cast<l_float32>(kMaxSkew), 1.0f, 0.01f) != 0) {
    return 0;
  }
  // Leptonica's own validity threshold for the score ratio is 3.
  if (conf < 3.0f || std::abs(angle) > kMaxSkew) return 0;
  // Leptonica's angle is positive for text rising to the right, as ours.
  return angle;
}

// Whether characters follow each other down the page rather than across: within a line,
// a character's nearest neighbour is the next character (about half a character height
// away), closer than any character of the next line. `centres` are character components.
bool LooksVertical(const std::vector<cv::Point2d>& centres) {
  if (centres.size() < 10) return false;
  const size_t n = std::min<size_t>(centres.size(), 3000);
  const size_t step = centres.size() / n;
  int across = 0, down = 0;
  for (size_t i = 0; i < centres.size(); i += step) {
    double best = 1e300;
    cv::Point2d nearest;
    for (size_t j = 0; j < centres.size(); j += step) {
      if (j == i) continue;
      const cv::Point2d d = centres[j] - centres[i];
      const double dist = d.dot(d);
      if (dist < best) {
        best = dist;
        nearest = d;
      }
    }
    if (std::abs(nearest.x) > std::abs(nearest.y))
      ++across;
    else
      ++down;
  }
  return down > 2 * across;
}

// Character-sized connected components of an ink mask, and the specks among all of them.
struct Components {
  std::vector<double> heights;
  std::vector<cv::Point2d> centres;
  std::vector<cv::Rect> boxes;
  int specks = 0;      // components of 1-2 pixels
  int components = 0;  // all components
};

Components CharacterComponents(const cv::Mat& mask, int max_h) {
  Components out;
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8);
  for (int i = 1; i < n; ++i) {
    const int w = stats.at<int>(i, cv::CC_STAT_WIDTH), h = stats.at<int>(i, cv::CC_STAT_HEIGHT);
    const int area = stats.at<int>(i, cv::CC_STAT_AREA);
    ++out.components;
    if (area <= 2) {
      ++out.specks;
      continue;
    }
    // Character-sized: taller than a few pixels, not a line or a picture, some ink in its box.
    if (h >= 4 && h <= max_h && w <= 3 * h && w * 8 >= h && area * 10 >= w * h) {
      out.heights.push_back(h);
      out.centres.emplace_back(centroids.at<double>(i, 0), centroids.at<double>(i, 1));
      out.boxes.emplace_back(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                             w, h);
    }
  }
  return out;
}

// The heights of the components that sit in a line of text: another of about the same
// height (within 1.5x) beside it, less than two heights away, on the same baseline or centre
// line. Speckle, stains and the dashes of rules are mostly alone.
std::vector<double> InLineHeights(const Components& c) {
  const size_t n = c.boxes.size();
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return c.boxes[a].x < c.boxes[b].x; });
  std::vector<char> in_line(n, 0);
  for (size_t oi = 0; oi < n; ++oi) {
    const cv::Rect& a = c.boxes[order[oi]];
    for (size_t oj = oi + 1; oj < n; ++oj) {
      const cv::Rect& b = c.boxes[order[oj]];
      if (b.x > a.x + a.width + 2 * a.height) break;
      const double ratio = static_cast<double>(b.height) / a.height;
      if (ratio < 1 / 1.5 || ratio > 1.5) continue;
      const int tol = std::max(2, std::min(a.height, b.height) / 4);
      const bool baseline = std::abs((a.y + a.height) - (b.y + b.height)) <= tol;
      const bool centre = std::abs((2 * a.y + a.height) - (2 * b.y + b.height)) <= 2 * tol;
      if (baseline || centre) in_line[order[oi]] = in_line[order[oj]] = 1;
    }
  }
  std::vector<double> out;
  for (size_t i = 0; i < n; ++i) {
    if (in_line[i]) out.push_back(c.boxes[i].height);
  }
  return out;
}

// The median of `values` (reordered); 0 when empty.
double MedianOf(std::vector<double>& values) {
  if (values.empty()) return 0;
  std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
  return values[values.size() / 2];
}

PageMeasures Measure(const cv::Mat& grey) {
  PageMeasures m;
  if (grey.empty()) return m;
  // Large pages are measured at a reduced size: the measures are ratios or scaled back.
  double factor = 1;
  cv::Mat work = grey;
  const double pixels = static_cast<double>(grey.total());
  if (pixels > 6e6) {
    factor = std::sqrt(6e6 / pixels);
    cv::resize(grey, work, cv::Size(), factor, factor, cv::INTER_AREA);
  }

  cv::Mat mask = InkMask(work);
  const int max_h = std::max(8, work.rows / 8);
  Components raw = CharacterComponents(mask, max_h);
  // Print made of separate dots (dot-matrix, or a halftone) measures as dots: join dots a
  // pixel or two apart and measure again.
  cv::Mat joined_mask;
  cv::morphologyEx(mask, joined_mask, cv::MORPH_CLOSE,
                   cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3)));
  Components joined = CharacterComponents(joined_mask, max_h);
  const double raw_h = MedianOf(raw.heights), joined_h = MedianOf(joined.heights);
  const std::vector<cv::Point2d>& centres = raw.centres;
  // Characters in lines of text, when there are enough of them; else every character-sized
  // component.
  std::vector<double> in_line = InLineHeights(raw);
  if (in_line.size() >= 5) {
    m.char_height = MedianOf(in_line) / factor;
  } else if (raw.heights.size() >= 5) {
    m.char_height = raw_h / factor;
  }
  m.noise = raw.components > 0 ? static_cast<double>(raw.specks) / raw.components : 0;
  // Dots too small to pass for characters leave none at all before joining. Speckle joins
  // into blobs too: a page mostly of specks is noisy, not dot-matrix print.
  if (m.noise <= kNoisyAbove && joined.heights.size() >= 5 &&
      (raw.heights.size() < 5 || joined_h >= kDotPrintRatio * raw_h)) {
    m.dot_print = true;
    m.char_height = joined_h / factor;
  }
  // A halftone (grey scanned as a dither of dots): joining its dots makes more
  // character-sized clusters, not fewer as letters joining into words do; the clusters hide
  // the characters' height. Characters are measured as the denoise step will leave them.
  if (raw.heights.size() >= 5 &&
      static_cast<double>(joined.heights.size()) > kHalftoneRatio * raw.heights.size()) {
    m.halftone = true;
    cv::Mat clean;
    cv::medianBlur(work, clean, 3);
    Components cleaned = CharacterComponents(InkMask(clean), max_h);
    if (cleaned.heights.size() >= 5) m.char_height = MedianOf(cleaned.heights) / factor;
  }

  // Contrast: paper (the light pixels outside ink) against ink (dark pixels inside it).
  cv::Mat paper_mask;
  cv::bitwise_not(mask, paper_mask);
  const double paper = Percentile(work, 0.5, paper_mask);
  const double ink = cv::countNonZero(mask) > 0 ? Percentile(work, 0.5, mask) : paper;
  m.contrast = std::max(0.0, paper - ink);

  // Background spread: the page's brightness with ink closed away, smoothed, then the range
  // between its 5th and 95th percentiles.
  {
    cv::Mat small;
    const double s = std::min(1.0, 400.0 / std::max(work.cols, work.rows));
    cv::resize(work, small, cv::Size(), s, s, cv::INTER_AREA);
    cv::Mat background;
    cv::morphologyEx(small, background, cv::MORPH_CLOSE,
                     cv::getStructuringElement(cv::MORPH_RECT, cv::Size(9, 9)));
    cv::blur(background, background, cv::Size(15, 15));
    // Leave out a margin: borders are measured on their own.
    const int mx = background.cols / 10, my = background.rows / 10;
    cv::Mat inner =
        background(cv::Rect(mx, my, background.cols - 2 * mx, background.rows - 2 * my));
    m.background = Percentile(inner, 0.95) - Percentile(inner, 0.05);
  }

  // Dark border: a band along an edge where most pixels are much darker than the paper.
  {
    const int band_x = std::max(2, work.cols / 50), band_y = std::max(2, work.rows / 50);
    const double dark = paper - std::max(60.0, m.contrast * 0.6);
    auto mostly_dark = [&](cv::Rect r) {
      cv::Mat strip = work(r & cv::Rect(0, 0, work.cols, work.rows));
      if (strip.empty()) return false;
      cv::Mat below;
      cv::compare(strip, dark, below, cv::CMP_LT);
      return cv::countNonZero(below) > 0.6 * static_cast<double>(strip.total());
    };
    m.dark_border = mostly_dark({0, 0, band_x, work.rows}) ||
                    mostly_dark({work.cols - band_x, 0, band_x, work.rows}) ||
                    mostly_dark({0, 0, work.cols, band_y}) ||
                    mostly_dark({0, work.rows - band_y, work.cols, band_y});
  }

  m.skew_degrees = FindSkew(mask);
  m.vertical_text = LooksVertical(centres);
  return m;
}

// The steps `auto` runs for a page measured as `m`.
std::vector<PreprocessStep> AutoSteps(const PageMeasures& m, bool can_orient) {
  std::vector<PreprocessStep> steps = {PreprocessStep::kGrey};
  if (m.char_height <= 0) return steps;  // no text found: leave the page to Tesseract
  if (can_orient && m.vertical_text) steps.push_back(PreprocessStep::kOrient);
  if (m.dark_border) steps.push_back(PreprocessStep::kBorder);
  if (std::abs(m.skew_degrees) > kDeskewAbove) steps.push_back(PreprocessStep::kDeskew);
  if (m.char_height < kUpscaleBelow) steps.push_back(PreprocessStep::kUpscale);
  if (m.dot_print) steps.push_back(PreprocessStep::kJoin);
  if (m.noise > kNoisyAbove || m.halftone) steps.push_back(PreprocessStep::kDenoise);
  if (m.background > kUnevenAbove) steps.push_back(PreprocessStep::kBinarise);
  return steps;
}

// The working state of one preparation.
struct Page {
  cv::Mat mat;
  Matrix to_input = Matrix::eye();
  double scale = 1;
  std::vector<std::string> applied;

  // Records a geometric step given by its forward map from the current page.
  void Moved(const Matrix& forward) { to_input = to_input * forward.inv(); }
};

double PaperLevel(const cv::Mat& grey) { return Percentile(grey, 0.9); }

void Orient(Page& page, const OrientationDetector& detect) {
  const int degrees = detect(ImageFromMat(page.mat));
  if (degrees != 90 && degrees != 180 && degrees != 270) {
    page.applied.push_back("orient:0");
    return;
  }
  const int w = page.mat.cols, h = page.mat.rows;
  cv::Mat turned;
  Matrix forward;
  if (degrees == 90) {  // clockwise: (x, y) -> (h-1-y, x)
    cv::rotate(page.mat, turned, cv::ROTATE_90_CLOCKWISE);
    forward = Matrix(0, -1, h - 1, 1, 0, 0, 0, 0, 1);
  } else if (degrees == 180) {
    cv::rotate(page.mat, turned, cv::ROTATE_180);
    forward = Matrix(-1, 0, w - 1, 0, -1, h - 1, 0, 0, 1);
  } else {  // 270 clockwise: (x, y) -> (y, w-1-x)
    cv::rotate(page.mat, turned, cv::ROTATE_90_COUNTERCLOCKWISE);
    forward = Matrix(0, 1, 0, -1, 0, w - 1, 0, 0, 1);
  }
  page.mat = turned;
  page.Moved(forward);
  page.applied.push_back("orient:" + std::to_string(degrees));
}

// Crops dark bands along the edges, then empty margins beyond a little padding.
void RemoveBorder(Page& page) {
  const cv::Mat& grey = page.mat;
  const double paper = PaperLevel(grey);
  cv::Mat dark;
  cv::compare(grey, std::max(0.0, paper - 80), dark, cv::CMP_LT);
  int top = 0, bottom = grey.rows, left = 0, right = grey.cols;
  auto row_dark = [&](int y) {
    return cv::countNonZero(dark.row(y)(cv::Range::all(), cv::Range(left, right))) >
           0.5 * (right - left);
  };
  auto col_dark = [&](int x) {
    return cv::countNonZero(dark.col(x)(cv::Range(top, bottom), cv::Range::all())) >
           0.5 * (bottom - top);
  };
  // Bands at most a quarter of the page deep; two passes catch corners.
  for (int pass = 0; pass < 2; ++pass) {
    while (top < grey.rows / 4 && row_dark(top)) ++top;
    while (bottom > grey.rows * 3 / 4 && row_dark(bottom - 1)) --bottom;
    while (left < grey.cols / 4 && col_dark(left)) ++left;
    while (right > grey.cols * 3 / 4 && col_dark(right - 1)) --right;
  }
  // A band's inner edge is often a shadow: step a little further in.
  const int pad_x = std::max(2, grey.cols / 200), pad_y = std::max(2, grey.rows / 200);
  if (left > 0) left = std::min(left + pad_x, right - 1);
  if (right < grey.cols) right = std::max(right - pad_x, left + 1);
  if (top > 0) top = std::min(top + pad_y, bottom - 1);
  if (bottom < grey.rows) bottom = std::max(bottom - pad_y, top + 1);
  cv::Rect inner(left, top, right - left, bottom - top);

  // Empty margins: the bounding box of ink inside, with a margin of paper kept around it.
  cv::Mat mask = InkMask(grey(inner));
  cv::Mat open;
  cv::morphologyEx(mask, open, cv::MORPH_OPEN,
                   cv::getStructuringElement(cv::MORPH_RECT, cv::Size(2, 2)));
  cv::Rect ink = cv::boundingRect(open);
  if (ink.area() > 0) {
    const int margin = std::max(10, std::min(inner.width, inner.height) / 50);
    ink.x -= margin;
    ink.y -= margin;
    ink.width += 2 * margin;
    ink.height += 2 * margin;
    ink &= cv::Rect(0, 0, inner.width, inner.height);
    inner = cv::Rect(inner.x + ink.x, inner.y + ink.y, ink.width, ink.height);
  }
  if (inner.width < 8 || inner.height < 8 || inner == cv::Rect(0, 0, grey.cols, grey.rows)) {
    page.applied.push_back("border:0");
    return;
  }
  page.mat = grey(inner).clone();
  page.Moved(Matrix(1, 0, -inner.x, 0, 1, -inner.y, 0, 0, 1));
  page.applied.push_back("border:" + std::to_string(inner.x) + "," + std::to_string(inner.y) + "," +
                         std::to_string(inner.width) + "," + std::to_string(inner.height));
}

void Deskew(Page& page, double skew) {
  if (std::abs(skew) < 0.05) {
    page.applied.push_back("deskew:0");
    return;
  }
  const cv::Mat& grey = page.mat;
  const cv::Point2f centre(grey.cols / 2.0f, grey.rows / 2.0f);
  // Positive skew rises to the right: turn clockwise, which getRotationMatrix2D spells as a
  // negative angle in image coordinates (y down).
  cv::Mat forward = cv::getRotationMatrix2D(centre, -skew, 1.0);
  const double rad = skew * CV_PI / 180;
  const double c = std::abs(std::cos(rad)), s = std::abs(std::sin(rad));
  const int w = static_cast<int>(std::ceil(grey.cols * c + grey.rows * s));
  const int h = static_cast<int>(std::ceil(grey.cols * s + grey.rows * c));
  forward.at<double>(0, 2) += (w - grey.cols) / 2.0;
  forward.at<double>(1, 2) += (h - grey.rows) / 2.0;
  cv::Mat level;
  cv::warpAffine(grey, level, forward, cv::Size(w, h), cv::INTER_LINEAR, cv::BORDER_CONSTANT,
                 cv::Scalar(PaperLevel(grey)));
  page.mat = level;
  page.Moved(Affine3(forward));
  page.applied.push_back(Format("deskew:%.2f", skew));
}

void Upscale(Page& page, double char_height) {
  double factor = char_height > 0 ? kTargetCharHeight / char_height : 1;
  factor = std::min(factor, kMaxUpscale);
  const double pixels = static_cast<double>(page.mat.total());
  factor = std::min(factor, std::sqrt(kMaxPreparedPixels / std::max(1.0, pixels)));
  if (factor < 1.05) {
    page.applied.push_back("upscale:1.00");
    return;
  }
  cv::Mat big;
  cv::resize(page.mat, big, cv::Size(), factor, factor, cv::INTER_CUBIC);
  const double fx = static_cast<double>(big.cols) / page.mat.cols;
  const double fy = static_cast<double>(big.rows) / page.mat.rows;
  page.mat = big;
  page.Moved(Matrix(fx, 0, 0, 0, fy, 0, 0, 0, 1));
  page.scale *= factor;
  page.applied.push_back(Format("upscale:%.2f", factor));
}

// Dark ink spread over gaps between dots of about `gap` pixels: a grey closing of the ink
// (a minimum filter, then a maximum filter, of the brightness).
void JoinDots(Page& page, double gap) {
  const int size = OddWindow(gap);
  cv::Mat joined;
  cv::morphologyEx(page.mat, joined, cv::MORPH_OPEN,
                   cv::getStructuringElement(cv::MORPH_RECT, cv::Size(size, size)));
  page.mat = joined;
  page.applied.push_back("join:" + std::to_string(size));
}

// A 3x3 median; on a halftone, over 3x3 input pixels however far the page was upscaled, so
// the dither's dots go and the characters' strokes stay.
void Denoise(Page& page, bool halftone) {
  const int size = halftone ? OddWindow(3 * page.scale) : 3;
  cv::Mat clean;
  cv::medianBlur(page.mat, clean, size);
  page.mat = clean;
  page.applied.push_back(size == 3 ? "denoise" : "denoise:" + std::to_string(size));
}

// Sauvola: threshold = mean * (1 + k * (stddev / R - 1)), per pixel over a window.
void Binarise(Page& page, double char_height, bool despeckle) {
  const cv::Mat& grey = page.mat;
  const int window = OddWindow(std::max(15.0, char_height > 0 ? char_height * 3 : 31.0));
  constexpr double k = 0.2, r = 128;
  cv::Mat f, mean, sq_mean;
  grey.convertTo(f, CV_32F);
  cv::boxFilter(f, mean, CV_32F, cv::Size(window, window), cv::Point(-1, -1), true,
                cv::BORDER_REPLICATE);
  cv::boxFilter(f.mul(f), sq_mean, CV_32F, cv::Size(window, window), cv::Point(-1, -1), true,
                cv::BORDER_REPLICATE);
  cv::Mat variance = sq_mean - mean.mul(mean);
  cv::max(variance, 0, variance);
  cv::Mat deviation;
  cv::sqrt(variance, deviation);
  cv::Mat threshold = mean.mul(1 + k * (deviation / r - 1));
  cv::Mat ink;
  cv::compare(f, threshold, ink, cv::CMP_LE);
  // Flat paper has a tiny deviation and a threshold close to its mean; keep it white unless
  // it is clearly darker than the page's paper.
  const double paper = PaperLevel(grey);
  cv::Mat dark;
  cv::compare(grey, paper - 25, dark, cv::CMP_LT);
  cv::bitwise_and(ink, dark, ink);
  int removed = 0;
  if (despeckle) {
    // Specks much smaller than a character's dot.
    const double unit = char_height > 0 ? char_height : 20;
    const int min_area = std::max(2, static_cast<int>(unit * unit / 150));
    cv::Mat labels, stats, centroids;
    const int n = cv::connectedComponentsWithStats(ink, labels, stats, centroids, 8, CV_32S);
    std::vector<uchar> drop(static_cast<size_t>(n), 0);
    for (int i = 1; i < n; ++i) {
      if (stats.at<int>(i, cv::CC_STAT_AREA) < min_area) {
        drop[static_cast<size_t>(i)] = 1;
        ++removed;
      }
    }
    if (removed > 0) {
      for (int y = 0; y < ink.rows; ++y) {
        uchar* row = ink.ptr<uchar>(y);
        const int* label = labels.ptr<int>(y);
        for (int x = 0; x < ink.cols; ++x) {
          if (row[x] && drop[static_cast<size_t>(label[x])]) row[x] = 0;
        }
      }
    }
  }
  cv::Mat out;
  cv::bitwise_not(ink, out);  // black text on white
  page.mat = out;
  page.applied.push_back("binarise");
}

}  // namespace

std::string_view StepName(PreprocessStep step) {
  switch (step) {
    case PreprocessStep::kGrey:
      return "grey";
    case PreprocessStep::kOrient:
      return "orient";
    case PreprocessStep::kBorder:
      return "border";
    case PreprocessStep::kDeskew:
      return "deskew";
    case PreprocessStep::kUpscale:
      return "upscale";
    case PreprocessStep::kJoin:
      return "join";
    case PreprocessStep::kDenoise:
      return "denoise";
    case PreprocessStep::kBinarise:
      return "binarise";
  }
  return "?";
}

PreprocessOptions ParsePreprocess(std::string_view text) {
  PreprocessOptions options;
  if (text == "auto") return options;
  if (text == "none") {
    options.mode = PreprocessOptions::Mode::kNone;
    return options;
  }
  options.mode = PreprocessOptions::Mode::kSteps;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view name = text.substr(start, comma - start);
    bool found = false;
    for (PreprocessStep step : kOrder) {
      if (StepName(step) == name) {
        if (!Has(options.steps, step)) options.steps.push_back(step);
        found = true;
      }
    }
    if (!found) {
      throw InvalidOption("preprocess", "unknown step '" + std::string(name) +
                                            "'; use auto, none, or a comma list of grey, "
                                            "orient, border, deskew, upscale, join, denoise, "
                                            "binarise");
    }
    start = comma + 1;
  }
  return options;
}

std::string PreprocessText(const PreprocessOptions& options) {
  if (options.mode == PreprocessOptions::Mode::kAuto) return "auto";
  if (options.mode == PreprocessOptions::Mode::kNone) return "none";
  std::string out;
  for (PreprocessStep step : kOrder) {
    if (!Has(options.steps, step)) continue;
    if (!out.empty()) out += ',';
    out += StepName(step);
  }
  return out;
}

PageMeasures MeasurePage(const Image& image) {
  if (image.empty()) return {};
  try {
    return Measure(Grey(MatOf(image)));
  } catch (const cv::Exception& e) {
    throw Error(ErrorCode::kInternal, "image preparation failed", e.what());
  }
}

PreparedImage Preprocess(const Image& image, const PreprocessOptions& options,
                         const OrientationDetector& detect_orientation) {
  PreparedImage out;
  out.image = image;
  if (options.mode == PreprocessOptions::Mode::kNone || image.empty()) return out;
  try {
    Page page;
    page.mat = Grey(MatOf(image));
    page.applied.push_back("grey");

    std::vector<PreprocessStep> steps = options.steps;
    PageMeasures measures;
    bool measured = false;
    auto measure = [&] {
      measures = Measure(page.mat);
      measured = true;
    };
    if (options.mode == PreprocessOptions::Mode::kAuto) {
      measure();
      steps = AutoSteps(measures, static_cast<bool>(detect_orientation));
    }

    if (Has(steps, PreprocessStep::kOrient) && detect_orientation) {
      const size_t before = page.applied.size();
      Orient(page, detect_orientation);
      // A turned page measures differently (character height, skew).
      if (page.applied.size() > before && page.applied.back() != "orient:0") measure();
    }
    const bool geometric =
        Has(steps, PreprocessStep::kBorder) || Has(steps, PreprocessStep::kDeskew) ||
        Has(steps, PreprocessStep::kUpscale) || Has(steps, PreprocessStep::kBinarise);
    if (geometric && !measured) measure();
    if (Has(steps, PreprocessStep::kBorder)) RemoveBorder(page);
    if (Has(steps, PreprocessStep::kDeskew)) Deskew(page, measures.skew_degrees);
    if (Has(steps, PreprocessStep::kUpscale)) Upscale(page, measures.char_height);
    if (Has(steps, PreprocessStep::kJoin)) JoinDots(page, kDotGap * page.scale);
    if (Has(steps, PreprocessStep::kDenoise)) Denoise(page, measures.halftone);
    if (Has(steps, PreprocessStep::kBinarise)) {
      Binarise(page, measures.char_height * page.scale, Has(steps, PreprocessStep::kDenoise));
    }

    out.image = ImageFromMat(page.mat);
    out.applied = std::move(page.applied);
    const Matrix& m = page.to_input;
    out.to_input = {m(0, 0), m(0, 1), m(0, 2), m(1, 0), m(1, 1), m(1, 2)};
    out.measures = measures;
    out.scale = page.scale;
    if (options.mode == PreprocessOptions::Mode::kAuto && measures.char_height > 0) {
      out.resolution = static_cast<int>(std::lround(std::clamp(
          measures.char_height * page.scale * kDpiPerCharPixel, kMinResolution, kMaxResolution)));
    }
  } catch (const cv::Exception& e) {
    throw Error(ErrorCode::kInternal, "image preparation failed", e.what());
  }
  return out;
}

}  // namespace scanline
