// The plate pipeline (see core/lpr.h).
//
// Choices a reader might question:
// - Candidates are read best first and at most kMaxReads of them: most rows of characters in
//   a street photo are signs, stickers and wheel rims, and each read costs Tesseract calls
//   (three binarisations, the grey line as well when none gives a plate's length).
// - The Haar cascade is asked only when the rows (and an operator's ONNX model) gave no
//   plate: on the training photos it added no plate the rows had not read, for a tenth of
//   the time of a photo.
// - A place's reading under kUnsureConfidence, or one whose best text fits no pattern, is
//   read once more from its rectified crop, for the likeliest places only (the row may have
//   lost a character at either end, and a sure text one character short of a plate often
//   fits no pattern; the crop holds the whole plate).
// - The character model also reads the row's own blobs as the detector found them (cheap: no
//   Tesseract call) when they are as many as a plate's characters, or when no binarised line
//   of the row gives a plate's length (before the rectified crop is tried).
// - A reading becomes a plate when its best text is as long as the region's plates and either
//   fits a pattern or is read with high confidence (vanity plates fit no pattern).
// - Plates whose outlines overlap an accepted plate are the same plate seen twice (a row
//   inside a row, a cascade hit beside a row) and are dropped.
#include "core/lpr.h"

#include <algorithm>
#include <chrono>
#include <opencv2/imgproc.hpp>

#include "core/data_files.h"
#include "core/detail/image_mat.h"
#include "core/detail/plate_detail.h"
#include "core/error.h"
#include "core/plate_chars.h"
#include "core/retinex.h"

namespace scanline {
namespace {

constexpr size_t kMaxReads = 12;          // rows read per photo
constexpr size_t kRowsPerPlate = 2;       // rows read for one place
constexpr size_t kMaxRectifiedReads = 2;  // rectified plate crops read per photo
// A place's best text under this confidence (0..100), or fitting no pattern, is read again
// from its rectified crop, for the first kUnsureGroups places read.
constexpr float kUnsureConfidence = 25;
constexpr size_t kUnsureGroups = 3;
constexpr int kCropHeight = 96;  // rectified plate crop, pixels

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

cv::Rect CornersBounds(const PlateCorners& corners) {
  float x0 = corners[0].x, x1 = x0, y0 = corners[0].y, y1 = y0;
  for (const auto& p : corners) {
    x0 = std::min(x0, p.x);
    x1 = std::max(x1, p.x);
    y0 = std::min(y0, p.y);
    y1 = std::max(y1, p.y);
  }
  return cv::Rect(cv::Point(cvFloor(x0), cvFloor(y0)), cv::Point(cvCeil(x1), cvCeil(y1)));
}

bool PlausibleLength(size_t n, const PlateRegion& region) {
  return n + 1 >= region.min_length && n <= region.max_length + 2;
}

// The plate's outline around `row`, grown by a tenth, warped to a straight crop of the
// region's shape, and read there.
std::vector<PlateReading> ReadRectified(PlateReader& reader, const cv::Mat& grey,
                                        const detail::CharRow& row, const PlateRegion& region) {
  const auto outline = detail::FitPlateOutline(grey, row, region);
  cv::Point2f centre(0, 0);
  for (const auto& p : outline) centre += p * 0.25f;
  std::vector<cv::Point2f> from;
  from.reserve(outline.size());
  for (const auto& p : outline) from.push_back(centre + (p - centre) * 1.1f);
  const float h = kCropHeight;
  const float w = std::round(h * static_cast<float>(region.aspect));
  const std::vector<cv::Point2f> to = {{0, 0}, {w, 0}, {w, h}, {0, h}};
  cv::Mat crop;
  cv::warpPerspective(grey, crop, cv::getPerspectiveTransform(from, to),
                      cv::Size(static_cast<int>(w), static_cast<int>(h)), cv::INTER_LINEAR,
                      cv::BORDER_REPLICATE);
  return reader.ReadCrop(ImageFromMat(crop));
}

// Reads plate candidates into plates, with one budget of reads per photo.
class PlateReads {
 public:
  PlateReads(LprEngines& engines, const cv::Mat& grey, const PlateRegion& region,
             const LprOptions& options)
      : engines_(engines), grey_(grey), region_(region), options_(options) {}

