// Rule-based field extraction (see core/rule_engine.h).
#include "core/rule_engine.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "core/label_match.h"
#include "core/mrz.h"
#include "core/pattern.h"

namespace scanline {
namespace {

// Value patterns used when a field names none, by type.
constexpr char kDatePattern[] =
    R"(\b(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}[/.-]\d{1,2}[/.-]\d{1,2}|\d{1,2}[ -]?[A-Za-z]{3,9}\.?[ -,]*\d{2,4}|[A-Za-z]{3,9}\.? \d{1,2},? ?\d{4})\b)";
constexpr char kMoneyPattern[] =
    R"(-?\d{1,3}(?:[,.]\d{3})*[.,] ?\d{2}(?!\d)|-?\d+[.,] ?\d{2}(?!\d))";
constexpr char kNumberPattern[] = R"(-?\d+(?:[.,]\d+)?)";
constexpr char kPhonePattern[] = R"(\+?\(?\d[\d ()./-]{5,18}\d)";
constexpr char kEmailPattern[] = R"([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})";
constexpr char kIdPattern[] = R"([A-Za-z0-9][A-Za-z0-9/_.-]{2,})";
constexpr char kTextPattern[] = R"(\S.*\S|\S)";

std::string PatternFor(const FieldSpec& f) {
  if (!f.hints.value_pattern.empty()) return f.hints.value_pattern;
  switch (f.rules.type) {
    case FieldType::kDate:
      return kDatePattern;
    case FieldType::kMoney:
      return kMoneyPattern;
    case FieldType::kNumber:
      return kNumberPattern;
    case FieldType::kPhone:
      return kPhonePattern;
    case FieldType::kEmail:
      return kEmailPattern;
    case FieldType::kId:
      return kIdPattern;
    default:
      return kTextPattern;
  }
}

bool TakesLastMatch(const FieldSpec& f) {
  return f.rules.type == FieldType::kMoney || f.rules.type == FieldType::kNumber;
}

struct Candidate {
  std::string raw;
  PixelBox box;
  int page = 0;
  int line = 0;
  size_t offset = 0;  // in the line, for reading order within a line
  double score = 0;
  std::string label;
  TypedValue value;
  float word_confidence = 100;       // the least OCR confidence of the words read for the value
  std::vector<PixelBox> line_boxes;  // of the lines the value was read from
};

struct Match {
  size_t begin = 0;
  size_t end = 0;
};

// Matches of `pattern` in line.text[from, to).
std::vector<Match> FindMatches(const TextLine& line, const std::string& pattern, size_t from,
                               size_t to) {
  std::vector<Match> out;
  if (from >= to || from >= line.text.size()) return out;
  to = std::min(to, line.text.size());
  const std::string_view part = std::string_view(line.text).substr(from, to - from);
  for (const Pattern::Span& span : CachedPattern(pattern, true).FindAll(part)) {
    out.push_back({from + span.begin, from + span.end});
  }
  return out;
}

PixelBox BoxOf(const TextLine& line, size_t begin, size_t end) {
  PixelBox box;
  for (const LineToken& t : line.tokens) {
    if (t.end > begin && t.begin < end) box = UnionBox(box, t.box);
  }
  return box.w > 0 ? box : line.box;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

// Trims spaces and the marks OCR reads from rules, bullets and stains at both ends
// ("| HON HWA TRADING", "* NAME SDN BHD:"); a closing '.' or ')' stays.
std::string TrimPunctuation(std::string_view s) {
  auto noise_front = [](unsigned char c) {
    return std::isspace(c) || (std::ispunct(c) && c != '(' && c != '&' && c != '#');
  };
  auto noise_back = [](unsigned char c) {
    return std::isspace(c) || (std::ispunct(c) && c != ')' && c != '.' && c != '&');
  };
  // Typographic marks OCR makes of specks and rules: « » “ ” ‘ ’ — – • ©, in UTF-8.
  static const std::string_view kMarks[] = {
      "\xc2\xab",     "\xc2\xbb",     "\xe2\x80\x9c", "\xe2\x80\x9d", "\xe2\x80\x98",
      "\xe2\x80\x99", "\xe2\x80\x94", "\xe2\x80\x93", "\xe2\x80\xa2", "\xc2\xa9"};
  size_t b = 0, e = s.size();
  for (bool changed = true; changed;) {
    changed = false;
    while (b < e && noise_front(static_cast<unsigned char>(s[b]))) ++b, changed = true;
    while (e > b && noise_back(static_cast<unsigned char>(s[e - 1]))) --e, changed = true;
    for (std::string_view m : kMarks) {
      if (e - b >= m.size() && s.substr(b, m.size()) == m) b += m.size(), changed = true;
      if (e - b >= m.size() && s.substr(e - m.size(), m.size()) == m) e -= m.size(), changed = true;
    }
  }
  return std::string(s.substr(b, e - b));
}

// OCR repairs of an amount: spaces inside it ("100. 00") go; in a currency written with a
// decimal point, a lone comma before the last two digits ("37,10") is that point misread.
void RepairAmount(std::string& raw, const std::string& currency) {
  raw.erase(std::remove(raw.begin(), raw.end(), ' '), raw.end());
  static const std::set<std::string> kPointCurrencies = {
      "MYR", "USD", "SGD", "GBP", "AUD", "CAD", "HKD", "CNY", "JPY", "INR", "PHP", "THB", "NZD"};
  if (!kPointCurrencies.count(currency)) return;
  const size_t comma = raw.rfind(',');
  if (comma != std::string::npos && comma + 3 == raw.size() && raw.find_first_of(",.") == comma) {
    raw[comma] = '.';
  }
}

// An all-numeric date with the letter O read for a zero ("O4/12/2017") gets its zeros back,
// and a lost day/month separator ("2703/2018") is put back; dates with month names are left
// alone.
void RepairNumericDate(std::string& raw) {
  for (char c : raw) {
    if (std::isalpha(static_cast<unsigned char>(c)) && c != 'O' && c != 'o') return;
  }
  for (char& c : raw) {
    if (c == 'O' || c == 'o') c = '0';
  }
  // "2703/2018": the separator between day and month was lost.
  if (raw.size() == 9 && raw[4] == '/' &&
      std::all_of(raw.begin(), raw.begin() + 4, [](unsigned char c) { return std::isdigit(c); })) {
    raw.insert(2, "/");
  }
}

// Text values right of a label start after separators (": ", "- ").
size_t SkipSeparators(const std::string& text, size_t at) {
  while (at < text.size() && (text[at] == ' ' || text[at] == ':' || text[at] == '-' ||
                              text[at] == '.' || text[at] == '=')) {
    ++at;
  }
  return at;
}

double Validated(Candidate& c, const FieldSpec& f) {
  c.value = NormaliseValue(c.raw, f.rules);
  return c.value.valid ? 1.0 : 0.35;
}

bool Excluded(const TextLine& line, const FieldSpec& f, const LabelMatch& label) {
  if (f.hints.exclude_labels.empty()) return false;
  for (const std::string& ex : AllLabels(f.hints.exclude_labels)) {
    LabelMatch m = FindLabel(line, ex);
    if (!m.found) continue;
    // An exclusion read at least as well as the label hides it: "SUB TOTAL" and
    // "TOTAL (EXCLUDING GST)" hide "TOTAL", but "TOTAL INCL" is not hidden by a fuzzy
    // reading of it as "TOTAL EXCL".
    // Without a label to compare with, only an exact reading excludes: a fuzzy one would
    // take "BORONG" for "LORONG".
    if (!label.found ? m.quality >= 0.99 : m.quality >= label.quality - 1e-9) return true;
  }
  return false;
}

struct PageSize {
  int width = 0;
  int height = 0;
};

bool InRegion(const TextLine& line, PageRegion region, const std::vector<PageSize>& sizes) {
  if (region == PageRegion::kAny) return true;
  const int h = sizes[line.page].height;
  if (h <= 0) return true;
  const int centre = line.box.y + line.box.h / 2;
  return region == PageRegion::kTop ? centre < h * 0.45 : centre > h * 0.4;
}

// An amount in cents as the field reads it (after the OCR repairs), or nothing.
std::optional<long> CentsOf(const FieldSpec& f, std::string raw) {
  RepairAmount(raw, f.rules.currency);
  auto m = NormaliseMoney(raw, f.rules.currency);
  if (!m) return std::nullopt;
  try {
    const double amount = std::stod(m->amount);
    if (!(std::fabs(amount) < 1e12)) return std::nullopt;  // no amount, a run of digits
    return std::lround(amount * 100);
  } catch (...) {
    return std::nullopt;
  }
}

// "-12.05" for -1205.
std::string CentsText(long cents) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%ld.%02ld", cents < 0 ? "-" : "", std::labs(cents) / 100,
                std::labs(cents) % 100);
  return buf;
}

// The text before a registration number printed after a name: "AEON CO. (M) BHD (126926-8) ;"
// is "AEON CO. (M) BHD ". A text that is only the number stays as it is.
std::string WithoutRegistration(const std::string& text) {
  const std::optional<Pattern::Span> m =
      CachedPattern(R"(\(\s*[A-Z]{0,3}[ :.]*\d[\d ]{3,}[-\dA-Z ]*\)?[^A-Za-z0-9]*$)", true)
          .Find(text);
  if (!m || m->begin == 0) return text;
  return text.substr(0, m->begin);
}

// A hyphen OCR read for the space before a legal-form word ("INTERNATIONAL-SDN BHD") is a
// space again. Only whole keywords of letters, after a letter.
std::string SpaceBeforeKeyword(std::string text, const std::vector<std::string>& keywords) {
  for (const std::string& k : keywords) {
    const std::string word = NormaliseLabel(k);
    if (word.size() < 3 || !std::all_of(word.begin(), word.end(), [](unsigned char c) {
          return std::isalpha(c) || c == ' ';
        })) {
      continue;
    }
    const std::string first = word.substr(0, word.find(' '));
    for (size_t at = text.find('-'); at != std::string::npos; at = text.find('-', at + 1)) {
      const size_t end = at + 1 + first.size();
      if (at == 0 || !std::isalpha(static_cast<unsigned char>(text[at - 1])) || end > text.size() ||
          (end < text.size() && std::isalnum(static_cast<unsigned char>(text[end])))) {
        continue;
      }
      if (NormaliseLabel(text.substr(at + 1, first.size())) == first) text[at] = ' ';
    }
  }
  return text;
}

// The least OCR confidence among the words of `lines` that appear in `value` (words a rule
// rewrote, like "SON" spelt "SDN", and specks left out do not count); 100 when none does.
float WordConfidence(const std::vector<const TextLine*>& lines, const std::string& value) {
  std::string upper = value;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  float least = 100;
  for (const TextLine* line : lines) {
    for (const LineToken& t : line->tokens) {
      if (std::none_of(t.norm.begin(), t.norm.end(),
                       [](unsigned char ch) { return std::isalnum(ch); })) {
        continue;
      }
      if (upper.find(t.norm) != std::string::npos) least = std::min(least, t.confidence);
    }
  }
  return least;
}

// OCR repairs of one word of an address, only where the word fits a known shape:
//  - a postcode, five characters with at least three digits, whose others are letters OCR
//    reads for digits ("S3000" -> "53000", "4O170" -> "40170");
//  - a word of five or more letters one substitution away from exactly one word of the
//    lexicon (the field's keywords: "JAIAN" -> "JALAN", "MALAYSTA" -> "MALAYSIA"), spelt in
//    the word's case.
// Punctuation around the word stays.
std::string RepairAddressWord(const std::string& word, const std::set<std::string>& lexicon) {
  size_t b = 0, e = word.size();
  while (b < e && std::ispunct(static_cast<unsigned char>(word[b]))) ++b;
  while (e > b && std::ispunct(static_cast<unsigned char>(word[e - 1]))) --e;
  std::string core = word.substr(b, e - b);
  if (core.size() == 5) {
    static const std::map<char, char> kDigitFor = {{'S', '5'}, {'O', '0'}, {'o', '0'},
                                                   {'D', '0'}, {'Q', '0'}, {'I', '1'},
                                                   {'l', '1'}, {'B', '8'}, {'Z', '2'}};
    int digits = 0;
    bool fits = true;
    for (char c : core) {
      if (std::isdigit(static_cast<unsigned char>(c))) {
        ++digits;
      } else if (!kDigitFor.count(c)) {
        fits = false;
      }
    }
    if (fits && digits >= 3 && digits < 5) {
      for (char& c : core) {
        if (!std::isdigit(static_cast<unsigned char>(c))) c = kDigitFor.at(c);
      }
      return word.substr(0, b) + core + word.substr(e);
    }
  }
  if (core.size() < 5 ||
      !std::all_of(core.begin(), core.end(), [](unsigned char c) { return std::isalpha(c); })) {
    return word;
  }
  std::string upper = core;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (lexicon.count(upper)) return word;
  const std::string* only = nullptr;
  for (const std::string& w : lexicon) {
    if (w.size() != upper.size() || EditDistance(w, upper, 1) != 1) continue;
    if (only != nullptr) return word;  // two words fit: no way to tell
    only = &w;
  }
  if (only == nullptr) return word;
  std::string fixed = *only;
  const bool all_upper =
      std::none_of(core.begin(), core.end(), [](unsigned char c) { return std::islower(c); });
  if (!all_upper) {
    for (size_t i = 1; i < fixed.size(); ++i) {
      fixed[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(fixed[i])));
    }
  }
  return word.substr(0, b) + fixed + word.substr(e);
}

