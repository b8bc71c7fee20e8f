// Finding printed labels ("TOTAL", "Date of birth") in OCR lines despite OCR errors.
//
// Text is compared as tokens: upper case ASCII, punctuation trimmed from both ends, a token
// split after a ':' ("DATE:25/12/2018" is "DATE" then "25/12/2018"). A label of k tokens is
// compared with every window of k-1..k+1 tokens of a line, spaces removed on both sides (OCR
// merges and splits words), by Levenshtein distance. The distance allowed grows with the
// label: none up to 3 characters, 1 up to 7, 2 beyond. The same comparison serves the rule
// engine (labels of template fields) and auto-fill (profile keys against form labels).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/ocr.h"

namespace scanline {

// One token of a line: its text normalised for matching, where it sits in the line text, and
// the box of the OCR word it came from.
struct LineToken {
  std::string norm;  // upper case, trimmed of punctuation; may be "" for "-" or ":"
  size_t begin = 0;  // byte offsets into the line text
  size_t end = 0;
  PixelBox box;
  float confidence = 100;  // the OCR word's, 0..100 (100 for text without OCR)
};

// A line prepared for matching.
struct TextLine {
  std::string text;
  PixelBox box;
  float confidence = 0;  // 0..100
  int page = 0;
  int index = 0;  // reading order over the document
  std::vector<LineToken> tokens;
};

// The lines of OCR pages in reading order (top to bottom, then left to right per page).
std::vector<TextLine> PrepareLines(const std::vector<OcrPage>& pages);
// One line from text alone (boxes zero), for tests and for text without layout.
TextLine PrepareLine(std::string_view text, const PixelBox& box = {});

// Upper case, trimmed of punctuation at both ends, inner whitespace collapsed.
std::string NormaliseLabel(std::string_view text);

// Levenshtein distance over bytes, giving up (returning limit + 1) once above `limit`.
int EditDistance(std::string_view a, std::string_view b, int limit);

// Edits allowed when matching a label of `length` characters (spaces excluded).
int AllowedEdits(size_t length);

struct LabelMatch {
  bool found = false;
  std::string label;       // the label as given
  size_t first_token = 0;  // tokens [first_token, end_token) of the line
  size_t end_token = 0;
  size_t text_begin = 0;  // byte range in the line text
  size_t text_end = 0;
  double quality = 0;  // 1 for an exact match, down to ~0.7 at the allowed distance
  PixelBox box;        // union of the matched tokens' boxes
};

// The best match of `label` in `line` (leftmost among equals); found=false when none is
// within the allowed distance.
LabelMatch FindLabel(const TextLine& line, std::string_view label);

// The best match of any of `labels`; longer labels win ties, so "GRAND TOTAL" beats "TOTAL".
LabelMatch FindAnyLabel(const TextLine& line, const std::vector<std::string>& labels);

// Similarity 0..1 of two short phrases after normalisation (1 - distance / longer length),
// with spaces, '_' and '-' ignored. For profile keys against form labels.
double PhraseSimilarity(std::string_view a, std::string_view b);

// Union of two boxes (an empty box is ignored).
PixelBox UnionBox(const PixelBox& a, const PixelBox& b);

// Whether two boxes share pixels (touching edges do not count).
bool BoxesOverlap(const PixelBox& a, const PixelBox& b);

}  // namespace scanline
