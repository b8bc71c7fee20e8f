// MRZ parsing and OCR repair (see core/mrz.h). Positions follow ICAO Doc 9303 parts 4
// (TD3), 5 (TD1), 6 (TD2) and 7 (visas).
#include "core/mrz.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "core/field_types.h"

namespace scanline {
namespace {

// The kind of character each position holds, per format and line:
//   A letters or '<', N digits, C a check digit that may be '<' (empty optional data),
//   S sex (M, F, '<'), X letters, digits or '<' (no repair possible).
struct Layout {
  MrzFormat format;
  int length;
  std::vector<std::string> kinds;  // one per line
};

std::string Repeat(char c, int n) { return std::string(static_cast<size_t>(n), c); }

const Layout& LayoutFor(MrzFormat format, bool visa) {
  static const Layout kTd3{MrzFormat::kTd3,
                           44,
                           {Repeat('A', 44), Repeat('X', 9) + "N" + "AAA" + Repeat('N', 7) + "S" +
                                                 Repeat('N', 7) + Repeat('X', 14) + "CN"}};
  static const Layout kMrvA{MrzFormat::kTd3,
                            44,
                            {Repeat('A', 44), Repeat('X', 9) + "N" + "AAA" + Repeat('N', 7) + "S" +
                                                  Repeat('N', 7) + Repeat('X', 16)}};
  static const Layout kTd2{MrzFormat::kTd2,
                           36,
                           {Repeat('A', 36), Repeat('X', 9) + "N" + "AAA" + Repeat('N', 7) + "S" +
                                                 Repeat('N', 7) + Repeat('X', 7) + "N"}};
  static const Layout kMrvB{MrzFormat::kTd2,
                            36,
                            {Repeat('A', 36), Repeat('X', 9) + "N" + "AAA" + Repeat('N', 7) + "S" +
                                                  Repeat('N', 7) + Repeat('X', 8)}};
  static const Layout kTd1{
      MrzFormat::kTd1,
      30,
      {"AAAAA" + Repeat('X', 9) + "C" + Repeat('X', 15),
       Repeat('N', 7) + "S" + Repeat('N', 7) + "AAA" + Repeat('X', 11) + "N", Repeat('A', 30)}};
  switch (format) {
    case MrzFormat::kTd3:
      return visa ? kMrvA : kTd3;
    case MrzFormat::kTd2:
      return visa ? kMrvB : kTd2;
    case MrzFormat::kTd1:
      return kTd1;
  }
  return kTd3;
}

char ToDigit(char c) {
  switch (c) {
    case 'O':
    case 'Q':
    case 'D':
    case 'U':
      return '0';
    case 'I':
    case 'L':
    case 'T':
    case 'J':
      return '1';
    case 'Z':
      return '2';
    case 'A':
      return '4';
    case 'S':
      return '5';
    case 'G':
      return '6';
    case 'B':
      return '8';
    default:
      return c;
  }
}

char ToLetter(char c) {
  switch (c) {
    case '0':
      return 'O';
    case '1':
      return 'I';
    case '2':
      return 'Z';
    case '4':
      return 'A';
    case '5':
      return 'S';
    case '6':
      return 'G';
    case '8':
      return 'B';
    default:
      return c;
  }
}

// Applies the position kinds: digits where digits must be, letters where letters must be.
std::string RepairKinds(const std::string& line, const std::string& kinds) {
  std::string out = line;
  for (size_t i = 0; i < out.size() && i < kinds.size(); ++i) {
    switch (kinds[i]) {
      case 'A':
        out[i] = ToLetter(out[i]);
        break;
      case 'N':
        out[i] = ToDigit(out[i]);
        break;
      case 'C':
        if (out[i] != '<') out[i] = ToDigit(out[i]);
        break;
      case 'S':
        if (out[i] != 'M' && out[i] != 'F' && out[i] != 'X') out[i] = '<';
        break;
      default:
        break;
    }
  }
  return out;
}

// Brings a line to `length` by growing or shrinking its longest run of '<' (the filler);
// for name lines (`names`) the trailing filler. Returns "" when it cannot.
std::string FixLength(const std::string& line, int length, bool names) {
  int diff = length - static_cast<int>(line.size());
  if (diff == 0) return line;
  if (names) {
    if (diff > 0) return line + Repeat('<', diff);
    std::string trimmed = line;
    while (diff < 0 && !trimmed.empty() && trimmed.back() == '<') {
      trimmed.pop_back();
      ++diff;
    }
    return diff == 0 ? trimmed : "";
  }
  // Longest run of '<' (last one on ties).
  size_t best_start = 0, best_len = 0;
  for (size_t i = 0; i < line.size();) {
    if (line[i] != '<') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < line.size() && line[j] == '<') ++j;
    if (j - i >= best_len) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len == 0) return "";
  if (diff > 0) return line.substr(0, best_start) + Repeat('<', diff) + line.substr(best_start);
  if (static_cast<int>(best_len) + diff < 1) return "";
  return line.substr(0, best_start) + line.substr(best_start - diff);
}

std::string Filler(std::string_view field) {
  std::string out(field);
  while (!out.empty() && out.back() == '<') out.pop_back();
  std::replace(out.begin(), out.end(), '<', ' ');
  return out;
}

bool CheckOk(std::string_view field, char check) {
  if (check == '<') check = '0';
  if (check < '0' || check > '9') return false;
  return MrzCheckDigit(field) == check - '0';
}

int CurrentYear() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm.tm_year + 1900;
}