// A one-word keyword read with characters OCR confuses for its own ('$' or '5' for 'S', '8'
// for 'B', '0' for 'O' or 'D', '1' or '|' for 'I'), every other character as printed:
// "$/B" is "S/B", "BH0" is "BHD". Quality 0.9, so the reading is spelt as the keyword.
LabelMatch FindWithConfusions(const TextLine& line, const std::string& keyword) {
  LabelMatch m;
  const std::string norm = NormaliseLabel(keyword);
  if (norm.find(' ') != std::string::npos || norm.size() < 3) return m;
  auto same = [](char read, char want) {
    switch (want) {
      case 'S':
        return read == '$' || read == '5';
      case 'B':
        return read == '8';
      case 'O':
      case 'D':
        return read == '0';
      case 'I':
        return read == '1' || read == '|';
      default:
        return false;
    }
  };
  for (size_t i = 0; i < line.tokens.size(); ++i) {
    const std::string& t = line.tokens[i].norm;
    if (t.size() != norm.size() || t == norm) continue;
    bool fits = true;
    for (size_t c = 0; c < t.size() && fits; ++c) fits = t[c] == norm[c] || same(t[c], norm[c]);
    if (!fits) continue;
    m.found = true;
    m.label = keyword;
    m.first_token = i;
    m.end_token = i + 1;
    m.text_begin = line.tokens[i].begin;
    m.text_end = line.tokens[i].end;
    m.quality = 0.9;
    m.box = line.tokens[i].box;
    return m;
  }
  return m;
}