  // Reads `candidates` (best first). Rows over one place (found at two scales, in two
  // polarities, or by two detectors) are one plate: their readings are pooled, so that they
  // vote. Places read by an earlier call are not read again.
  void Read(const std::vector<detail::Candidate>& candidates) {
    std::vector<std::vector<const detail::Candidate*>> groups;
    std::vector<cv::Rect> group_bounds;
    for (const auto& candidate : candidates) {
      const cv::Rect bounds = detail::RowBounds(candidate.row);
      auto same_place = [&](const cv::Rect& other) {
        return (bounds & other).area() > 0.5 * std::min(bounds.area(), other.area());
      };
      if (std::any_of(read_.begin(), read_.end(), same_place)) continue;
      bool joined = false;
      for (size_t g = 0; g < groups.size() && !joined; ++g) {
        if (same_place(group_bounds[g])) {
          if (groups[g].size() < kRowsPerPlate) groups[g].push_back(&candidate);
          joined = true;
        }
      }
      if (!joined) {
        groups.push_back({&candidate});
        group_bounds.push_back(bounds);
      }
    }
    for (size_t g = 0; g < groups.size() && reads_ < kMaxReads; ++g) {
      read_.push_back(group_bounds[g]);
      ReadGroup(groups[g]);
    }
  }

  std::vector<PlateResult>& plates() { return plates_; }
  bool can_read() const { return reads_ < kMaxReads; }  // rows left in the budget

 private:
  void ReadGroup(const std::vector<const detail::Candidate*>& group) {
    const size_t place = places_++;
    const detail::Candidate& candidate = *group.front();
    std::vector<PlateReading> readings;
    bool plausible = false;
    for (const detail::Candidate* member : group) {
      if (reads_ >= kMaxReads) break;
      ++reads_;
      const detail::RowImages images = detail::PrepareRow(grey_, member->row);
      // The binarised ways first (cleaned of everything but character blobs, they read
      // best; the plate frame's edges cut off when there are any); the grey line only when
      // none gave a plate's length.
      bool mine = false;
      for (int way : {0, 2, 3, 1}) {
        if (way == 1 && mine) break;
        for (PlateReading& r : detail::ReadRowWay(engines_.reader(), images, way)) {
          mine = mine || PlausibleLength(r.size(), region_);
          readings.push_back(std::move(r));
        }
      }
      // The detector's own blobs, when they are as many as a plate has characters or no
      // line gave a plate's length: segmenting the straightened, binarised line again may
      // join or lose characters the row finder had apart.
      const size_t blobs = member->row.chars.size();
      if (!mine || region_.PlateLength(blobs)) {
        PlateReading r = detail::ReadRowBlobs(engines_.reader(), grey_, member->row);
        mine = mine || PlausibleLength(r.size(), region_);
        if (!r.empty()) readings.push_back(std::move(r));
      }
      plausible = plausible || mine;
    }
    if (!plausible && rectified_ < kMaxRectifiedReads) {
      // The row may hold only part of the plate (characters joined to the frame, a gap
      // at a sticker): the plate's outline, warped to a straight crop, is searched again.
      plausible = ReadRectifiedInto(candidate.row, &readings);
    }
    if (!plausible) return;
    std::vector<PlateText> texts = RankCandidates(readings, region_, options_.top_n);
    if (texts.empty()) return;
    if ((texts.front().confidence < kUnsureConfidence || !texts.front().matches_pattern) &&
        place < kUnsureGroups && rectified_ < kMaxRectifiedReads) {
      // An unsure reading of one of the likeliest places, or one that fits no pattern: the
      // row may have lost a character at either end or read a broken one. The rectified
      // crop votes as well.
      ReadRectifiedInto(candidate.row, &readings);
      texts = RankCandidates(readings, region_, options_.top_n);
    }
    const PlateText& best = texts.front();
    if (best.text.size() < region_.min_length || best.text.size() > region_.max_length + 1) {
      return;
    }
    const float needed = best.matches_pattern ? kMinPatternConfidence : kMinFreeConfidence;
    if (best.confidence < needed) return;

    PlateResult plate;
    const auto outline = detail::FitPlateOutline(grey_, candidate.row, region_);
    for (int i = 0; i < 4; ++i) plate.corners[i] = {outline[i].x, outline[i].y};
    const cv::Rect bounds = CornersBounds(plate.corners);
    if (std::any_of(accepted_.begin(), accepted_.end(),
                    [&](const cv::Rect& r) { return detail::RectIou(r, bounds) > 0.3; })) {
      return;
    }
    accepted_.push_back(bounds);
    plate.text = best.text;
    plate.confidence = best.confidence;
    plate.matches_pattern = best.matches_pattern;
    plate.region = region_.code;
    plate.methods = candidate.methods;
    for (const auto& t : texts)
      plate.candidates.push_back({t.text, t.confidence, t.matches_pattern});
    plates_.push_back(std::move(plate));
  }

