// Field types, check digits and normalisers (see core/field_types.h).
//
// Dates are parsed by a small tokenizer rather than one regular expression: month names come
// in UTF-8 in several languages, numbers and words are glued together on receipts
// ("10MAR2018"), and the same three-number shape means different things by locale.
#include "core/field_types.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <unordered_map>

#include "core/error.h"
#include "core/mrz.h"
#include "core/pattern.h"

namespace scanline {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// Removes spaces and '-' (group separators people print inside long numbers).
std::string StripSeparators(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c != ' ' && c != '-' && c != '\t') out.push_back(c);
  }
  return out;
}

// Lower case for ASCII and for the Latin-1 supplement capitals (U+00C0..U+00DE in UTF-8:
// C3 80..C3 9E), which is what month names need.
std::string FoldCase(std::string_view word) {
  std::string out(word);
  for (size_t i = 0; i < out.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(out[i]);
    if (c < 0x80) {
      out[i] = static_cast<char>(std::tolower(c));
    } else if (c == 0xC3 && i + 1 < out.size()) {
      unsigned char d = static_cast<unsigned char>(out[i + 1]);
      if (d >= 0x80 && d <= 0x9E && d != 0x97) out[i + 1] = static_cast<char>(d + 0x20);
      ++i;
    }
  }
  return out;
}

// Month names and abbreviations (folded) in English, German, French, Spanish, Italian,
// Portuguese, Dutch and Malay. No spelling maps to two months.
const std::map<std::string, int>& MonthNames() {
  static const std::map<std::string, int> kMonths = [] {
    std::map<std::string, int> m;
    const std::array<std::vector<const char*>, 12> names = {{
        {"january", "jan", "januar", "jänner", "janvier", "janv", "enero", "ene", "gennaio", "gen",
         "janeiro", "januari"},
        {"february", "feb", "febr", "februar", "février", "fevrier", "févr", "fevr", "febrero",
         "febbraio", "fevereiro", "fev", "februari"},
        {"march", "mar", "märz", "maerz", "mrz", "mär", "mars", "marzo", "março", "marco", "maart",
         "mrt", "mac"},
        {"april", "apr", "avril", "avr", "abril", "abr", "aprile"},
        {"may", "mai", "mayo", "maggio", "mag", "maio", "mei"},
        {"june", "jun", "juni", "juin", "junio", "giugno", "giu", "junho"},
        {"july", "jul", "juli", "juillet", "juil", "julio", "luglio", "lug", "julho", "julai"},
        {"august", "aug", "août", "aout", "agosto", "ago", "augustus", "ogos", "ogo"},
        {"september", "sep", "sept", "septembre", "septiembre", "setiembre", "settembre", "set",
         "setembro"},
        {"october", "oct", "oktober", "okt", "octobre", "octubre", "ottobre", "ott", "outubro",
         "out"},
        {"november", "nov", "novembre", "noviembre", "novembro"},
        {"december", "dec", "dezember", "dez", "décembre", "decembre", "déc", "diciembre", "dic",
         "dicembre", "dezembro", "disember", "dis"},
    }};
    for (int i = 0; i < 12; ++i) {
      for (const char* n : names[i]) m.emplace(n, i + 1);
    }
    return m;
  }();
  return kMonths;
}

std::optional<int> MonthFromWord(std::string_view word) {
  std::string folded = FoldCase(word);
  while (!folded.empty() && folded.back() == '.') folded.pop_back();
  auto it = MonthNames().find(folded);
  if (it == MonthNames().end()) return std::nullopt;
  return it->second;
}

bool LeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysIn(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && LeapYear(year) ? 29 : kDays[month - 1];
}

int ExpandYear(int y, size_t digits) {
  if (digits == 4) return y;
  return y < 70 ? 2000 + y : 1900 + y;
}

std::optional<std::string> IsoDate(int y, int m, int d) {
  if (y < 1900 || y > 2099 || m < 1 || m > 12 || d < 1 || d > DaysIn(y, m)) return std::nullopt;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  return std::string(buf);
}

