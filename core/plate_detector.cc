// Plate detection: character rows, cascades and an optional ONNX model, merged (see
// core/plate_detector.h); and the plate's outline around a row (rectification).
//
// Choices a reader might question:
// - The rows are searched again at half the contrast when none is found: a faded plate in a
//   frame where nothing else stands out. Searching at the lower contrast in every photo,
//   instead of or beside the first search, read one training plate more or one fewer for
//   more time: the extra rows of clutter crowd the reads.
// - Cascades run on a copy at most 640 pixels wide with a coarse scale step (1.2): they are
//   a second opinion that adds recall where the row finder missed a plate (low contrast,
//   broken characters), not the main detector, and must stay cheap on a 1280x720 frame.
// - A box from a cascade or ONNX becomes a candidate only through a row of characters found
//   inside it with looser settings (three characters, lower contrast): the reader needs the
//   row's height and angle, and a box with no characters in it is no readable plate.
// - The outline starts from the region's plate shape around the row and is then fitted to
//   the plate's own edges: in the levelled neighbourhood of the row, the strongest
//   horizontal edges above and below the characters and vertical edges left and right of
//   them, within the range the region's shape allows.
#include "core/plate_detector.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "core/detail/image_mat.h"
#include "core/detail/plate_detail.h"
#include "core/detail/text.h"
#include "core/error.h"