std::string MrzDate(std::string_view yymmdd, bool birth, int reference_year) {
  for (char c : yymmdd) {
    if (c < '0' || c > '9') return "";
  }
  int yy = std::stoi(std::string(yymmdd.substr(0, 2)));
  int year;
  if (birth) {
    year = 2000 + yy;
    if (year > reference_year) year -= 100;
  } else {
    year = yy >= 70 && reference_year < 2070 ? 1900 + yy : 2000 + yy;
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%s-%s", year, std::string(yymmdd.substr(2, 2)).c_str(),
                std::string(yymmdd.substr(4, 2)).c_str());
  auto iso = NormaliseDate(buf, DateOrder::kYearMonthDay);
  return iso ? *iso : "";
}

void SplitName(std::string_view field, MrzResult& r) {
  size_t sep = field.find("<<");
  std::string primary(sep == std::string_view::npos ? field : field.substr(0, sep));
  std::string secondary(sep == std::string_view::npos ? "" : field.substr(sep + 2));
  r.surname = CollapseWhitespace(Filler(primary));
  r.given_names = CollapseWhitespace(Filler(secondary));
}

bool Shaped(const std::vector<std::string>& lines) {
  for (const std::string& l : lines) {
    for (char c : l) {
      if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '<')) return false;
    }
  }
  return true;
}

const char kConfusable[][2] = {{'O', '0'}, {'0', 'O'}, {'I', '1'}, {'1', 'I'}, {'S', '5'},
                               {'5', 'S'}, {'B', '8'}, {'8', 'B'}, {'Z', '2'}, {'2', 'Z'},
                               {'G', '6'}, {'6', 'G'}, {'D', '0'}, {'Q', '0'}};

// When a document number fails its check digit, tries every single swap of confusable
// characters; adopts the one reading that passes, if exactly one does.
void RepairDocumentNumber(std::string& line, size_t start, size_t length, size_t check_pos) {
  std::string field = line.substr(start, length);
  if (CheckOk(field, line[check_pos])) return;
  std::string found;
  int passing = 0;
  for (size_t i = 0; i < field.size(); ++i) {
    for (const auto& pair : kConfusable) {
      if (field[i] != pair[0]) continue;
      std::string alt = field;
      alt[i] = pair[1];
      if (CheckOk(alt, line[check_pos]) && alt != found) {
        found = alt;
        ++passing;
      }
    }
  }
  if (passing == 1) line.replace(start, length, found);
}

}  // namespace

std::string_view MrzFormatName(MrzFormat format) {
  switch (format) {
    case MrzFormat::kTd1:
      return "TD1";
    case MrzFormat::kTd2:
      return "TD2";
    case MrzFormat::kTd3:
      return "TD3";
  }
  return "TD3";
}

