// The rule engine: a template's fields found in OCR lines by labels, value patterns and
// layout, with no model and no network.
//
// Each field's hints (core/template.h) pick a strategy:
//   label   - a label word matched fuzzily (core/label_match.h), the value right of it on
//             its line, or on a line below overlapping it; lines whose label is one of the
//             field's exclude_labels ("SUBTOTAL" for a total) are skipped;
//   pattern - the value pattern anywhere on the page, a label on the line or the line above
//             raising the score;
//   header  - the name block at the top of the page: the first lines with letters, a
//             keyword ("SDN BHD", "GMBH") raising the score, exclude_labels skipped;
//   block   - a multi-line value (an address): consecutive lines after another field's line
//             (or after the header) that carry keywords or postcodes, stopped by
//             exclude_labels or a line that is clearly something else;
//   mrz     - an element of a machine readable zone (core/mrz.h, check digits verified).
// Money fields with `checks` are checked against the amounts around them (paid - change, a
// subtotal or total plus the adjustments under it, the same amount on two lines, the cash
// step); dates followed by a time of day weigh more, and two invalid readings of one date
// merge; header names and address blocks get the OCR repairs described in docs/forms.md.
// Every candidate is normalised and validated by its field type (core/field_types.h);
// invalid candidates keep a fraction of their score, so a valid one wins when there is one.
// A chosen value with a word OCR read below the field's min_word_confidence is not returned
// (found=false), though its line still places the fields after it.
// The field's `prefer` then picks: best, or first/largest among candidates within 20 % of
// the best score, or last among those tied with it (within 3 %).
//
// With template.key_values the engine also returns every key -> value pair found by layout:
// lines are cut into segments at gaps wider than the line height; a segment ending in ':' (or "key:
// value" inside one) is a key, its value the segment right of it on the same row or else the
// segment under it.
#pragma once

#include <string>
#include <vector>

#include "core/field_types.h"
#include "core/ocr.h"
#include "core/template.h"

namespace scanline {

struct ExtractedField {
  std::string name;
  bool found = false;
  TypedValue value;       // raw as printed, normalised, validity and problems
  double confidence = 0;  // 0..1
  PixelBox box;           // where the value was read (page pixels)
  int page = 0;
  std::string engine;  // "rules" or "llm"
  std::string label;   // the label the value was found by, if any
  // The boxes of the OCR lines (on `page`) the value was read from, also when the value was
  // withheld for a word read below min_word_confidence; empty when no line held a value.
  std::vector<PixelBox> source_lines;
};

struct KeyValuePair {
  std::string key;
  std::string value;
  PixelBox key_box;
  PixelBox value_box;
  int page = 0;
  double confidence = 0;  // 0..1
};

struct RuleExtraction {
  std::vector<ExtractedField> fields;    // one per template field, in template order
  std::vector<KeyValuePair> key_values;  // when template.key_values
};

// Runs every field of `t` over the pages' lines. Never throws for odd input: a field not
// found is returned with found=false.
RuleExtraction ExtractWithRules(const Template& t, const std::vector<OcrPage>& pages);

// Key -> value pairs by layout alone (see above).
std::vector<KeyValuePair> FindKeyValuePairs(const std::vector<OcrPage>& pages);

}  // namespace scanline