class FieldFinder {
 public:
  FieldFinder(const std::vector<TextLine>& lines, const std::vector<PageSize>& sizes)
      : lines_(lines), sizes_(sizes) {}

  std::vector<Candidate> ByLabel(const FieldSpec& f) const {
    std::vector<Candidate> out;
    const std::vector<std::string> labels = AllLabels(f.hints.labels);
    const std::string pattern = PatternFor(f);
    for (const TextLine& line : lines_) {
      if (!InRegion(line, f.hints.region, sizes_)) continue;
      LabelMatch label = FindAnyLabel(line, labels);
      if (!label.found || Excluded(line, f, label)) continue;
      for (ValuePosition pos : f.hints.positions) {
        if (pos == ValuePosition::kRight || pos == ValuePosition::kSameLine) {
          size_t from =
              pos == ValuePosition::kRight ? SkipSeparators(line.text, label.text_end) : 0;
          auto matches = FindMatches(line, pattern, from, line.text.size());
          if (pos == ValuePosition::kSameLine) {
            // Not inside the label itself.
            matches.erase(std::remove_if(matches.begin(), matches.end(),
                                         [&](const Match& m) {
                                           return m.begin < label.text_end &&
                                                  label.text_begin < m.end;
                                         }),
                          matches.end());
          }
          if (matches.empty()) continue;
          const Match& m = TakesLastMatch(f) ? matches.back() : matches.front();
          double weight = pos == ValuePosition::kRight ? 1.0 : 0.8;
          // Several amounts after a label make a table row ("Total 80.91 0.00" in a tax
          // summary), not the line of one value.
          if (TakesLastMatch(f) && matches.size() > 1) weight *= 0.8;
          out.push_back(Make(f, line, m, label, weight));
        } else {
          BelowLabel(f, line, label, pattern, out);
        }
      }
    }
    return out;
  }

  std::vector<Candidate> ByPattern(const FieldSpec& f) const {
    std::vector<Candidate> out;
    const std::vector<std::string> labels = AllLabels(f.hints.labels);
    const std::string pattern = PatternFor(f);
    for (size_t i = 0; i < lines_.size(); ++i) {
      const TextLine& line = lines_[i];
      if (!InRegion(line, f.hints.region, sizes_)) continue;
      auto matches = FindMatches(line, pattern, 0, line.text.size());
      if (matches.empty()) continue;
      LabelMatch label;
      double label_weight = 0.6;
      if (!labels.empty()) {
        label = FindAnyLabel(line, labels);
        if (label.found) {
          label_weight = 1.0;
        } else if (i > 0 && lines_[i - 1].page == line.page) {
          LabelMatch above = FindAnyLabel(lines_[i - 1], labels);
          if (above.found) label_weight = 0.9;
        }
      }
      if (Excluded(line, f, label)) continue;
      for (const Match& m : matches) {
        if (label.found && m.begin < label.text_end && label.text_begin < m.end) continue;
        double weight = label_weight;
        // A date followed by a time of day is the moment of the sale, not a number that
        // looks like a date ("TAXINV :002-155 19/03/16" against "18/03/18 09:03").
        if (f.rules.type == FieldType::kDate &&
            CachedPattern(R"(^\s*[,;]?\s*\d{1,2}[:.]\d{2}(?!\d))", false)
                .Search(std::string_view(line.text).substr(m.end))) {
          weight *= 1.3;
        }
        out.push_back(Make(f, line, m, label, weight));
      }
    }
    return out;
  }