struct Token {
  enum Kind { kNumber, kWord, kSeparator } kind;
  std::string text;
};

// Splits into digit runs, letter runs (ASCII letters and any UTF-8 multi-byte character) and
// single separator characters; white space runs become one " " separator. CJK date markers
// (年 月 日, 년 월 일) become "-" separators.
std::vector<Token> Tokenize(std::string_view text) {
  static const std::array<std::string_view, 6> kCjkMarkers = {"年", "月", "日", "년", "월", "일"};
  std::vector<Token> out;
  size_t i = 0;
  while (i < text.size()) {
    bool marker = false;
    for (std::string_view m : kCjkMarkers) {
      if (text.substr(i).starts_with(m)) {
        out.push_back({Token::kSeparator, "-"});
        i += m.size();
        marker = true;
        break;
      }
    }
    if (marker) continue;
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (IsDigit(c)) {
      size_t j = i;
      while (j < text.size() && IsDigit(text[j])) ++j;
      out.push_back({Token::kNumber, std::string(text.substr(i, j - i))});
      i = j;
    } else if (IsAsciiAlpha(c) || c >= 0x80) {
      size_t j = i;
      while (j < text.size()) {
        unsigned char d = static_cast<unsigned char>(text[j]);
        if (!(IsAsciiAlpha(d) || d >= 0x80)) break;
        bool is_marker = false;
        for (std::string_view m : kCjkMarkers) is_marker |= text.substr(j).starts_with(m);
        if (is_marker) break;
        ++j;
      }
      out.push_back({Token::kWord, std::string(text.substr(i, j - i))});
      i = j;
    } else if (std::isspace(c)) {
      while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
      if (!out.empty() && out.back().kind != Token::kSeparator) {
        out.push_back({Token::kSeparator, " "});
      }
    } else {
      // A separator absorbs the spaces around it ("25 / 12 / 2018").
      if (!out.empty() && out.back().kind == Token::kSeparator && out.back().text == " ") {
        out.pop_back();
      }
      out.push_back({Token::kSeparator, std::string(1, static_cast<char>(c))});
      ++i;
      while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    }
  }
  return out;
}

