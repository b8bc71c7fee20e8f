// Rows of character-like blobs (see core/detail/plate_detail.h).
//
// The image is searched on a small pyramid (full size, half, quarter): at each level only
// blobs 9..44 pixels tall are considered, so one adaptive-threshold window (31 pixels) suits
// every level, and large characters are found at the level where they are small. Blobs come
// from an adaptive mean threshold (a pixel darker than its 31x31 neighbourhood by `contrast`
// grey levels), which is indifferent to the light level across the frame; connected
// components of the right size and fill are linked to their nearest right-hand neighbour of
// similar height and baseline, and chains of `min_chars` or more become rows.
//
// Characters that touch the plate frame's top or bottom edge (or a dealer frame's dark band)
// make one blob with it, too wide for a character. With `cut_frames` the search for dark
// characters is run again on each level's binary image without its long horizontal runs of
// ink (25 pixels, longer than any character stroke at a level; neither light characters nor
// an erosion pass there: they found no more plates of the training photos for twice the
// cost); the rows found there count only where no row of the plain search overlaps them, so
// rows found before stay as they were.
#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "core/detail/plate_detail.h"

namespace scanline::detail {
namespace {

constexpr int kLevelMinHeight = 9;
constexpr int kLevelMaxHeight = 44;
constexpr int kBlock = 31;
// Horizontal runs of ink at least this long (pixels of a level) are no character stroke:
// characters up to 30 pixels tall are narrower, taller ones are found a level down.
constexpr int kFrameRun = 25;

struct Blob {
  cv::Rect r;
  int area = 0;
  double cy() const { return r.y + r.height * 0.5; }
};

std::vector<Blob> CharBlobs(const cv::Mat& binary, int min_h, int max_h) {
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(binary, labels, stats, centroids, 8, CV_32S);
  std::vector<Blob> blobs;
  for (int i = 1; i < n; ++i) {
    const int* s = stats.ptr<int>(i);
    const int w = s[cv::CC_STAT_WIDTH], h = s[cv::CC_STAT_HEIGHT], area = s[cv::CC_STAT_AREA];
    if (h < min_h || h > max_h) continue;
    if (w > 1.25 * h || w < 2) continue;
    if (h > 8 * w && w > 3) continue;  // thin verticals: '1' and 'I' are ~1/5 of the height
    const double fill = area / static_cast<double>(w * h);
    if (fill < 0.18 || fill > 0.95) continue;
    blobs.push_back({cv::Rect(s[cv::CC_STAT_LEFT], s[cv::CC_STAT_TOP], w, h), area});
  }
  std::sort(blobs.begin(), blobs.end(), [](const Blob& a, const Blob& b) { return a.r.x < b.r.x; });
  return blobs;
}

// Whether b may follow a in a row of characters.
bool CanFollow(const Blob& a, const Blob& b) {
  const double h = std::max(a.r.height, b.r.height);
  const double hmin = std::min(a.r.height, b.r.height);
  if (hmin < 0.72 * h) return false;
  const double gap = b.r.x - (a.r.x + a.r.width);
  if (gap < -0.12 * h || gap > 1.4 * h) return false;
  if (b.r.x < a.r.x + 0.3 * a.r.width) return false;
  if (std::abs(a.cy() - b.cy()) > 0.3 * h) return false;
  return true;
}

// The rows of character blobs in one binarised pyramid level (ink = 255), characters
// min_h..max_h pixels tall at the level; with `erode`, also of its blobs parted by an erosion.
std::vector<CharRow> RowsInBinary(const cv::Mat& binary, double scale, bool light,
                                  const RowSearch& search, int min_h, int max_h, bool erode) {
  std::vector<Blob> blobs = CharBlobs(binary, min_h, max_h);
  // Characters joined to the plate's frame or to each other by a pixel or two of blur are
  // parted by one erosion; the eroded blobs add to the others (grown back by the pixel).
  cv::Mat eroded;
  if (erode) cv::erode(binary, eroded, cv::Mat());
  for (Blob b : erode ? CharBlobs(eroded, std::max(kLevelMinHeight, min_h - 2), max_h)
                      : std::vector<Blob>()) {
    b.r = cv::Rect(b.r.x - 1, b.r.y - 1, b.r.width + 2, b.r.height + 2);
    if (b.r.height < min_h) continue;
    const bool known = std::any_of(blobs.begin(), blobs.end(), [&](const Blob& o) {
      return std::abs(o.r.x - b.r.x) <= 2 && std::abs(o.r.y - b.r.y) <= 2 &&
             std::abs(o.r.height - b.r.height) <= 3;
    });
    if (!known) blobs.push_back(b);
  }
  std::sort(blobs.begin(), blobs.end(), [](const Blob& a, const Blob& b) { return a.r.x < b.r.x; });
  const int n = static_cast<int>(blobs.size());
  std::vector<int> next(n, -1), prev(n, -1);
  std::vector<double> next_gap(n, 1e9);
  for (int i = 0; i < n; ++i) {
    int best = -1;
    double best_cost = 1e9;
    for (int j = i + 1; j < n; ++j) {
      if (blobs[j].r.x > blobs[i].r.x + blobs[i].r.width + 1.5 * blobs[i].r.height) break;
      if (!CanFollow(blobs[i], blobs[j])) continue;
      const double cost = std::max(0, blobs[j].r.x - blobs[i].r.x - blobs[i].r.width) +
                          2.0 * std::abs(blobs[i].cy() - blobs[j].cy()) +
                          std::abs(blobs[i].r.height - blobs[j].r.height);
      if (cost < best_cost) {
        best_cost = cost;
        best = j;
      }
    }
    if (best < 0) continue;
    if (prev[best] >= 0) {
      if (next_gap[prev[best]] <= best_cost) continue;
      next[prev[best]] = -1;
    }
    next[i] = best;
    prev[best] = i;
    next_gap[i] = best_cost;
  }
  std::vector<CharRow> rows;
  for (int i = 0; i < n; ++i) {
    if (prev[i] >= 0) continue;
    std::vector<int> chain;
    for (int k = i; k >= 0; k = next[k]) chain.push_back(k);
    if (static_cast<int>(chain.size()) < search.min_chars) continue;
    if (static_cast<int>(chain.size()) > search.max_chars + 2) continue;
    std::vector<double> heights;
    std::vector<cv::Point2f> centres;
    CharRow row;
    for (int k : chain) {
      const cv::Rect& r = blobs[k].r;
      heights.push_back(r.height);
      centres.emplace_back(r.x + r.width * 0.5f, r.y + r.height * 0.5f);
      row.chars.push_back(cv::Rect(cvRound(r.x / scale), cvRound(r.y / scale),
                                   cvRound(r.width / scale), cvRound(r.height / scale)));
    }
    std::nth_element(heights.begin(), heights.begin() + heights.size() / 2, heights.end());
    const double median_h = heights[heights.size() / 2];
    cv::Vec4f line;
    cv::fitLine(centres, line, cv::DIST_HUBER, 0, 0.01, 0.01);
    double vx = line[0], vy = line[1];
    if (vx < 0) {
      vx = -vx;
      vy = -vy;
    }
    const double angle = std::atan2(vy, vx);
    if (std::abs(angle) > 0.5) continue;  // ~29 degrees
    // Spacing regularity: the widest gap against the median pitch.
    const cv::Rect& first = blobs[chain.front()].r;
    const cv::Rect& last = blobs[chain.back()].r;
    const cv::Point2f p0(line[2], line[3]);
    auto on_line = [&](double x) {
      return cv::Point2f(static_cast<float>(x), static_cast<float>(p0.y + (x - p0.x) * vy / vx));
    };
    row.start = on_line(first.x) * (1.0 / scale);
    row.end = on_line(last.x + last.width) * (1.0 / scale);
    row.char_height = median_h / scale;
    row.angle = angle;
    row.light_on_dark = light;
    // Fences, railings and grilles make rows of thin bars: characters are about half as
    // wide as they are tall ('1' and 'I' are the exception, not the rule).
    std::vector<double> aspects;
    aspects.reserve(chain.size());
    for (int k : chain)
      aspects.push_back(blobs[k].r.width / static_cast<double>(blobs[k].r.height));
    std::nth_element(aspects.begin(), aspects.begin() + aspects.size() / 2, aspects.end());
    const double median_aspect = aspects[aspects.size() / 2];
    if (median_aspect < 0.28) continue;
    // A plate's characters stand on a clean background: little ink in the bands just above
    // and below them (bars, text blocks and foliage continue there).
    const int x0 = first.x, x1 = last.x + last.width;
    const int top = std::min(first.y, last.y),
              bottom = std::max(first.y + first.height, last.y + last.height);
    auto ink = [&](int y0, int y1) {
      cv::Rect band(x0, y0, x1 - x0, y1 - y0);
      band &= cv::Rect(0, 0, binary.cols, binary.rows);
      if (band.area() <= 0) return 0.5;
      return cv::countNonZero(binary(band)) / static_cast<double>(band.area());
    };
    const int pad = std::max(2, static_cast<int>(0.12 * median_h));
    const int depth = std::max(3, static_cast<int>(0.3 * median_h));
    const double clutter =
        std::max(ink(top - pad - depth, top - pad), ink(bottom + pad, bottom + pad + depth));
    const double chars = std::min<double>(chain.size(), 8);
    const double length_ratio = (last.x + last.width - first.x) / median_h;
    // Plates have 5..8 characters over 2.5..7 character heights.
    row.score = chars + (length_ratio > 2.0 && length_ratio < 8.0 ? 2.0 : 0.0) +
                4.0 * (0.25 - std::min(clutter, 0.5));
    rows.push_back(std::move(row));
  }
  return rows;
}

// The rows at one pyramid level and polarity: those of the adaptive threshold into `rows`,
// and into `cut_rows` those found once the long horizontal runs of ink (a plate frame's
// top and bottom edges, longer than any character stroke at this level) are taken out.
void RowsAtLevel(const cv::Mat& level_grey, double scale, bool light, const RowSearch& search,
                 std::vector<CharRow>* rows, std::vector<CharRow>* cut_rows) {
  // A new buffer for the inverse: `level_grey` is the caller's image (and the next level's
  // source), which must keep its polarity.
  cv::Mat src;
  if (light) {
    cv::bitwise_not(level_grey, src);
  } else {
    src = level_grey;
  }
  cv::Mat binary;
  cv::adaptiveThreshold(src, binary, 255, cv::ADAPTIVE_THRESH_MEAN_C, cv::THRESH_BINARY_INV, kBlock,
                        search.contrast);
  const int min_h =
      std::max(kLevelMinHeight, static_cast<int>(std::ceil(search.min_char_height * scale)));
  const int max_h =
      std::min(kLevelMaxHeight, static_cast<int>(std::floor(search.max_char_height * scale)));
  if (min_h > max_h) return;
  auto found = RowsInBinary(binary, scale, light, search, min_h, max_h, true);
  rows->insert(rows->end(), std::make_move_iterator(found.begin()),
               std::make_move_iterator(found.end()));
  // Dark characters on a light plate only: the frames are dark around it.
  if (!search.cut_frames || light) return;
  cv::Mat edges;
  cv::morphologyEx(binary, edges, cv::MORPH_OPEN,
                   cv::getStructuringElement(cv::MORPH_RECT, cv::Size(kFrameRun, 1)));
  if (cv::countNonZero(edges) == 0) return;
  cv::dilate(edges, edges, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(1, 3)));
  binary.setTo(0, edges);
  found = RowsInBinary(binary, scale, light, search, min_h, max_h, false);
  cut_rows->insert(cut_rows->end(), std::make_move_iterator(found.begin()),
                   std::make_move_iterator(found.end()));
}

}  // namespace

