// Auto-fill: where each known value goes on a blank form, and the form with the values
// written in.
//
// The form's OCR lines are cut into label segments at wide gaps; runs of '_' or '.' (the
// printed blanks) are not labels but mark where writing goes. Each profile key is compared
// with every label, itself and its synonyms ("dob" ~ "date of birth"), by fuzzy phrase
// similarity (core/label_match.h); each label takes at most one key, best pairs first. The
// value goes in the blank right of the label on its row when there is room (up to the next
// text, or over a printed blank), else under the label. The image is drawn with OpenCV's
// freetype module and a Unicode font (DejaVu Sans from fonts-dejavu-core by default), so
// accents and non-Latin scripts are written as given.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/image.h"
#include "core/ocr.h"

namespace scanline {

// Profile keys and values in the order given ({"full_name": "Jane Doe", ...}).
using Profile = std::vector<std::pair<std::string, std::string>>;

// Reads a flat JSON object of strings and numbers. Throws Error(kBadRequest) for anything
// else, naming the member.
Profile ParseProfile(std::string_view json);

struct FillOptions {
  std::string font_path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  double min_similarity = 0.75;  // 0..1: how close a label must be to a key or synonym
  bool render = true;            // produce the PNG
};

struct FillPlacement {
  std::string key;    // profile key
  std::string value;
  std::string label;  // the label text on the form
  std::string matched;  // the key or synonym that matched the label
  PixelBox label_box;
  PixelBox value_box;  // where the value is written
  std::string position;  // "right" or "below"
  double score = 0;      // similarity 0..1
};

struct FillResult {
  std::vector<FillPlacement> placements;
  std::vector<std::string> unmatched_keys;
  std::string png;  // the filled form (when options.render)
  int width = 0;
  int height = 0;
};

// Synonyms of common profile keys (names, dates, address parts, contact, identity numbers).
const std::map<std::string, std::vector<std::string>>& DefaultSynonyms();

// Places `profile` on `form` whose OCR is `page`. Throws Error(kInternal) when the font cannot
// be loaded while rendering.
FillResult FillForm(const Image& form, const OcrPage& page, const Profile& profile,
                    const FillOptions& options = {});

struct OcrConfig;  // core/config.h
// OCR options for reading a blank form: the configured defaults with sparse-text page
// segmentation (psm 11), which finds labels scattered over a form, and word boxes.
OcrOptions FillOcrOptions(const OcrConfig& config);

// The placements as JSON: {"placements":[...],"unmatched_keys":[...],"width","height"} and,
// when `with_image`, "image_png_base64".
std::string FillResultToJson(const FillResult& result, bool with_image);

}  // namespace scanline