// Tries the date shapes at tokens[i...]; returns the date when one fits.
std::optional<std::string> DateAt(const std::vector<Token>& t, size_t i, DateOrder order) {
  auto num = [&](size_t k, size_t min_len, size_t max_len) {
    return k < t.size() && t[k].kind == Token::kNumber && t[k].text.size() >= min_len &&
           t[k].text.size() <= max_len;
  };
  auto sep = [&](size_t k, std::string_view allowed) {
    return k < t.size() && t[k].kind == Token::kSeparator &&
           allowed.find(t[k].text[0]) != std::string_view::npos;
  };
  auto value = [&](size_t k) { return std::stoi(t[k].text); };
  // Numbers must not continue a longer number ("1.12.50.2018" or an amount "12.50").
  bool starts_clean = i == 0 || !(t[i - 1].kind == Token::kNumber ||
                                  (t[i - 1].kind == Token::kSeparator &&
                                   (t[i - 1].text == "." || t[i - 1].text == ",") && i >= 2 &&
                                   t[i - 2].kind == Token::kNumber));
  if (!starts_clean) return std::nullopt;
  // Nor continue into one ("1.12.50.2018"). k: the index after the date.
  auto ends_clean = [&](size_t k) {
    return k >= t.size() || t[k].kind != Token::kSeparator ||
           std::string_view("-/.").find(t[k].text[0]) == std::string_view::npos ||
           k + 1 >= t.size() || t[k + 1].kind != Token::kNumber;
  };

  // YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, 2018年3月10日.
  if (num(i, 4, 4) && sep(i + 1, "-/.") && num(i + 2, 1, 2) && sep(i + 3, "-/.") &&
      t[i + 1].text == t[i + 3].text && num(i + 4, 1, 2) && ends_clean(i + 5)) {
    if (auto d = IsoDate(value(i), value(i + 2), value(i + 4))) return d;
  }
  // DD/MM/YYYY, MM/DD/YY, and YY/MM/DD when asked for year first.
  if (num(i, 1, 2) && sep(i + 1, "-/.") && num(i + 2, 1, 2) && sep(i + 3, "-/.") &&
      t[i + 1].text == t[i + 3].text && (num(i + 4, 2, 2) || num(i + 4, 4, 4)) &&
      ends_clean(i + 5)) {
    int a = value(i), b = value(i + 2), c = value(i + 4);
    size_t c_digits = t[i + 4].text.size();
    if (order == DateOrder::kYearMonthDay && c_digits == 2) {
      if (auto d = IsoDate(ExpandYear(a, 2), b, c)) return d;
    }
    int year = ExpandYear(c, c_digits);
    bool month_first = order == DateOrder::kMonthDayYear;
    if (a > 12) month_first = false;
    if (b > 12) month_first = true;
    if (auto d = month_first ? IsoDate(year, a, b) : IsoDate(year, b, a)) return d;
  }
  // 10 MAR 2018, 10-Mar-18, 10. März 2018, 5 de julio de 2021, 1st January 2020, 10MAR2018.
  if (num(i, 1, 2)) {
    size_t k = i + 1;
    if (sep(k, ".-/ ,")) ++k;
    if (k < t.size() && t[k].kind == Token::kWord) {
      std::string w = FoldCase(t[k].text);
      if (w == "st" || w == "nd" || w == "rd" || w == "th" || w == "er" || w == "de") {
        ++k;
        if (sep(k, " ")) ++k;
        if (k < t.size() && t[k].kind == Token::kWord && FoldCase(t[k].text) == "de") {
          ++k;
          if (sep(k, " ")) ++k;
        }
      }
    }
    if (k < t.size() && t[k].kind == Token::kWord) {
      if (auto month = MonthFromWord(t[k].text)) {
        size_t y = k + 1;
        if (sep(y, ".")) ++y;
        if (sep(y, "-/ ,")) ++y;
        if (sep(y, " ")) ++y;
        if (y < t.size() && t[y].kind == Token::kWord &&
            (FoldCase(t[y].text) == "de" || FoldCase(t[y].text) == "del")) {
          ++y;
          if (sep(y, " ")) ++y;
        }
        if (num(y, 4, 4) || num(y, 2, 2)) {
          if (auto d = IsoDate(ExpandYear(value(y), t[y].text.size()), *month, value(i))) {
            return d;
          }
        }
      }
    }
  }
  // Mar 10, 2018 / March 10th 2018.
  if (i < t.size() && t[i].kind == Token::kWord) {
    if (auto month = MonthFromWord(t[i].text)) {
      size_t k = i + 1;
      if (sep(k, ".")) ++k;
      if (sep(k, " -/")) ++k;
      if (num(k, 1, 2)) {
        int day = value(k);
        size_t y = k + 1;
        if (y < t.size() && t[y].kind == Token::kWord) {
          std::string w = FoldCase(t[y].text);
          if (w == "st" || w == "nd" || w == "rd" || w == "th") ++y;
        }
        if (sep(y, ",")) ++y;
        if (sep(y, " -/")) ++y;
        if (num(y, 4, 4)) {
          if (auto d = IsoDate(value(y), *month, day)) return d;
        }
      }
    }
  }
  // 2018-Mar-10.
  if (num(i, 4, 4) && sep(i + 1, "-/ .") && i + 2 < t.size() && t[i + 2].kind == Token::kWord) {
    if (auto month = MonthFromWord(t[i + 2].text)) {
      if (sep(i + 3, "-/ .") && num(i + 4, 1, 2)) {
        if (auto d = IsoDate(value(i), *month, value(i + 4))) return d;
      }
    }
  }
  // 20180323 (year first) or 23032018 (day first).
  if (num(i, 8, 8)) {
    const std::string& s = t[i].text;
    if (auto d = IsoDate(std::stoi(s.substr(0, 4)), std::stoi(s.substr(4, 2)),
                         std::stoi(s.substr(6, 2)))) {
      return d;
    }
    if (auto d = IsoDate(std::stoi(s.substr(4, 4)), std::stoi(s.substr(2, 2)),
                         std::stoi(s.substr(0, 2)))) {
      return d;
    }
  }
  return std::nullopt;
}

