// A second reading of chosen text lines.
//
// Tesseract reads a whole receipt page at one scale, its layout analysis deciding where the
// lines are; small or faint print (a shop's name, its address) then comes back with a
// character or two misread. Reading one line again on its own, cut from the page level along
// its words and scaled up, as a single text line (psm 7), often reads those characters right
// - and as often reads others wrong, with a confidence as high: Tesseract's confidence does
// not tell the better of two readings apart. So the line is read twice, at two scales, and
// the second reading replaces the first only when both agree word for word; each of its words
// then gets the lower of its two confidences. Two independent readings agreeing is the
// evidence; a line they disagree on keeps its first reading.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/image.h"
#include "core/ocr.h"

namespace scanline {

// A line of one page of a document, by its box (as OcrLine::box).
struct LineRef {
  int page = 0;  // index into the pages
  PixelBox box;
};

struct LineRereadOptions {
  std::string lang = "eng";  // Tesseract languages, as OcrOptions::lang
  // Pixels: the median word height of the line is scaled to each of these (never down, by at
  // most 4 times) for the two readings.
  double first_height = 64;
  double second_height = 40;
  // Lines are not begun after this moment (steady clock); max() = no limit.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

struct LineRereadResult {
  int reread = 0;    // lines read again
  int replaced = 0;  // of those, lines whose second reading was kept
  double ms = 0;     // time spent, milliseconds
};

// Reads each line of `pages` whose box equals one of `lines` again from `images` (the decoded
// pages the OCR was made from, in the same order and pixels) as described above. A replaced
// line gets the new words (boxes in page pixels), their text and a confidence, its box stays.
// Refs naming no line or no page, and lines without word boxes, are skipped; the deadline
// passing stops the work, leaving the lines not yet read as they were. Throws what Recognize
// throws otherwise (Error(kInvalidOption) for an unknown language, Error(kInternal)).
LineRereadResult RereadLines(OcrEngines& engines, const std::vector<Image>& images,
                             const std::vector<LineRef>& lines, const LineRereadOptions& options,
                             std::vector<OcrPage>& pages);

}  // namespace scanline