std::optional<MrzResult> ParseMrz(const std::vector<std::string>& lines, int reference_year) {
  if (reference_year <= 0) reference_year = CurrentYear();
  if (!Shaped(lines)) return std::nullopt;
  MrzResult r;
  r.lines = lines;
  if (lines.size() == 2 && (lines[0].size() == 44 || lines[0].size() == 36) &&
      lines[1].size() == lines[0].size()) {
    bool td3 = lines[0].size() == 44;
    r.format = td3 ? MrzFormat::kTd3 : MrzFormat::kTd2;
    const std::string& l1 = lines[0];
    const std::string& l2 = lines[1];
    r.document_code = Filler(l1.substr(0, 2));
    r.is_visa = l1[0] == 'V';
    r.issuing_state = Filler(l1.substr(2, 3));
    SplitName(std::string_view(l1).substr(5), r);
    r.document_number = Filler(l2.substr(0, 9));
    r.document_number_ok = CheckOk(l2.substr(0, 9), l2[9]);
    r.nationality = Filler(l2.substr(10, 3));
    r.birth_date = MrzDate(l2.substr(13, 6), true, reference_year);
    r.birth_date_ok = CheckOk(l2.substr(13, 6), l2[19]) && !r.birth_date.empty();
    r.sex = l2[20] == '<' ? "X" : std::string(1, l2[20]);
    r.expiry_date = MrzDate(l2.substr(21, 6), false, reference_year);
    r.expiry_date_ok = CheckOk(l2.substr(21, 6), l2[27]) && !r.expiry_date.empty();
    if (r.is_visa) {
      r.optional_data = Filler(l2.substr(28));
      r.composite_ok = true;
    } else if (td3) {
      r.optional_data = Filler(l2.substr(28, 14));
      r.optional_data_ok = CheckOk(l2.substr(28, 14), l2[42]);
      r.composite_ok = CheckOk(l2.substr(0, 10) + l2.substr(13, 7) + l2.substr(21, 22), l2[43]);
    } else {
      r.optional_data = Filler(l2.substr(28, 7));
      r.composite_ok = CheckOk(l2.substr(0, 10) + l2.substr(13, 7) + l2.substr(21, 14), l2[35]);
    }
    return r;
  }
  if (lines.size() == 3 && lines[0].size() == 30 && lines[1].size() == 30 &&
      lines[2].size() == 30) {
    r.format = MrzFormat::kTd1;
    const std::string& l1 = lines[0];
    const std::string& l2 = lines[1];
    r.document_code = Filler(l1.substr(0, 2));
    r.issuing_state = Filler(l1.substr(2, 3));
    if (l1[14] == '<' && l1[15] != '<') {
      // A document number longer than 9 characters continues in the optional data and ends
      // with its check digit, followed by '<' (ICAO 9303-5, 4.2.4 note j).
      size_t end = l1.find('<', 15);
      if (end == std::string::npos) end = 30;
      std::string number = l1.substr(5, 9) + l1.substr(15, end - 16);
      r.document_number = Filler(number);
      r.document_number_ok = end > 16 && CheckOk(number, l1[end - 1]);
      r.optional_data = Filler(l1.substr(std::min<size_t>(end + 1, 30)));
    } else {
      r.document_number = Filler(l1.substr(5, 9));
      r.document_number_ok = CheckOk(l1.substr(5, 9), l1[14]);
      r.optional_data = Filler(l1.substr(15, 15));
    }
    r.birth_date = MrzDate(l2.substr(0, 6), true, reference_year);
    r.birth_date_ok = CheckOk(l2.substr(0, 6), l2[6]) && !r.birth_date.empty();
    r.sex = l2[7] == '<' ? "X" : std::string(1, l2[7]);
    r.expiry_date = MrzDate(l2.substr(8, 6), false, reference_year);
    r.expiry_date_ok = CheckOk(l2.substr(8, 6), l2[14]) && !r.expiry_date.empty();
    r.nationality = Filler(l2.substr(15, 3));
    r.optional_data2 = Filler(l2.substr(18, 11));
    r.composite_ok =
        CheckOk(l1.substr(5, 25) + l2.substr(0, 7) + l2.substr(8, 7) + l2.substr(18, 11), l2[29]);
    SplitName(lines[2], r);
    return r;
  }
  return std::nullopt;
}