struct CurrencySign {
  std::string_view sign;
  std::string_view code;
};

// Longer signs first so "US$" wins over "$".
constexpr CurrencySign kCurrencySigns[] = {
    {"US$", "USD"}, {"S$", "SGD"}, {"A$", "AUD"}, {"C$", "CAD"}, {"HK$", "HKD"},
    {"NZ$", "NZD"}, {"R$", "BRL"}, {"€", "EUR"},  {"£", "GBP"},  {"¥", "JPY"},
    {"￥", "CNY"},  {"元", "CNY"}, {"₩", "KRW"},  {"원", "KRW"}, {"₹", "INR"},
    {"฿", "THB"},   {"₱", "PHP"},  {"₫", "VND"},  {"zł", "PLN"}, {"Kč", "CZK"},
};

constexpr std::string_view kIsoCurrencies[] = {
    "USD", "EUR", "GBP", "JPY", "CNY", "RMB", "MYR", "SGD", "AUD", "CAD", "CHF", "HKD",
    "INR", "KRW", "BRL", "IDR", "THB", "PHP", "VND", "NZD", "SEK", "NOK", "DKK", "PLN",
    "CZK", "HUF", "RUB", "TRY", "ZAR", "MXN", "AED", "SAR", "TWD", "ILS", "KWD", "BHD",
};

// Currencies whose minor unit has three digits (ISO 4217), where "1.234" is an amount with
// decimals rather than a thousands group.
bool ThreeDecimals(std::string_view code) { return code == "KWD" || code == "BHD"; }

std::string FindCurrency(std::string_view text, std::string_view default_currency) {
  std::string upper = AsciiUpper(text);
  for (std::string_view code : kIsoCurrencies) {
    size_t pos = upper.find(code);
    while (pos != std::string::npos) {
      bool left = pos == 0 || !IsAsciiAlpha(upper[pos - 1]);
      bool right = pos + 3 >= upper.size() || !IsAsciiAlpha(upper[pos + 3]);
      if (left && right) return code == "RMB" ? "CNY" : std::string(code);
      pos = upper.find(code, pos + 1);
    }
  }
  // Malaysian ringgit "RM" and Indonesian rupiah "Rp" are written as letters.
  for (auto [sign, code] :
       {std::pair<std::string_view, std::string_view>{"RM", "MYR"}, {"RP", "IDR"}}) {
    size_t pos = upper.find(sign);
    if (pos != std::string::npos && (pos == 0 || !IsAsciiAlpha(upper[pos - 1])) &&
        (pos + 2 >= upper.size() || !IsAsciiAlpha(upper[pos + 2]))) {
      return std::string(code);
    }
  }
  for (const CurrencySign& s : kCurrencySigns) {
    if (text.find(s.sign) != std::string_view::npos) {
      if (s.code == "JPY" && default_currency == "CNY") return "CNY";
      return std::string(s.code);
    }
  }
  if (text.find('$') != std::string_view::npos) {
    static constexpr std::string_view kDollars[] = {"USD", "SGD", "AUD", "CAD",
                                                    "HKD", "NZD", "TWD", "MXN"};
    for (std::string_view d : kDollars) {
      if (default_currency == d) return std::string(d);
    }
    return "USD";
  }
  return std::string(default_currency);
}