  std::vector<Candidate> Header(const FieldSpec& f) const {
    std::vector<Candidate> out;
    int rank = 0;
    const TextLine* previous = nullptr;  // the header line before, for names split in two
    for (const TextLine& line : lines_) {
      if (line.page != 0) break;
      if (!InRegion(line, f.hints.region, sizes_) || rank >= 12) break;
      int letters = 0, digits = 0, others = 0;
      for (unsigned char c : WithoutRegistration(line.text)) {
        if (std::isalpha(c) || c >= 0x80) {
          ++letters;
        } else if (std::isdigit(c)) {
          ++digits;
        } else if (c != ' ') {
          ++others;
        }
      }
      if (letters < 3 || letters < 2 * (digits + others)) continue;
      ++rank;
      LabelMatch keyword;
      for (const std::string& k : f.hints.keywords) {
        keyword = FindLabel(line, k);
        // Short keywords ("MART", "CO.") only as printed: a fuzzy one hides in any noise.
        if (keyword.found && (keyword.quality >= 0.99 || NormaliseLabel(k).size() > 5)) break;
        // ... or with a character OCR confuses in the keyword's shape ("$/B", "BH0").
        keyword = FindWithConfusions(line, k);
        if (keyword.found) break;
      }
      // A keyword ("SDN BHD") outweighs an excluded word before it ("(TAMAN DAYA) SDN BHD"),
      // not one after it ("COMPANY REG NO"); a line with a postcode is an address.
      const Pattern& postcode = CachedPattern(R"((^|[^(\w-])\d{5}(?![\w-]))", false);
      bool excluded = false;
      for (const std::string& ex : AllLabels(f.hints.exclude_labels)) {
        LabelMatch m = FindLabel(line, ex);
        if (m.found && m.quality >= 0.99 &&
            (!keyword.found || m.first_token >= keyword.first_token)) {
          excluded = true;
        }
      }
      if (excluded || (!keyword.found && postcode.Search(line.text))) {
        previous = nullptr;
        continue;
      }
      double score = 1.0 - 0.07 * (rank - 1);
      // Garbled lines (logos read as text) come with low confidence; printed names have
      // capitals, a line without any is handwriting or noise.
      if (line.confidence > 0 && line.confidence < 55) score *= 0.5;
      if (std::none_of(line.text.begin(), line.text.end(),
                       [](unsigned char c) { return std::isupper(c); })) {
        score *= 0.6;
      }
      std::string text = TrimPunctuation(line.text);
      PixelBox box = line.box;
      std::vector<const TextLine*> used = {&line};
      if (keyword.found) {
        const LabelMatch& m = keyword;
        score += 0.6;
        // A keyword read with an OCR error is written as the template spells it
        // ("SON BHD" -> "SDN BHD").
        if (m.quality < 0.99 && m.text_end <= line.text.size()) {
          std::string fixed =
              line.text.substr(0, m.text_begin) + m.label + line.text.substr(m.text_end);
          text = TrimPunctuation(fixed);
        }
        // A legal form alone on its line ("SDN BHD") ends the name begun on the line above.
        int outside = 0;
        for (size_t i = 0; i < line.text.size(); ++i) {
          if ((i < m.text_begin || i >= m.text_end) &&
              std::isalpha(static_cast<unsigned char>(line.text[i]))) {
            ++outside;
          }
        }
        if (outside < 3 && previous != nullptr) {
          text.insert(0, TrimPunctuation(previous->text) + " ");
          box = UnionBox(previous->box, box);
          used.push_back(previous);
        }
      }
      text = SpaceBeforeKeyword(text, f.hints.keywords);
      // A name ending in '&' goes on on the next line ("HARDWARE &" / "ELECTRICAL").
      if (!text.empty() && text.back() == '&' &&
          static_cast<size_t>(line.index) + 1 < lines_.size()) {
        const TextLine& next = lines_[line.index + 1];
        const std::string more = TrimPunctuation(WithoutRegistration(next.text));
        if (next.page == line.page && std::count_if(more.begin(), more.end(), [](unsigned char ch) {
                                        return std::isalpha(ch);
                                      }) >= 3) {
          text += " " + more;
          box = UnionBox(box, next.box);
          used.push_back(&next);
        }
      }
      Candidate c;
      c.raw = TrimPunctuation(WithoutRegistration(text));
      c.word_confidence = WordConfidence(used, c.raw);
      for (const TextLine* l : used) c.line_boxes.push_back(l->box);
      c.box = box;
      c.page = line.page;
      c.line = line.index;
      c.score = score * Validated(c, f);
      out.push_back(std::move(c));
      previous = &line;
    }
    return out;
  }