  // Reads the row's rectified plate crop into `readings` (one of the photo's
  // kMaxRectifiedReads); whether one of its readings has a plate's length.
  bool ReadRectifiedInto(const detail::CharRow& row, std::vector<PlateReading>* readings) {
    ++rectified_;
    bool plausible = false;
    for (auto& r : ReadRectified(engines_.reader(), grey_, row, region_)) {
      plausible = plausible || PlausibleLength(r.size(), region_);
      readings->push_back(std::move(r));
    }
    return plausible;
  }

  LprEngines& engines_;
  const cv::Mat& grey_;
  const PlateRegion& region_;
  const LprOptions& options_;
  size_t reads_ = 0;                // rows read
  size_t rectified_ = 0;            // rectified crops read
  size_t places_ = 0;               // places read
  std::vector<cv::Rect> read_;      // places read
  std::vector<cv::Rect> accepted_;  // the plates' outlines
  std::vector<PlateResult> plates_;
};

}  // namespace

bool ParseEnhanceMode(std::string_view text, EnhanceMode* out) {
  if (text == "auto") {
    *out = EnhanceMode::kAuto;
  } else if (text == "on") {
    *out = EnhanceMode::kOn;
  } else if (text == "off") {
    *out = EnhanceMode::kOff;
  } else {
    return false;
  }
  return true;
}

std::string_view EnhanceModeName(EnhanceMode mode) {
  switch (mode) {
    case EnhanceMode::kAuto:
      return "auto";
    case EnhanceMode::kOn:
      return "on";
    case EnhanceMode::kOff:
      return "off";
  }
  return "auto";
}

LprEngines::LprEngines(const LprConfig& lpr, const std::string& tessdata_dir) {
  // A worker serves one request at a time on one core: OpenCV's own thread pool only adds
  // contention (connected components took twice as long with it on this machine).
  cv::setNumThreads(0);
  regions_ = LoadPlateRegions(lpr.data_dir.empty() ? DataDir("regions") : lpr.data_dir);
  default_region_ = lpr.default_region;
  if (!regions_.count(default_region_)) {
    throw Error(ErrorCode::kInternal, "plate regions misconfigured",
                "lpr.default_region '" + default_region_ + "' has no region file");
  }
  PlateDetectorOptions options;
  options.cascade_files = SplitCascadeFiles(lpr.cascade_files);
  options.onnx_model = lpr.onnx_model;
  detector_ = std::make_unique<PlateDetector>(options);
  reader_ = std::make_unique<PlateReader>(tessdata_dir, "eng", PlateCharModelFile());
}

LprEngines::~LprEngines() = default;

const PlateRegion& LprEngines::Region(std::string_view code) const {
  if (code.empty()) code = default_region_;
  auto it = regions_.find(std::string(code));
  if (it == regions_.end()) {
    std::string known;
    for (const auto& [name, region] : regions_) known += (known.empty() ? "" : ", ") + name;
    throw Error(ErrorCode::kInvalidOption,
                "unknown region '" + std::string(code) + "'; known: " + known)
        .With("option", "region");
  }
  return it->second;
}

LprResult RecognizePlatesInImage(LprEngines& engines, const Image& image,
                                 const LprOptions& options) {
  const auto start = Clock::now();
  if (options.top_n < 1 || options.top_n > kMaxTopN) {
    throw Error(ErrorCode::kInvalidOption, "top_n must be 1.." + std::to_string(kMaxTopN))
        .With("option", "top_n");
  }
  const PlateRegion& region = engines.Region(options.region);
  LprResult result;
  result.info.width = image.width();
  result.info.height = image.height();

  auto stage = Clock::now();
  result.brightness = MeanBrightness(image);
  result.enhanced = options.enhance == EnhanceMode::kOn ||
                    (options.enhance == EnhanceMode::kAuto && result.brightness < kDarkBrightness);
  const Image work = result.enhanced ? EnhanceLowLight(image) : image;
  result.timings.push_back({"enhance", MsSince(stage)});

  stage = Clock::now();
  const cv::Mat& mat = MatOf(work);
  cv::Mat grey = mat;
  if (mat.channels() == 3) cv::cvtColor(mat, grey, cv::COLOR_BGR2GRAY);
  // The cascades are a second opinion, asked only when the rows (and an operator's ONNX
  // model) gave no plate and rows are left to read.
  const unsigned first_pass = detail::kDetectRows | detail::kDetectOnnx;
  std::vector<detail::Candidate> candidates =
      detail::DetectCandidates(engines.detector(), mat, region, first_pass);
  double detect_ms = MsSince(stage);

  stage = Clock::now();
  PlateReads reads(engines, grey, region, options);
  reads.Read(candidates);
  double read_ms = MsSince(stage);
  if (reads.plates().empty() && reads.can_read() && engines.detector().cascades() > 0) {
    stage = Clock::now();
    std::vector<detail::Candidate> boxes =
        detail::DetectCandidates(engines.detector(), mat, region, detail::kDetectCascades);
    detect_ms += MsSince(stage);
    stage = Clock::now();
    reads.Read(boxes);
    read_ms += MsSince(stage);
  }
  result.plates = std::move(reads.plates());
  result.timings.push_back({"detect", detect_ms});
  std::stable_sort(
      result.plates.begin(), result.plates.end(),
      [](const PlateResult& a, const PlateResult& b) { return a.confidence > b.confidence; });
  result.timings.push_back({"read", read_ms});
  result.timings.push_back({"total", MsSince(start)});
  return result;
}

LprResult RecognizePlates(LprEngines& engines, std::string_view bytes, const ImageLimits& limits,
                          const LprOptions& options, std::string_view sha256) {
  const auto start = Clock::now();
  engines.Region(options.region);  // option errors before any decoding
  ImageInfo info;
  std::vector<Image> pages = DecodeImage(bytes, limits, &info, /*first_pages=*/1);
  const double decode_ms = MsSince(start);
  LprResult result = RecognizePlatesInImage(engines, pages.front(), options);
  result.info = info;
  result.sha256 = sha256.empty() ? Sha256Hex(bytes) : std::string(sha256);
  result.bytes = static_cast<int64_t>(bytes.size());
  result.timings.insert(result.timings.begin(), {"decode", decode_ms});
  result.timings.back().ms = MsSince(start);
  return result;
}

}  // namespace scanline