std::optional<MrzResult> FindMrz(const std::vector<std::string>& text_lines, int reference_year) {
  if (reference_year <= 0) reference_year = CurrentYear();
  // Clean every line: upper case, no spaces, the look-alikes of '<' made '<'.
  std::vector<std::string> cleaned;
  for (const std::string& raw : text_lines) {
    std::string out;
    size_t bad = 0, total = 0;
    for (size_t i = 0; i < raw.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(raw[i]);
      if (c == ' ' || c == '\t') continue;
      ++total;
      if (c == 0xC2 && i + 1 < raw.size() &&
          (static_cast<unsigned char>(raw[i + 1]) == 0xAB ||
           static_cast<unsigned char>(raw[i + 1]) == 0xBB)) {  // « »
        out.push_back('<');
        ++i;
      } else if (c == 0xE2 && i + 2 < raw.size() &&
                 static_cast<unsigned char>(raw[i + 1]) == 0x80 &&
                 (static_cast<unsigned char>(raw[i + 2]) == 0xB9)) {  // ‹
        out.push_back('<');
        i += 2;
      } else if (c == 'c' || c == 'e' || c == 'k') {
        // A zone has no lower case: these are the small filler '<' as OCR reads it.
        out.push_back('<');
      } else if (c >= 'a' && c <= 'z') {
        out.push_back(static_cast<char>(c - 'a' + 'A'));
      } else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '<') {
        out.push_back(static_cast<char>(c));
      } else {
        ++bad;
      }
    }
    // More than a few stray characters: not an MRZ line.
    cleaned.push_back(bad * 10 > total ? "" : out);
  }
  std::optional<MrzResult> best;
  int best_score = -1;
  auto consider = [&](std::vector<std::string> lines, MrzFormat format) {
    for (bool visa : {false, true}) {
      const Layout& layout = LayoutFor(format, visa);
      std::vector<std::string> fixed;
      for (size_t i = 0; i < lines.size(); ++i) {
        bool names = layout.kinds[i].find_first_not_of('A') == std::string::npos;
        std::string l = FixLength(lines[i], layout.length, names);
        if (l.empty()) return;
        fixed.push_back(RepairKinds(l, layout.kinds[i]));
      }
      if ((fixed[0][0] == 'V') != visa) continue;
      if (format == MrzFormat::kTd1) {
        if (fixed[0][14] != '<') RepairDocumentNumber(fixed[0], 5, 9, 14);
      } else {
        RepairDocumentNumber(fixed[1], 0, 9, 9);
      }
      auto r = ParseMrz(fixed, reference_year);
      if (!r) continue;
      int score = r->document_number_ok + r->birth_date_ok + r->expiry_date_ok +
                  r->optional_data_ok + r->composite_ok;
      if (score > best_score) {
        best_score = score;
        best = std::move(r);
      }
    }
  };
  auto near = [](const std::string& l, int length) {
    int n = static_cast<int>(l.size());
    return n >= length - 4 && n <= length + 4 && l.find('<') != std::string::npos;
  };
  for (size_t i = 0; i < cleaned.size(); ++i) {
    if (i + 1 < cleaned.size()) {
      for (auto [format, length] :
           {std::pair{MrzFormat::kTd3, 44}, std::pair{MrzFormat::kTd2, 36}}) {
        if (near(cleaned[i], length) && near(cleaned[i + 1], length)) {
          consider({cleaned[i], cleaned[i + 1]}, format);
        }
      }
    }
    if (i + 2 < cleaned.size() && near(cleaned[i], 30) && near(cleaned[i + 1], 30) &&
        cleaned[i + 2].size() >= 26 && cleaned[i + 2].size() <= 34) {
      consider({cleaned[i], cleaned[i + 1], cleaned[i + 2]}, MrzFormat::kTd1);
    }
  }
  return best;
}

}  // namespace scanline