// The amount in `text`: the first run of digits with separators. Sets `amount` to a plain
// decimal string. See NormaliseMoney for the separator rule.
std::optional<std::string> ParseAmount(std::string_view text, std::string_view currency,
                                       bool allow_sign) {
  size_t start = 0;
  while (start < text.size() && !IsDigit(text[start])) ++start;
  if (start == text.size()) return std::nullopt;
  // The run: digits, '.', ',', '\'', and single spaces followed by exactly three digits.
  // "1 234,56": a space groups thousands only before a comma decimal or the end, so
  // "2 100.00" (a quantity, then an amount) stays two numbers.
  auto grouping_space = [&](size_t i) {
    return text[i] == ' ' && i + 4 <= text.size() && IsDigit(text[i + 1]) && IsDigit(text[i + 2]) &&
           IsDigit(text[i + 3]) &&
           (i + 4 == text.size() || text[i + 4] == ',' || text[i + 4] == ' ');
  };
  size_t end = start;
  while (end < text.size()) {
    char c = text[end];
    if (IsDigit(c) || c == '.' || c == ',' || c == '\'' || grouping_space(end)) {
      ++end;
    } else {
      break;
    }
  }
  std::string run(text.substr(start, end - start));
  while (!run.empty() && !IsDigit(run.back())) run.pop_back();
  bool negative = false;
  if (allow_sign) {
    std::string_view before = text.substr(0, start);
    size_t k = before.find_last_not_of(" $€£¥RMrm:");
    if (k != std::string_view::npos && (before[k] == '-' || before[k] == '(')) negative = true;
    if (end < text.size() && text[end] == '-') negative = true;
  }
  size_t last = run.find_last_of(".,");
  std::string int_part, frac_part;
  if (last == std::string::npos) {
    int_part = run;
  } else {
    char sep = run[last];
    char other = sep == '.' ? ',' : '.';
    size_t count_sep = std::count(run.begin(), run.end(), sep);
    bool has_other = run.find(other) != std::string::npos;
    size_t decimals = run.size() - last - 1;
    // With both separators ("1.234,56" / "1,234.56") the last is the decimal one.
    bool is_decimal = true;
    if (!has_other && count_sep > 1) {
      is_decimal = false;  // "1.234.567"
    } else if (!has_other && decimals == 3) {
      is_decimal = ThreeDecimals(currency);  // "1,234" is a thousand
    }
    if (is_decimal) {
      int_part = run.substr(0, last);
      frac_part = run.substr(last + 1);
    } else {
      int_part = run;
    }
  }
  std::string digits;
  for (char c : int_part) {
    if (IsDigit(c)) digits.push_back(c);
  }
  size_t nz = digits.find_first_not_of('0');
  digits = nz == std::string::npos ? "0" : digits.substr(nz);
  std::string out = (negative ? "-" : "") + digits;
  if (!frac_part.empty()) out += "." + frac_part;
  return out;
}

// Letters and digits only, upper case (check digit input).
std::string Alnum(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (IsDigit(c) || IsAsciiAlpha(c)) out.push_back(static_cast<char>(std::toupper(c)));
  }
  return out;
}

bool CheckDigitHolds(CheckDigitScheme scheme, const std::string& value) {
  switch (scheme) {
    case CheckDigitScheme::kNone:
      return true;
    case CheckDigitScheme::kLuhn:
      return LuhnValid(value);
    case CheckDigitScheme::kIban:
      return IbanValid(value);
    case CheckDigitScheme::kMod97_10:
      return Mod97_10Valid(Alnum(value));
    case CheckDigitScheme::kMod11_2:
      return Mod11_2Valid(value);
    case CheckDigitScheme::kMrz: {
      // The value ends with its own check digit ("L898902C36").
      std::string v = StripSeparators(value);
      if (v.size() < 2 || !IsDigit(v.back())) return false;
      return MrzCheckDigit(v.substr(0, v.size() - 1)) == v.back() - '0';
    }
  }
  return false;
}

}  // namespace

std::string_view FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kText:
      return "text";
    case FieldType::kDate:
      return "date";
    case FieldType::kMoney:
      return "money";
    case FieldType::kNumber:
      return "number";
    case FieldType::kId:
      return "id";
    case FieldType::kPhone:
      return "phone";
    case FieldType::kEmail:
      return "email";
    case FieldType::kAddress:
      return "address";
    case FieldType::kName:
      return "name";
    case FieldType::kMrz:
      return "mrz";
  }
  return "text";
}