  // Checks money candidates against the amounts around them (see RuleHints::checks): a value
  // equal to paid - change, or to a subtotal or total plus the adjustments printed under it,
  // gains; one printed off the step (RM 33.92 for 33.90) loses; a checked value no label
  // reached is added, where it is printed, else as computed.
  void CrossCheck(const FieldSpec& f, std::vector<Candidate>& cands) const {
    const RuleHints& h = f.hints;
    if (h.checks.empty() && h.step_cents <= 0) return;
    auto role_labels = [&](const char* role) {
      auto it = h.checks.find(role);
      return it == h.checks.end() ? std::vector<std::string>{} : it->second;
    };
    const std::vector<std::string> paid = role_labels("paid"), change = role_labels("change"),
                                   subtotal = role_labels("subtotal"),
                                   adjustment = role_labels("adjustment");
    const std::vector<std::string> labels = AllLabels(h.labels);
    const std::string pattern = PatternFor(f);
    enum Role { kNone, kPaid, kChange, kSubtotal, kAdjustment, kTotal };
    struct Amount {
      const TextLine* line = nullptr;
      Match match;
      long cents = 0;
      Role role = kNone;
    };
    std::vector<Amount> amounts;  // the last amount of each line that has one
    for (const TextLine& line : lines_) {
      auto matches = FindMatches(line, pattern, 0, line.text.size());
      if (matches.empty()) continue;
      Amount a;
      a.line = &line;
      a.match = matches.back();
      auto cents = CentsOf(
          f, Trim(std::string_view(line.text).substr(a.match.begin, a.match.end - a.match.begin)));
      if (!cents) continue;
      a.cents = *cents;
      // The role whose label reads best over the most text left of the amount names the
      // line: "SERVICE CHARGE" over a fuzzy "CHANGE", "CASH SHANGE" as "CASH CHANGE" over
      // "CASH"; ties go to change, paid, subtotal, total, adjustment in that order.
      double best = 0;
      auto consider = [&](Role role, const LabelMatch& m) {
        if (!m.found || m.text_end > a.match.begin) return;
        const double weight = m.quality * static_cast<double>(NormaliseLabel(m.label).size());
        if (weight > best + 1e-9) {
          a.role = role;
          best = weight;
        }
      };
      consider(kChange, FindAnyLabel(line, change));
      consider(kPaid, FindAnyLabel(line, paid));
      consider(kSubtotal, FindAnyLabel(line, subtotal));
      const LabelMatch total = FindAnyLabel(line, labels);
      if (total.found && !Excluded(line, f, total)) consider(kTotal, total);
      consider(kAdjustment, FindAnyLabel(line, adjustment));
      amounts.push_back(a);
    }
    std::vector<long> derived;
    std::map<long, std::set<int>> sources;  // the lines each derived value was computed from
    for (size_t i = 0; i < amounts.size(); ++i) {
      const Amount& a = amounts[i];
      if (a.role == kChange) {
        // The paid amount is on one of the few lines above.
        for (size_t j = i; j-- > 0 && a.line->index - amounts[j].line->index <= 4;) {
          if (amounts[j].role != kPaid) continue;
          if (amounts[j].cents > a.cents) {
            derived.push_back(amounts[j].cents - a.cents);
            sources[derived.back()].insert({a.line->index, amounts[j].line->index});
          }
          break;
        }
      }
      if (a.role == kSubtotal || a.role == kTotal) {
        long sum = a.cents;
        int steps = 0;
        std::set<int> from = {a.line->index};
        for (size_t j = i + 1; j < amounts.size() && amounts[j].role == kAdjustment &&
                               amounts[j].line->index - amounts[j - 1].line->index <= 2;
             ++j) {
          sum += amounts[j].cents;
          from.insert(amounts[j].line->index);
          ++steps;
        }
        if (steps > 0 && sum > 0) {
          derived.push_back(sum);
          sources[sum].insert(from.begin(), from.end());
        }
      }
    }
    auto support = [&](long cents) {
      return static_cast<int>(std::count(derived.begin(), derived.end(), cents));
    };
    // The same amount on two lines (TOTAL and CASH, TOTAL and NETT TOTAL) confirms it too.
    auto repeated = [&](long cents) {
      int lines = 0;
      for (const Amount& a : amounts) {
        if (a.cents == cents && a.role != kChange && a.role != kAdjustment) ++lines;
      }
      return lines >= 2 ? 1 : 0;
    };
    auto weight = [&](long cents) {
      double w = 1.0 + 0.3 * std::min(2, support(cents) + repeated(cents));
      // Off the step it cannot be what was paid in cash: most likely a digit misread.
      if (h.step_cents > 0 && cents % h.step_cents != 0) w *= 0.4;
      return w;
    };
    std::set<long> seen;
    const size_t labelled = cands.size();
    for (Candidate& c : cands) {
      auto cents = CentsOf(f, c.raw);
      if (!cents) continue;
      seen.insert(*cents);
      c.score *= weight(*cents);
    }
    // A checked value no label reached: where it is printed; else, as a reading of a labelled
    // amount that differs from it in one digit ("37.00" for 31.00), in that amount's place.
    for (long d : std::set<long>(derived.begin(), derived.end())) {
      if (seen.count(d)) continue;
      const Amount* printed = nullptr;
      for (const Amount& a : amounts) {
        // Not on a line it was computed from: CASH 20.00 less CHANGE 0.00 proves nothing.
        if (a.cents == d && (a.role == kNone || a.role == kPaid) &&
            !sources[d].count(a.line->index)) {
          printed = &a;
        }
      }
      if (printed != nullptr) {
        Candidate c = Make(f, *printed->line, printed->match, LabelMatch{}, 1.0);
        c.score *= weight(d);
        cands.push_back(std::move(c));
        continue;
      }
      const std::string text = CentsText(d);
      for (size_t i = 0; i < labelled; ++i) {
        auto cents = CentsOf(f, cands[i].raw);
        if (!cents || cands[i].label.empty() || support(*cents) + repeated(*cents) > 0) continue;
        const std::string read = CentsText(*cents);
        if (read.size() != text.size() || EditDistance(read, text, 1) != 1) continue;
        Candidate c = cands[i];
        c.raw = text;
        c.word_confidence = 100;  // read again by the check
        c.score = c.score / weight(*cents) * weight(d) * Validated(c, f);
        cands.push_back(std::move(c));
        break;
      }
    }
  }