namespace scanline {

struct PlateDetector::Impl {
  std::vector<cv::CascadeClassifier> cascades;
  std::vector<std::string> cascade_names;
  cv::dnn::Net onnx;
  bool has_onnx = false;
};

namespace detail {
namespace {

constexpr int kCascadeMaxWidth = 640;  // pixels
constexpr int kOnnxInput = 640;        // pixels, square
// The row search again at this contrast (grey levels) when the first found no row at all.
constexpr double kLowContrast = 5;

// A box (image pixels) from a cascade or ONNX: the best row of characters inside it.
bool RowInBox(const cv::Mat& grey, cv::Rect box, CharRow* row) {
  // Grow the box: cascades trained on other plates cut characters off at the edges.
  const int gx = box.width / 6, gy = box.height / 3;
  box = cv::Rect(box.x - gx, box.y - gy, box.width + 2 * gx, box.height + 2 * gy) &
        cv::Rect(0, 0, grey.cols, grey.rows);
  if (box.width < 16 || box.height < 10) return false;
  RowSearch search;
  search.min_chars = 3;
  search.contrast = 5;
  search.min_char_height = std::max(7, box.height / 6);
  search.max_char_height = box.height;
  auto rows = FindCharRows(grey(box), search);
  if (rows.empty()) return false;
  *row = rows.front();
  const cv::Point2f offset(static_cast<float>(box.x), static_cast<float>(box.y));
  for (auto& r : row->chars) r += cv::Point(box.x, box.y);
  row->start += offset;
  row->end += offset;
  return true;
}

std::vector<cv::Rect> CascadeBoxes(PlateDetector::Impl& impl, const cv::Mat& grey) {
  std::vector<cv::Rect> boxes;
  if (impl.cascades.empty()) return boxes;
  cv::Mat small = grey;
  double f = 1.0;
  if (grey.cols > kCascadeMaxWidth) {
    f = kCascadeMaxWidth / static_cast<double>(grey.cols);
    cv::resize(grey, small, cv::Size(), f, f, cv::INTER_AREA);
  }
  // Into a new buffer: `small` may still be the caller's image.
  cv::Mat equalized;
  cv::equalizeHist(small, equalized);
  for (auto& cascade : impl.cascades) {
    std::vector<cv::Rect> found;
    cascade.detectMultiScale(equalized, found, 1.2, 3, 0, cv::Size(30, 10));
    for (const auto& r : found) {
      boxes.emplace_back(cvRound(r.x / f), cvRound(r.y / f), cvRound(r.width / f),
                         cvRound(r.height / f));
    }
  }
  return boxes;
}

// A YOLO-style single-class model: rows (cx, cy, w, h, objectness[, class scores]) in input
// pixels, or the transposed YOLOv8 layout (4 + classes) x anchors.
std::vector<cv::Rect> OnnxBoxes(PlateDetector::Impl& impl, const cv::Mat& image) {
  std::vector<cv::Rect> boxes;
  if (!impl.has_onnx) return boxes;
  cv::Mat bgr = image;
  if (image.channels() == 1) cv::cvtColor(image, bgr, cv::COLOR_GRAY2BGR);
  cv::Mat blob = cv::dnn::blobFromImage(bgr, 1.0 / 255, cv::Size(kOnnxInput, kOnnxInput),
                                        cv::Scalar(), true, false);
  impl.onnx.setInput(blob);
  cv::Mat out = impl.onnx.forward();
  if (out.dims == 3) out = out.reshape(1, out.size[1]);
  if (out.dims != 2) return boxes;
  // YOLOv8: (4 + classes) x anchors. Fewer than 5 rows are anchors of the row layout.
  if (out.rows < out.cols && out.rows >= 5) cv::transpose(out, out);
  if (out.cols < 5) return boxes;
  const double sx = image.cols / static_cast<double>(kOnnxInput);
  const double sy = image.rows / static_cast<double>(kOnnxInput);
  std::vector<cv::Rect> raw;
  std::vector<float> scores;
  for (int i = 0; i < out.rows; ++i) {
    const float* p = out.ptr<float>(i);
    // 5 columns: one score (YOLOv8 one class, or objectness); more: objectness x best class.
    float score = p[4];
    if (out.cols > 5) score *= *std::max_element(p + 5, p + out.cols);
    if (score < 0.3f) continue;
    raw.emplace_back(cvRound((p[0] - p[2] / 2) * sx), cvRound((p[1] - p[3] / 2) * sy),
                     cvRound(p[2] * sx), cvRound(p[3] * sy));
    scores.push_back(score);
  }
  std::vector<int> keep;
  cv::dnn::NMSBoxes(raw, scores, 0.3f, 0.45f, keep);
  for (int k : keep) boxes.push_back(raw[k]);
  return boxes;
}

// The strongest peak of `profile` in [lo, hi) (clamped); -1 when its strength is under
// `min_strength`.
int StrongestEdge(const std::vector<double>& profile, int lo, int hi, double min_strength) {
  lo = std::max(lo, 0);
  hi = std::min(hi, static_cast<int>(profile.size()));
  int best = -1;
  double best_value = min_strength;
  for (int i = lo; i < hi; ++i) {
    if (profile[i] > best_value) {
      best_value = profile[i];
      best = i;
    }
  }
  return best;
}

}  // namespace

std::array<cv::Point2f, 4> PlateOutline(const CharRow& row, const PlateRegion& region) {
  return FitPlateOutline(cv::Mat(), row, region);
}

std::array<cv::Point2f, 4> FitPlateOutline(const cv::Mat& grey, const CharRow& row,
                                           const PlateRegion& region) {
  // Plate frame: u along the row, v across it (down), origin at the row's centre; units pixels.
  const double h = std::max(1.0, row.char_height);
  const double length = row.Length();
  double plate_h = h / region.char_height;
  double plate_w = std::max(plate_h * region.aspect, length + 1.0 * h);
  double top = -region.char_center * plate_h;  // v of the top edge
  double bottom = top + plate_h;
  double left = -plate_w / 2, right = plate_w / 2;
  const double cs = std::cos(row.angle), sn = std::sin(row.angle);
  const cv::Point2f c = row.Center();

  if (!grey.empty()) {
    // The neighbourhood, levelled, at the input's scale (1 pixel = 1 pixel).
    const int win_w = static_cast<int>(std::lround(plate_w * 1.3 + 2 * h));
    const int win_h = static_cast<int>(std::lround(plate_h * 1.6 + 2 * h));
    const double u0 = -win_w / 2.0, v0 = -win_h / 2.0;
    cv::Mat m = (cv::Mat_<double>(2, 3) << cs, -sn, c.x + u0 * cs - v0 * sn, sn, cs,
                 c.y + u0 * sn + v0 * cs);
    cv::Mat level;
    cv::warpAffine(grey, level, m, cv::Size(win_w, win_h), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP,
                   cv::BORDER_REPLICATE);
    cv::Mat gx, gy;
    cv::Sobel(level, gy, CV_32F, 0, 1, 3);
    cv::Sobel(level, gx, CV_32F, 1, 0, 3);
    gx = cv::abs(gx);
    gy = cv::abs(gy);
    // Horizontal edges: mean |d/dv| over the characters' span.
    const int span_l = std::clamp(static_cast<int>(-length / 2 - u0), 0, win_w - 1);
    const int span_r = std::clamp(static_cast<int>(length / 2 - u0), span_l + 1, win_w);
    std::vector<double> rows_profile(win_h, 0.0);
    for (int v = 0; v < win_h; ++v) {
      rows_profile[v] = cv::mean(gy(cv::Range(v, v + 1), cv::Range(span_l, span_r)))[0];
    }
    const int char_top = static_cast<int>(-h / 2 - v0), char_bottom = static_cast<int>(h / 2 - v0);
    const double strength = 12.0;  // mean Sobel response, grey levels x 4
    const int t = StrongestEdge(rows_profile, static_cast<int>(top - v0 - 0.35 * plate_h),
                                char_top - static_cast<int>(0.08 * h), strength);
    const int b = StrongestEdge(rows_profile, char_bottom + static_cast<int>(0.08 * h) + 1,
                                static_cast<int>(bottom - v0 + 0.35 * plate_h), strength);
    if (t >= 0) top = t + v0;
    if (b >= 0) bottom = b + v0;
    // Vertical edges: mean |d/du| between the found top and bottom.
    const int vt = std::clamp(static_cast<int>(top - v0), 0, win_h - 1);
    const int vb = std::clamp(static_cast<int>(bottom - v0), vt + 1, win_h);
    std::vector<double> cols_profile(win_w, 0.0);
    for (int u = 0; u < win_w; ++u) {
      cols_profile[u] = cv::mean(gx(cv::Range(vt, vb), cv::Range(u, u + 1)))[0];
    }
    const int l = StrongestEdge(cols_profile, static_cast<int>(left - u0 - 0.3 * plate_w),
                                span_l - static_cast<int>(0.1 * h), strength);
    const int r = StrongestEdge(cols_profile, span_r + static_cast<int>(0.1 * h) + 1,
                                static_cast<int>(right - u0 + 0.3 * plate_w), strength);
    if (l >= 0) left = l + u0;
    if (r >= 0) right = r + u0;
  }
  auto to_image = [&](double u, double v) {
    return cv::Point2f(static_cast<float>(c.x + u * cs - v * sn),
                       static_cast<float>(c.y + u * sn + v * cs));
  };
  return {to_image(left, top), to_image(right, top), to_image(right, bottom),
          to_image(left, bottom)};
}

std::vector<Candidate> DetectCandidates(PlateDetector& detector, const cv::Mat& image,
                                        const PlateRegion& region, unsigned which) {
  (void)region;
  cv::Mat grey = image;
  if (image.channels() == 3) cv::cvtColor(image, grey, cv::COLOR_BGR2GRAY);
  std::vector<Candidate> candidates;
  if (which & kDetectRows) {
    RowSearch search;
    search.max_char_height = std::max(20, grey.rows / 3);
    search.cut_frames = true;
    std::vector<CharRow> rows = FindCharRows(grey, search);
    if (rows.empty()) {
      // Nothing stands out: a hazy, faded or dim plate's characters may be less than
      // `contrast` darker than their surroundings (and broken into pieces at that
      // threshold). Looking harder everywhere would crowd the reads with clutter; here
      // there is none.
      search.contrast = kLowContrast;
      rows = FindCharRows(grey, search);
    }
    for (auto& row : rows) {
      const double score = row.score;
      candidates.push_back({std::move(row), "chars", score});
    }
  }
  auto add_boxes = [&](const std::vector<cv::Rect>& boxes, const char* method) {
    for (const cv::Rect& box : boxes) {
      CharRow row;
      if (!RowInBox(grey, box, &row)) continue;
      const cv::Rect bounds = RowBounds(row);
      bool merged = false;
      for (auto& c : candidates) {
        if (RectIou(RowBounds(c.row), bounds) > 0.3 ||
            (bounds & RowBounds(c.row)).area() > 0.6 * bounds.area()) {
          if (c.methods.find(method) == std::string::npos) {
            c.methods += std::string("+") + method;
            c.score += 3;
          }
          if (row.chars.size() > c.row.chars.size()) c.row = row;
          merged = true;
          break;
        }
      }
      if (!merged) candidates.push_back({row, method, row.score + 1});
    }
  };
  if (which & kDetectCascades) add_boxes(CascadeBoxes(detector.impl(), grey), "cascade");
  if (which & kDetectOnnx) add_boxes(OnnxBoxes(detector.impl(), image), "onnx");
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
  return candidates;
}

}  // namespace detail

std::vector<std::string> SplitCascadeFiles(const std::string& text) {
  std::vector<std::string> out;
  for (std::string_view part : detail::SplitOn(text, ':')) {
    if (!part.empty()) out.emplace_back(part);
  }
  return out;
}

PlateDetector::PlateDetector(const PlateDetectorOptions& options)
    : impl_(std::make_unique<Impl>()) {
  std::vector<std::string> files;
  if (options.builtin_cascades) {
    files.push_back(options.builtin_cascade_dir + "/haarcascade_licence_plate_rus_16stages.xml");
  }
  files.insert(files.end(), options.cascade_files.begin(), options.cascade_files.end());
  for (const std::string& file : files) {
    cv::CascadeClassifier cascade;
    bool loaded = false;
    try {
      loaded = std::filesystem::is_regular_file(file) && cascade.load(file);
    } catch (const cv::Exception& e) {
      loaded = false;
    }
    if (!loaded) {
      throw Error(ErrorCode::kInternal, "plate detector unavailable",
                  "cannot load cascade " + file);
    }
    impl_->cascades.push_back(std::move(cascade));
    impl_->cascade_names.push_back(file);
  }
  if (!options.onnx_model.empty()) {
    try {
      impl_->onnx = cv::dnn::readNetFromONNX(options.onnx_model);
      impl_->has_onnx = !impl_->onnx.empty();
    } catch (const cv::Exception& e) {
      throw Error(ErrorCode::kInternal, "plate detector unavailable",
                  "cannot load ONNX model " + options.onnx_model + ": " + e.what());
    }
    if (!impl_->has_onnx) {
      throw Error(ErrorCode::kInternal, "plate detector unavailable",
                  "empty ONNX model " + options.onnx_model);
    }
  }
}

PlateDetector::~PlateDetector() = default;

int PlateDetector::cascades() const { return static_cast<int>(impl_->cascades.size()); }
bool PlateDetector::has_onnx() const { return impl_->has_onnx; }

std::vector<PlateProposal> PlateDetector::Detect(const Image& image, const PlateRegion& region) {
  const cv::Mat& mat = MatOf(image);
  cv::Mat grey = mat;
  if (mat.channels() == 3) cv::cvtColor(mat, grey, cv::COLOR_BGR2GRAY);
  std::vector<PlateProposal> out;
  for (const auto& c : detail::DetectCandidates(*this, mat, region)) {
    PlateProposal p;
    const auto outline = detail::FitPlateOutline(grey, c.row, region);
    for (int i = 0; i < 4; ++i) p.corners[i] = {outline[i].x, outline[i].y};
    p.methods = c.methods;
    p.score = c.score;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace scanline
