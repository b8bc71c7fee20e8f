// Licence-plate formats per region, read from small text files (data/regions/<code>.txt).
//
// A pattern is a string of `@` (a letter A-Z), `#` (a digit 0-9), `?` (either) and literal
// upper-case letters or digits, e.g. `@@@####` (Brazil before Mercosur) or `#@@@###`
// (California). A region also says what its plates look like (width/height and where the
// characters sit), which the detector uses to turn a row of characters into a plate outline.
//
// File format, one setting per line, `;` starts a comment (`#` is a pattern character):
//   name = Brazil
//   aspect = 3.08          ; plate width / height
//   char_height = 0.48     ; character height / plate height
//   char_center = 0.62     ; where the character row's centre sits, from the top (0..1)
//   pattern = @@@####
//   pattern = #@@@### 5    ; an optional weight (default 1): how common the format is
//   free_text = 0.8        ; optional: see PlateRegion::free_text
//
// A weight is a prior: among candidate texts that fit a pattern, a text of a common format
// is preferred to an equally likely reading of a rare one (weight w multiplies the ranking
// score by w^0.15, so a format 5 times as common wins at about 0.79 of the likelihood).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scanline {

struct PlateRegion {
  std::string code;  // file name without .txt: "us", "br", "eu"
  std::string name;  // "United States"
  double aspect = 2.0;
  double char_height = 0.45;
  double char_center = 0.5;
  std::vector<std::string> patterns;
  std::vector<double> weights;  // one per pattern, >= 0.01
  // Pairs of characters printed with one glyph on these plates, as "from to": "O0" means
  // a read O is reported as 0 (US plates use one shape for both). Setting `same_glyph`.
  std::vector<std::pair<char, char>> same_glyph;
  // How far a text that fits no pattern is trusted (setting `free_text`, 0..1): a text
  // read with at least kMinFreeConfidence (core/plate_reader.h) ranks among the fitting ones
  // by this share of its likelihood. 0: fitting texts always first (a region whose patterns
  // cover its plates); US patterns miss vanity and rare plates.
  double free_text = 0;
  size_t min_length = 4;  // shortest and longest pattern (or 4..8 without patterns)
  size_t max_length = 8;

  // Whether the region has plates of `n` characters (min_length..max_length).
  bool PlateLength(size_t n) const { return n >= min_length && n <= max_length; }
};

// Whether `text` (upper-case A-Z0-9) fits `pattern` exactly.
bool MatchesPattern(std::string_view text, std::string_view pattern);
// Whether `text` fits any of the region's patterns.
bool MatchesRegion(std::string_view text, const PlateRegion& region);
// The largest weight of the region's patterns that `text` fits; 0 when none.
double PatternWeight(std::string_view text, const PlateRegion& region);

// Parses one region file's text. Throws Error(kInternal) naming the file and line on a bad
// line (unknown key, bad number, pattern with other characters).
PlateRegion ParsePlateRegion(std::string_view code, std::string_view text,
                             std::string_view file_name);

// Every region file in a directory, keyed by code. Throws Error(kInternal) when the
// directory cannot be read or a file is malformed.
std::map<std::string, PlateRegion> LoadPlateRegions(const std::string& dir);

}  // namespace scanline