  // `anchor`: index of the line the block follows, or -1.
  std::vector<Candidate> Block(const FieldSpec& f, int anchor) const {
    std::vector<Candidate> out;
    std::set<std::string> lexicon;  // the words of the field's keywords
    for (const std::string& k : f.hints.keywords) {
      std::istringstream words(NormaliseLabel(k));
      for (std::string w; words >> w;) {
        if (std::all_of(w.begin(), w.end(), [](unsigned char ch) { return std::isalpha(ch); })) {
          lexicon.insert(w);
        }
      }
    }
    const std::vector<std::string> stops = AllLabels(f.hints.exclude_labels);
    // Five digits standing alone (a postcode), not a registration number "(12345-X)".
    const Pattern& postcode = CachedPattern(R"((^|[^(\w-])\d{5}(?![\w-]))", false);
    auto has_keyword = [&](const TextLine& line) {
      for (const std::string& k : f.hints.keywords) {
        if (FindLabel(line, k).found) return true;
      }
      // A house number and a comma open an address ("109, SS21/1A,", "K3-113, JL IBRAHIM").
      const Pattern& house_number =
          CachedPattern(R"(^\W*(?:NO\.?\s*)?[A-Z]?\d+[A-Z]?(?:-\d+[A-Z]?)*\s*,)", true);
      return postcode.Search(line.text) || house_number.Search(line.text);
    };
    // A branch name in brackets under the address is printed as part of it:
    // "(MR DIY TESCO TERBAU)".
    auto bracketed = [](const TextLine& line) {
      const std::string t = Trim(line.text);
      return t.size() > 4 && t.front() == '(' && t.back() == ')' &&
             std::none_of(t.begin(), t.end(), [](unsigned char ch) { return std::isdigit(ch); });
    };
    size_t start = anchor >= 0 ? static_cast<size_t>(anchor) + 1 : 0;
    int skipped = 0;
    std::vector<const TextLine*> taken;
    for (size_t i = start; i < lines_.size(); ++i) {
      const TextLine& line = lines_[i];
      if (anchor >= 0 && line.page != lines_[anchor].page) break;
      if (!InRegion(line, f.hints.region, sizes_) && taken.empty()) break;
      const bool stop = !stops.empty() && FindAnyLabel(line, stops).found;
      const bool keyword = !stop && has_keyword(line);
      if (taken.empty()) {
        if (keyword) {
          taken.push_back(&line);
          continue;
        }
        if (++skipped > 3) break;
        continue;
      }
      if (stop || static_cast<int>(taken.size()) >= f.hints.max_lines) break;
      if (bracketed(line)) {
        taken.push_back(&line);
        break;
      }
      const std::string& prev = taken.back()->text;
      const bool continues = keyword || line.text.find(',') != std::string::npos ||
                             (!prev.empty() && prev.back() == ',');
      if (!continues) break;
      taken.push_back(&line);
    }
    if (taken.empty()) return out;
    Candidate c;
    for (const TextLine* line : taken) {
      // Specks read as "|", "_" or "—" between the words are not part of an address.
      std::string kept;
      std::istringstream words(line->text);
      for (std::string word; words >> word;) {
        const bool noise = std::none_of(word.begin(), word.end(),
                                        [](unsigned char ch) {
                                          return std::isalnum(ch) || ch == '&' || ch >= 0x80;
                                        }) ||
                           TrimPunctuation(word).empty();
        if (!noise) kept += (kept.empty() ? "" : " ") + RepairAddressWord(word, lexicon);
      }
      if (!kept.empty()) c.raw += (c.raw.empty() ? "" : " ") + kept;
      c.box = UnionBox(c.box, line->box);
    }
    c.page = taken.front()->page;
    c.line = taken.front()->index;
    c.word_confidence = WordConfidence(taken, c.raw);
    for (const TextLine* l : taken) c.line_boxes.push_back(l->box);
    c.score = 0.9 * Validated(c, f);
    out.push_back(std::move(c));
    return out;
  }

 private:
  Candidate Make(const FieldSpec& f, const TextLine& line, const Match& m, const LabelMatch& label,
                 double weight) const {
    Candidate c;
    c.raw = Trim(std::string_view(line.text).substr(m.begin, m.end - m.begin));
    if (f.rules.type == FieldType::kMoney) RepairAmount(c.raw, f.rules.currency);
    if (f.rules.type == FieldType::kDate) RepairNumericDate(c.raw);
    c.box = BoxOf(line, m.begin, m.end);
    c.line_boxes = {line.box};
    for (const LineToken& t : line.tokens) {
      if (t.end > m.begin && t.begin < m.end)
        c.word_confidence = std::min(c.word_confidence, t.confidence);
    }
    c.page = line.page;
    c.line = line.index;
    c.offset = m.begin;
    c.label = label.found ? label.label : "";
    // A longer label is more specific ("ROUNDED TOTAL" over "TOTAL").
    double specificity = label.found ? std::min(0.15, 0.01 * label.label.size()) : 0;
    c.score = (label.found ? label.quality : 0.8) * weight * (1.0 + specificity) * Validated(c, f);
    return c;
  }

  void BelowLabel(const FieldSpec& f, const TextLine& line, const LabelMatch& label,
                  const std::string& pattern, std::vector<Candidate>& out) const {
    const int h = std::max(1, line.box.h);
    const int left = label.box.x - label.box.w;
    const int right = label.box.x + std::max(label.box.w * 4, h * 8);
    for (size_t j = static_cast<size_t>(line.index) + 1;
         j < lines_.size() && j <= static_cast<size_t>(line.index) + 3; ++j) {
      const TextLine& below = lines_[j];
      if (below.page != line.page) break;
      if (below.box.y - (line.box.y + line.box.h) > 3 * h) break;
      // A line with a label of its own ("CASH 20.00" under "TOTAL") holds another value.
      if (Excluded(below, f, LabelMatch{}) ||
          FindAnyLabel(below, AllLabels(f.hints.labels)).found || HasCheckLabel(f, below)) {
        continue;
      }
      for (const Match& m : FindMatches(below, pattern, 0, below.text.size())) {
        PixelBox box = BoxOf(below, m.begin, m.end);
        if (box.x + box.w < left || box.x > right) continue;
        double weight = 0.85 - 0.1 * static_cast<double>(j - line.index - 1);
        out.push_back(Make(f, below, m, label, weight));
        return;
      }
    }
  }

  // Whether the line carries a label of one of the field's checks (an exactly read "CASH",
  // "ROUNDING ADJ"): its amount is another one.
  static bool HasCheckLabel(const FieldSpec& f, const TextLine& line) {
    for (const auto& [role, words] : f.hints.checks) {
      LabelMatch m = FindAnyLabel(line, words);
      if (m.found && m.quality >= 0.99) return true;
    }
    return false;
  }

  const std::vector<TextLine>& lines_;
  const std::vector<PageSize>& sizes_;
};

// Two invalid readings of one numeric date ("36/03/2018" and "30/83/2018", the date printed
// twice) make a valid one when each part that differs is valid in just one of them: the day
// from the one, the month from the other.
void MergeDateReadings(const FieldSpec& f, std::vector<Candidate>& cands) {
  using Parts = std::vector<std::string>;
  auto split = [](const std::string& raw) {
    Parts out(1);
    for (char c : raw) {
      if (std::isdigit(static_cast<unsigned char>(c))) {
        out.back().push_back(c);
      } else if (c == '/' || c == '-' || c == '.') {
        out.emplace_back();
      } else {
        return Parts{};
      }
    }
    return out.size() == 3 ? out : Parts{};
  };
  const size_t n = cands.size();
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      const Candidate& a = cands[i];
      const Candidate& b = cands[j];
      if (a.value.valid || b.value.valid || a.raw.size() != b.raw.size()) continue;
      const Parts pa = split(a.raw), pb = split(b.raw);
      if (pa.empty() || pb.empty()) continue;
      // `p` written with a's separators.
      auto join = [&](const Parts& p) {
        std::string t = a.raw;
        for (size_t q = 0, at = 0; q < 3; at += p[q].size() + 1, ++q)
          t.replace(at, p[q].size(), p[q]);
        return t;
      };
      Parts merged = pa;
      bool ok = true;
      for (size_t k = 0; k < 3 && ok; ++k) {
        if (pa[k] == pb[k]) continue;
        if (pa[k].size() != pb[k].size()) {
          ok = false;
          break;
        }
        Parts a_with_b = pa, b_with_a = pb;
        a_with_b[k] = pb[k];
        b_with_a[k] = pa[k];
        const bool from_b = NormaliseValue(join(a_with_b), f.rules).valid;
        const bool from_a = NormaliseValue(join(b_with_a), f.rules).valid;
        if (from_a == from_b) ok = false;
        if (from_b) merged[k] = pb[k];
      }
      if (!ok) continue;
      Candidate c = a;
      c.raw = join(merged);
      c.value = NormaliseValue(c.raw, f.rules);
      if (!c.value.valid) continue;
      c.score = std::max(a.score, b.score) / 0.35;  // the better reading's, now valid
      cands.push_back(std::move(c));
    }
  }
}