double RectIou(const cv::Rect& a, const cv::Rect& b) {
  const double inter = (a & b).area();
  const double uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0;
}

cv::Rect RowBounds(const CharRow& row) {
  cv::Rect r = row.chars.front();
  for (const auto& c : row.chars) r |= c;
  return r;
}

std::vector<CharRow> FindCharRows(const cv::Mat& grey, const RowSearch& search) {
  std::vector<CharRow> rows, cut_rows;
  cv::Mat level = grey;
  double scale = 1.0;
  while (true) {
    // Characters as tall as search.min_char_height at this level or more.
    if (search.max_char_height * scale >= kLevelMinHeight &&
        search.min_char_height * scale <= kLevelMaxHeight) {
      for (bool light : {false, true}) {
        if (light ? !search.light_chars : !search.dark_chars) continue;
        RowsAtLevel(level, scale, light, search, &rows, &cut_rows);
      }
    }
    if (search.max_char_height * scale <= kLevelMaxHeight) break;
    if (level.cols < 80 || level.rows < 40) break;
    cv::Mat half;
    cv::pyrDown(level, half);
    level = half;
    scale *= 0.5;
  }
  auto best_first = [](const CharRow& a, const CharRow& b) {
    return a.score != b.score ? a.score > b.score : a.chars.size() > b.chars.size();
  };
  std::vector<CharRow> kept;
  std::vector<cv::Rect> kept_bounds;
  // Best first, each row that `overlaps` none of the rows kept so far.
  auto keep = [&](std::vector<CharRow>& found, auto overlaps) {
    std::sort(found.begin(), found.end(), best_first);
    for (auto& row : found) {
      const cv::Rect bounds = RowBounds(row);
      if (std::any_of(kept_bounds.begin(), kept_bounds.end(),
                      [&](const cv::Rect& k) { return overlaps(bounds, k); })) {
        continue;
      }
      kept_bounds.push_back(bounds);
      kept.push_back(std::move(row));
    }
  };
  keep(rows, [](const cv::Rect& a, const cv::Rect& b) { return RectIou(a, b) > 0.4; });
  // Rows found only with the frame's edges taken out: where no row overlaps them at all.
  keep(cut_rows, [](const cv::Rect& a, const cv::Rect& b) {
    return (a & b).area() > 0.3 * std::min(a.area(), b.area());
  });
  std::stable_sort(kept.begin(), kept.end(), best_first);
  return kept;
}

}  // namespace scanline::detail