std::optional<FieldType> ParseFieldType(std::string_view name) {
  for (FieldType t : {FieldType::kText, FieldType::kDate, FieldType::kMoney, FieldType::kNumber,
                      FieldType::kId, FieldType::kPhone, FieldType::kEmail, FieldType::kAddress,
                      FieldType::kName, FieldType::kMrz}) {
    if (FieldTypeName(t) == name) return t;
  }
  return std::nullopt;
}

std::string_view CheckDigitName(CheckDigitScheme scheme) {
  switch (scheme) {
    case CheckDigitScheme::kNone:
      return "none";
    case CheckDigitScheme::kLuhn:
      return "luhn";
    case CheckDigitScheme::kIban:
      return "iban";
    case CheckDigitScheme::kMod97_10:
      return "mod97_10";
    case CheckDigitScheme::kMod11_2:
      return "mod11_2";
    case CheckDigitScheme::kMrz:
      return "mrz";
  }
  return "none";
}

std::optional<CheckDigitScheme> ParseCheckDigit(std::string_view name) {
  for (CheckDigitScheme s :
       {CheckDigitScheme::kNone, CheckDigitScheme::kLuhn, CheckDigitScheme::kIban,
        CheckDigitScheme::kMod97_10, CheckDigitScheme::kMod11_2, CheckDigitScheme::kMrz}) {
    if (CheckDigitName(s) == name) return s;
  }
  return std::nullopt;
}

bool LuhnValid(std::string_view digits) {
  std::string d = StripSeparators(digits);
  if (d.size() < 2) return false;
  for (char c : d) {
    if (!IsDigit(c)) return false;
  }
  auto check = LuhnCheckDigit(std::string_view(d).substr(0, d.size() - 1));
  return check && *check == d.back();
}

std::optional<char> LuhnCheckDigit(std::string_view payload) {
  if (payload.empty()) return std::nullopt;
  int sum = 0;
  bool twice = true;  // the rightmost payload digit is doubled
  for (size_t i = payload.size(); i-- > 0;) {
    char c = payload[i];
    if (!IsDigit(c)) return std::nullopt;
    int v = c - '0';
    if (twice) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    twice = !twice;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

bool Mod97_10Valid(std::string_view text) {
  int remainder = 0;
  bool any = false;
  for (char c : text) {
    if (c == ' ') continue;
    int v;
    if (IsDigit(c)) {
      v = c - '0';
      remainder = (remainder * 10 + v) % 97;
    } else if (IsAsciiAlpha(c)) {
      v = std::toupper(static_cast<unsigned char>(c)) - 'A' + 10;
      remainder = (remainder * 100 + v) % 97;
    } else {
      return false;
    }
    any = true;
  }
  return any && remainder == 1;
}

bool IbanValid(std::string_view iban) {
  std::string s;
  for (char c : iban) {
    if (c != ' ') s.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  if (s.size() < 5 || s.size() > 34) return false;
  if (!IsAsciiAlpha(s[0]) || !IsAsciiAlpha(s[1]) || !IsDigit(s[2]) || !IsDigit(s[3])) {
    return false;
  }
  for (char c : s) {
    if (!IsDigit(c) && !IsAsciiAlpha(c)) return false;
  }
  return Mod97_10Valid(s.substr(4) + s.substr(0, 4));
}

std::optional<char> Mod11_2CheckChar(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  int p = 0;
  for (char c : digits) {
    if (!IsDigit(c)) return std::nullopt;
    p = ((p + (c - '0')) * 2) % 11;
  }
  int check = (12 - p) % 11;
  return check == 10 ? 'X' : static_cast<char>('0' + check);
}

bool Mod11_2Valid(std::string_view text) {
  std::string s = StripSeparators(text);
  if (s.size() < 2) return false;
  char last = static_cast<char>(std::toupper(static_cast<unsigned char>(s.back())));
  auto check = Mod11_2CheckChar(std::string_view(s).substr(0, s.size() - 1));
  return check && *check == last;
}

int MrzCheckDigit(std::string_view field) {
  static constexpr int kWeights[] = {7, 3, 1};
  int sum = 0;
  for (size_t i = 0; i < field.size(); ++i) {
    char c = field[i];
    int v;
    if (IsDigit(c)) {
      v = c - '0';
    } else if (c >= 'A' && c <= 'Z') {
      v = c - 'A' + 10;
    } else if (c == '<') {
      v = 0;
    } else {
      return -1;
    }
    sum += v * kWeights[i % 3];
  }
  return sum % 10;
}

std::string_view DateOrderName(DateOrder order) {
  switch (order) {
    case DateOrder::kDayMonthYear:
      return "DMY";
    case DateOrder::kMonthDayYear:
      return "MDY";
    case DateOrder::kYearMonthDay:
      return "YMD";
  }
  return "DMY";
}

std::optional<DateOrder> ParseDateOrder(std::string_view name) {
  for (DateOrder o :
       {DateOrder::kDayMonthYear, DateOrder::kMonthDayYear, DateOrder::kYearMonthDay}) {
    if (DateOrderName(o) == name) return o;
  }
  return std::nullopt;
}

std::optional<std::string> NormaliseDate(std::string_view text, DateOrder order) {
  std::vector<Token> tokens = Tokenize(text);
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].kind == Token::kSeparator) continue;
    if (auto d = DateAt(tokens, i, order)) return d;
  }
  return std::nullopt;
}