double NumericValue(const Candidate& c) {
  try {
    return std::stod(c.value.normalised);
  } catch (...) {
    return -1e300;
  }
}

const Candidate* Choose(const std::vector<Candidate>& cands, Preference prefer) {
  if (cands.empty()) return nullptr;
  const Candidate* best = &cands[0];
  for (const Candidate& c : cands) {
    if (c.score > best->score + 1e-9) best = &c;
  }
  if (prefer == Preference::kBest) return best;
  // first and largest choose among candidates within 20 % of the best; last only among those
  // tied with it (within 3 %), the later of two equally good readings.
  const double floor = best->score * (prefer == Preference::kLast ? 0.97 : 0.8);
  const Candidate* pick = nullptr;
  for (const Candidate& c : cands) {
    if (c.score < floor) continue;
    if (c.value.valid != best->value.valid) continue;
    if (pick == nullptr) {
      pick = &c;
      continue;
    }
    const bool earlier = c.line < pick->line || (c.line == pick->line && c.offset < pick->offset);
    switch (prefer) {
      case Preference::kFirst:
        if (earlier) pick = &c;
        break;
      case Preference::kLast:
        if (!earlier) pick = &c;
        break;
      case Preference::kLargest:
        if (NumericValue(c) > NumericValue(*pick)) pick = &c;
        break;
      case Preference::kBest:
        break;
    }
  }
  return pick ? pick : best;
}

std::string MrzElement(const MrzResult& mrz, const std::string& element) {
  if (element == "zone") {
    std::string zone;
    for (const auto& l : mrz.lines) zone += (zone.empty() ? "" : "\n") + l;
    return zone;
  }
  if (element == "document_code") return mrz.document_code;
  if (element == "issuing_state") return mrz.issuing_state;
  if (element == "surname") return mrz.surname;
  if (element == "given_names") return mrz.given_names;
  if (element == "document_number") return mrz.document_number;
  if (element == "nationality") return mrz.nationality;
  if (element == "birth_date") return mrz.birth_date;
  if (element == "sex") return mrz.sex;
  if (element == "expiry_date") return mrz.expiry_date;
  if (element == "optional_data") return mrz.optional_data;
  if (element == "optional_data2") return mrz.optional_data2;
  return "";
}

// Whether the element's own check digit passed (elements without one follow the zone).
bool MrzElementChecked(const MrzResult& mrz, const std::string& element) {
  if (element == "document_number") return mrz.document_number_ok;
  if (element == "birth_date") return mrz.birth_date_ok;
  if (element == "expiry_date") return mrz.expiry_date_ok;
  if (element == "optional_data") return mrz.optional_data_ok;
  return mrz.AllChecksPass();
}

}  // namespace

std::vector<KeyValuePair> FindKeyValuePairs(const std::vector<OcrPage>& pages) {
  struct Segment {
    std::string text;
    PixelBox box;
    int page = 0;
    int height = 0;
  };
  std::vector<Segment> segs;
  for (const TextLine& line : PrepareLines(pages)) {
    const int h = std::max(1, line.box.h);
    Segment cur;
    size_t begin = 0;
    for (size_t i = 0; i < line.tokens.size(); ++i) {
      const LineToken& t = line.tokens[i];
      if (i > 0) {
        const LineToken& p = line.tokens[i - 1];
        if (t.box.x - (p.box.x + p.box.w) > h * 1.0) {
          cur.text = Trim(std::string_view(line.text).substr(begin, p.end - begin));
          segs.push_back(cur);
          cur = Segment{};
          begin = t.begin;
        }
      } else {
        begin = t.begin;
      }
      cur.box = UnionBox(cur.box, t.box);
      cur.page = line.page;
      cur.height = h;
      if (i + 1 == line.tokens.size()) {
        cur.text = Trim(std::string_view(line.text).substr(begin, t.end - begin));
        segs.push_back(cur);
      }
    }
  }
  auto is_key = [](const std::string& s) {
    return s.size() >= 2 && s.back() == ':' &&
           std::any_of(s.begin(), s.end(), [](unsigned char c) { return std::isalpha(c); });
  };
  // A printed label without a colon: a few words with letters, not a number, not a sentence.
  auto label_like = [](const std::string& s) {
    int words = 1, letters = 0, digits = 0;
    for (unsigned char c : s) {
      if (c == ' ') ++words;
      if (std::isalpha(c)) ++letters;
      if (std::isdigit(c)) ++digits;
    }
    return words <= 4 && letters >= 3 && digits == 0 && s.back() != '.' &&
           std::isupper(static_cast<unsigned char>(s[0]));
  };
  auto value_like = [](const std::string& s) { return !s.empty() && s.back() != ':'; };
  std::vector<KeyValuePair> out;
  std::vector<bool> used(segs.size(), false);
  for (size_t i = 0; i < segs.size(); ++i) {
    const Segment& s = segs[i];
    size_t colon = s.text.find(':');
    if (!is_key(s.text) && colon != std::string::npos && colon > 0 && colon + 1 < s.text.size()) {
      std::string key = Trim(std::string_view(s.text).substr(0, colon));
      std::string value = Trim(std::string_view(s.text).substr(colon + 1));
      if (!key.empty() && !value.empty() &&
          std::any_of(key.begin(), key.end(), [](unsigned char c) { return std::isalpha(c); }) &&
          !std::isdigit(static_cast<unsigned char>(key.back()))) {
        const int kw = static_cast<int>(s.box.w * (colon + 1) / std::max<size_t>(1, s.text.size()));
        out.push_back({key,
                       value,
                       {s.box.x, s.box.y, kw, s.box.h},
                       {s.box.x + kw, s.box.y, s.box.w - kw, s.box.h},
                       s.page,
                       0.6});
        continue;
      }
    }
    const bool colon_key = is_key(s.text);
    if (!colon_key && !label_like(s.text)) continue;
    // Right on the same row, else below (a key without a colon only right of it).
    int best = -1;
    int best_dx = 1 << 30;
    const int cy = s.box.y + s.box.h / 2;
    for (size_t j = 0; j < segs.size(); ++j) {
      const Segment& t = segs[j];
      if (j == i || t.page != s.page || used[j] || is_key(t.text)) continue;
      const int ty = t.box.y + t.box.h / 2;
      const int dx = t.box.x - (s.box.x + s.box.w);
      if (std::abs(ty - cy) <= s.height * 0.6 && dx >= -2 && dx < best_dx) {
        best = static_cast<int>(j);
        best_dx = dx;
      }
    }
    double confidence = colon_key ? 0.7 : 0.4;
    if (best >= 0 && !colon_key && !value_like(segs[best].text)) best = -1;
    if (best < 0 && !colon_key) continue;
    if (best < 0) {
      int best_dy = 1 << 30;
      for (size_t j = 0; j < segs.size(); ++j) {
        const Segment& t = segs[j];
        if (j == i || t.page != s.page || used[j] || is_key(t.text)) continue;
        const int dy = t.box.y - (s.box.y + s.box.h);
        const bool overlaps = t.box.x < s.box.x + s.box.w + s.height * 4 &&
                              s.box.x - s.height * 2 < t.box.x + t.box.w;
        if (dy >= -2 && dy < s.height * 2 && overlaps && dy < best_dy) {
          best = static_cast<int>(j);
          best_dy = dy;
        }
      }
      confidence = 0.5;
    }
    if (best < 0) continue;
    used[best] = true;
    std::string key = colon_key ? s.text.substr(0, s.text.size() - 1) : s.text;
    out.push_back({Trim(key), segs[best].text, s.box, segs[best].box, s.page, confidence});
  }
  return out;
}

