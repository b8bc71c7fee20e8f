// The OpenCV side of plate detection and reading: rows of character-like blobs.
//
// A plate is, above all, a short row of blobs of one height, evenly spaced, darker (or
// lighter) than what lies around them. FindCharRows finds such rows in a grey image; the
// detector uses it on the whole frame, the reader on the neighbourhood of a cascade hit.
// For core/plate_*.cc only.
#pragma once

#include <array>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/plate_detector.h"
#include "core/plate_patterns.h"
#include "core/plate_reader.h"

namespace scanline::detail {

struct CharRow {
  std::vector<cv::Rect> chars;  // sorted left to right, image pixels
  double char_height = 0;       // median blob height, pixels
  double angle = 0;             // radians; the row's direction, positive = falling to the right
  cv::Point2f start;            // centre-line points at the first and last blob's outer edges
  cv::Point2f end;
  bool light_on_dark = false;  // light characters on a dark plate
  double score = 0;            // higher = more plate-like
  cv::Point2f Center() const { return (start + end) * 0.5f; }
  double Length() const { return cv::norm(end - start); }
};

struct RowSearch {
  int min_char_height = 9;  // pixels of the input
  int max_char_height = 200;
  int min_chars = 4;
  int max_chars = 10;
  double contrast = 10;     // grey levels a character must be darker than its surroundings
  bool dark_chars = true;   // search dark-on-light
  bool light_chars = true;  // search light-on-dark
  bool cut_frames = false;  // also search with long horizontal runs (frame edges) taken out
};

// Rows of character-like blobs in `grey` (CV_8UC1), best first; overlapping rows found at
// several scales or polarities are merged (the one with more characters kept).
std::vector<CharRow> FindCharRows(const cv::Mat& grey, const RowSearch& search);

// Intersection over union of two rectangles.
double RectIou(const cv::Rect& a, const cv::Rect& b);

// The axis-aligned bounding box of a row's blobs.
cv::Rect RowBounds(const CharRow& row);

// The row cut out of `grey`, turned level and scaled so characters are `char_px` tall, with
// margins of `margin_x` and `margin_y` character heights; light characters inverted to dark.
cv::Mat StraightenRow(const cv::Mat& grey, const CharRow& row, int char_px, double margin_x,
                      double margin_y);

// A row levelled, unslanted and scaled for reading (dark characters on light).
struct RowImages {
  cv::Mat line;    // grey
  cv::Mat smooth;  // line, lightly blurred
  cv::Mat otsu;    // ink = 255, Otsu's threshold of smooth
};

// The line is inverted when Otsu's dark class covers over 0.62 of the characters' band
// (CharBandInk) and over half of the margins above and below it (MarginInk): the row was
// found in the gaps between the characters. With `band_only_polarity`, on the band alone, as
// the character model's trainer does (docs/lpr.md, "The character model").
RowImages PrepareRow(const cv::Mat& grey, const CharRow& row, bool band_only_polarity = false);

// The share (0..1) of a prepared line's margins above and below its characters' band, over
// the middle half of its width, that the ink of `otsu` (255) covers.
double MarginInk(const cv::Mat& otsu);

// The share (0..1) of a prepared line's middle band, where its characters stand, that the
// ink of `otsu` (255, a line of PrepareRow's height) covers.
double CharBandInk(const cv::Mat& otsu);

// A prepared row binarised one way (see ReadRow), dark characters on white; way 1 is the
// grey line itself. Way 3 is way 0 with the plate frame's edges cut off the characters (runs
// of ink longer than a character is wide, off the line's middle); an empty Mat when the
// line has no such runs. With `cut_touching`, a character joined to something above or
// below it (the plate's header, a frame, a sticker) is cut out of it at the band of the
// other characters; without, such a blob is left out with the rest.
cv::Mat BinarisedLine(const RowImages& images, int way, bool cut_touching = true);

// The characters of a binarised line (dark on white), left to right: each one's ink (255)
// cut to its box. Pieces of a broken character that overlap in x are one; a blob much wider
// than the line's characters are tall is cut at its thinnest columns.
std::vector<cv::Mat> LineGlyphs(const cv::Mat& clean);

// The row's own blobs (CharRow::chars, as the detector found them), each thresholded
// (Otsu) in its box at the photo's resolution and cut to its largest blob: the characters
// as segmented before any straightening. An empty Mat where a box holds no ink.
std::vector<cv::Mat> RowBlobGlyphs(const cv::Mat& grey, const CharRow& row);

// The character classifier's reading of RowBlobGlyphs; empty without a classifier.
PlateReading ReadRowBlobs(PlateReader& reader, const cv::Mat& grey, const CharRow& row);

// The readings of a prepared row binarised one way: Tesseract's, and for the binarised ways
// the character classifier's (when the reader has one); empty readings are left out.
std::vector<PlateReading> ReadRowWay(PlateReader& reader, const RowImages& images, int way);

// Reads a row: straightens it, binarises it in the ways first_way..last_way (0: character
// blobs of a global threshold, 1: the grey line, 2: character blobs of a local threshold, 3:
// those of 0 with the frame's edges cut off) and
// returns one reading per way that produced text.
std::vector<PlateReading> ReadRow(PlateReader& reader, const cv::Mat& grey, const CharRow& row,
                                  int first_way, int last_way);

// A plate candidate: a row of characters, and which detectors saw it.
struct Candidate {
  CharRow row;
  std::string methods;  // "chars", "cascade", "onnx", joined by '+'
  double score = 0;
};

// The plate's outline around a row of characters, from the region's plate shape: corners
// clockwise from the top-left, image pixels.
std::array<cv::Point2f, 4> PlateOutline(const CharRow& row, const PlateRegion& region);

// PlateOutline fitted to the plate's own edges in `grey` (the strongest horizontal edges
// above and below the characters, vertical ones left and right of them, within the range
// the region's shape allows); the region's shape where no edge is strong enough. An empty
// `grey` gives PlateOutline.
std::array<cv::Point2f, 4> FitPlateOutline(const cv::Mat& grey, const CharRow& row,
                                           const PlateRegion& region);

// Which detectors DetectCandidates runs (bits).
enum DetectorSet : unsigned {
  kDetectRows = 1,      // rows of character blobs
  kDetectCascades = 2,  // the Haar cascades
  kDetectOnnx = 4,      // the operator's ONNX model, when there is one
  kDetectAll = 7,
};

// The plate candidates of the detectors in `which`, merged, best first (PlateDetector::Detect
// without the outlines). `image` is CV_8UC1 or CV_8UC3.
std::vector<Candidate> DetectCandidates(PlateDetector& detector, const cv::Mat& image,
                                        const PlateRegion& region, unsigned which = kDetectAll);

}  // namespace scanline::detail