std::optional<Money> NormaliseMoney(std::string_view text, std::string_view default_currency) {
  Money m;
  m.currency = FindCurrency(text, default_currency);
  auto amount = ParseAmount(text, m.currency, /*allow_sign=*/true);
  if (!amount) return std::nullopt;
  m.amount = *amount;
  return m;
}

std::optional<std::string> NormaliseNumber(std::string_view text) {
  std::string t = CollapseWhitespace(text);
  if (t.empty()) return std::nullopt;
  // Only digits, separators and a sign may appear.
  for (char c : t) {
    if (!IsDigit(c) && c != '.' && c != ',' && c != '-' && c != '+' && c != ' ' && c != '\'') {
      return std::nullopt;
    }
  }
  return ParseAmount(t, "", /*allow_sign=*/true);
}

std::optional<std::string> NormalisePhone(std::string_view text,
                                          std::string_view default_country_code) {
  std::string t = CollapseWhitespace(text);
  std::string digits;
  bool plus = false;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (IsDigit(c)) {
      digits.push_back(c);
    } else if (c == '+' && digits.empty()) {
      plus = true;
    } else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/') {
      continue;
    } else {
      return std::nullopt;
    }
  }
  if (!plus && digits.starts_with("00")) {
    plus = true;
    digits = digits.substr(2);
  }
  if (!plus && !default_country_code.empty()) {
    if (digits.starts_with('0')) digits = digits.substr(1);
    digits = std::string(default_country_code) + digits;
    plus = true;
  }
  if (digits.size() < 6 || digits.size() > 15) return std::nullopt;
  return (plus ? "+" : "") + digits;
}

std::optional<std::string> NormaliseEmail(std::string_view text) {
  std::string t = AsciiLower(CollapseWhitespace(text));
  if (!CachedPattern(R"([a-z0-9._%+\-]+@[a-z0-9\-]+(\.[a-z0-9\-]+)*\.[a-z]{2,})", false)
           .FullMatch(t)) {
    return std::nullopt;
  }
  return t;
}

std::string CollapseWhitespace(std::string_view text) {
  std::string out;
  bool space = false;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    bool ws = std::isspace(c) != 0;
    if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0xA0) {
      ws = true;
      ++i;
    }
    if (ws) {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(static_cast<char>(c));
  }
  return out;
}

std::string AsciiUpper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool ValidPattern(const std::string& pattern, std::string* why) {
  return Pattern::Compile(pattern, false, why).has_value();
}