RuleExtraction ExtractWithRules(const Template& t, const std::vector<OcrPage>& pages) {
  RuleExtraction result;
  const std::vector<TextLine> lines = PrepareLines(pages);
  std::vector<PageSize> sizes;
  sizes.reserve(pages.size());
  for (const OcrPage& p : pages) sizes.push_back({p.width, p.height});
  FieldFinder finder(lines, sizes);
  std::optional<MrzResult> mrz;
  bool mrz_tried = false;
  std::map<std::string, int> line_of;  // field -> line index, for blocks placed after it

  // Fields a block follows are found first.
  std::vector<size_t> order;
  for (size_t i = 0; i < t.fields.size(); ++i) {
    if (t.fields[i].hints.locate != LocateStrategy::kBlock) order.push_back(i);
  }
  for (size_t i = 0; i < t.fields.size(); ++i) {
    if (t.fields[i].hints.locate == LocateStrategy::kBlock) order.push_back(i);
  }
  result.fields.resize(t.fields.size());
  for (size_t idx : order) {
    const FieldSpec& f = t.fields[idx];
    ExtractedField& out = result.fields[idx];
    out.name = f.name;
    out.engine = "rules";
    std::vector<Candidate> cands;
    switch (f.hints.locate) {
      case LocateStrategy::kLabel:
        cands = finder.ByLabel(f);
        if (f.rules.type == FieldType::kMoney) finder.CrossCheck(f, cands);
        break;
      case LocateStrategy::kPattern:
        cands = finder.ByPattern(f);
        if (f.rules.type == FieldType::kDate) MergeDateReadings(f, cands);
        break;
      case LocateStrategy::kHeader:
        cands = finder.Header(f);
        break;
      case LocateStrategy::kBlock: {
        auto it = line_of.find(f.hints.after);
        cands = finder.Block(f, it == line_of.end() ? -1 : it->second);
        // The field it follows may have been read in the wrong place: from the top then.
        if (cands.empty() && it != line_of.end()) cands = finder.Block(f, -1);
        break;
      }
      case LocateStrategy::kMrz: {
        if (!mrz_tried) {
          std::vector<std::string> texts;
          texts.reserve(lines.size());
          for (const TextLine& l : lines) texts.push_back(l.text);
          mrz = FindMrz(texts);
          mrz_tried = true;
        }
        if (mrz) {
          Candidate c;
          c.raw = MrzElement(*mrz, f.hints.mrz_element);
          if (!c.raw.empty()) {
            c.value = NormaliseValue(c.raw, f.rules);
            if (f.rules.type == FieldType::kDate) {
              c.value.normalised = c.raw;  // already ISO 8601 from the zone
            }
            const bool checked = MrzElementChecked(*mrz, f.hints.mrz_element);
            if (!checked) {
              c.value.valid = false;
              c.value.problems.push_back("check_digit");
            }
            c.score = checked ? 0.95 : 0.4;
            cands.push_back(std::move(c));
          }
        }
        break;
      }
    }
    const Candidate* pick = Choose(cands, f.hints.prefer);
    if (pick == nullptr) continue;
    // The line still places the fields after it (an address under a doubtful name).
    line_of[f.name] = pick->line;
    out.page = pick->page;
    out.source_lines = pick->line_boxes;
    if (pick->word_confidence < static_cast<float>(f.hints.min_word_confidence)) continue;
    out.found = true;
    out.value = pick->value;
    out.box = pick->box;
    out.page = pick->page;
    out.label = pick->label;
    double ocr = 1.0;
    for (const TextLine& l : lines) {
      if (l.index == pick->line) ocr = l.confidence > 0 ? l.confidence / 100.0 : 1.0;
    }
    out.confidence = std::clamp(std::min(1.0, pick->score) * (0.5 + 0.5 * ocr), 0.0, 1.0);
  }
  if (t.key_values) result.key_values = FindKeyValuePairs(pages);
  return result;
}

}  // namespace scanline