bool FullMatch(const std::string& pattern, std::string_view text) {
  return CachedPattern(pattern, false).FullMatch(text);
}

TypedValue NormaliseValue(std::string_view raw, const ValueRules& rules) {
  TypedValue v;
  v.raw = rules.type == FieldType::kMrz ? std::string(raw) : CollapseWhitespace(raw);
  auto problem = [&](std::string p) { v.problems.push_back(std::move(p)); };
  switch (rules.type) {
    case FieldType::kText:
    case FieldType::kAddress:
    case FieldType::kName:
      v.normalised = v.raw;
      break;
    case FieldType::kDate:
      if (auto d = NormaliseDate(v.raw, rules.date_order)) {
        v.normalised = *d;
      } else {
        problem("not a date");
      }
      break;
    case FieldType::kMoney:
      if (auto m = NormaliseMoney(v.raw, rules.currency)) {
        v.normalised = m->amount;
        v.currency = m->currency;
      } else {
        problem("not an amount");
      }
      break;
    case FieldType::kNumber:
      if (auto n = NormaliseNumber(v.raw)) {
        v.normalised = *n;
      } else {
        problem("not a number");
      }
      break;
    case FieldType::kId:
      v.normalised = AsciiUpper(StripSeparators(v.raw));
      break;
    case FieldType::kPhone:
      if (auto p = NormalisePhone(v.raw, rules.country_code)) {
        v.normalised = *p;
      } else {
        problem("not a phone number");
      }
      break;
    case FieldType::kEmail:
      if (auto e = NormaliseEmail(v.raw)) {
        v.normalised = *e;
      } else {
        problem("not an e-mail address");
      }
      break;
    case FieldType::kMrz: {
      std::vector<std::string> lines;
      std::string line;
      for (char c : v.raw) {
        if (c == '\n') {
          if (!line.empty()) lines.push_back(line);
          line.clear();
        } else if (c != ' ' && c != '\r') {
          line.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
        }
      }
      if (!line.empty()) lines.push_back(line);
      std::string joined;
      for (const std::string& l : lines) joined += (joined.empty() ? "" : "\n") + l;
      v.normalised = joined;
      auto mrz = ParseMrz(lines);
      if (!mrz) {
        problem("not a machine readable zone");
      } else if (!mrz->AllChecksPass()) {
        problem("check_digit");
      }
      break;
    }
  }
  if (v.raw.empty()) problem("empty");
  if (!rules.pattern.empty() && !v.raw.empty() && !FullMatch(rules.pattern, v.raw)) {
    problem("pattern");
  }
  if (!v.normalised.empty()) {
    int len = static_cast<int>(v.normalised.size());
    if (rules.min_length > 0 && len < rules.min_length) problem("too short");
    if (rules.max_length > 0 && len > rules.max_length) problem("too long");
    if (rules.check_digit != CheckDigitScheme::kNone &&
        !CheckDigitHolds(rules.check_digit, v.normalised)) {
      problem("check_digit");
    }
  }
  v.valid = v.problems.empty();
  return v;
}

std::string MaskValue(std::string_view value) {
  // Split into UTF-8 code points so a multi-byte letter is masked whole.
  std::vector<std::string_view> points;
  for (size_t i = 0; i < value.size();) {
    size_t n = 1;
    unsigned char c = static_cast<unsigned char>(value[i]);
    if (c >= 0xF0) {
      n = 4;
    } else if (c >= 0xE0) {
      n = 3;
    } else if (c >= 0xC0) {
      n = 2;
    }
    n = std::min(n, value.size() - i);
    points.push_back(value.substr(i, n));
    i += n;
  }
  size_t keep_from = points.size() > 8 ? points.size() - 4 : points.size();
  std::string out;
  for (size_t i = 0; i < points.size(); ++i) {
    std::string_view p = points[i];
    bool maskable = p.size() > 1 || std::isalnum(static_cast<unsigned char>(p[0]));
    out += (i < keep_from && maskable) ? std::string_view("*") : p;
  }
  return out;
}

}  // namespace scanline
