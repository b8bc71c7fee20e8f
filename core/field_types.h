// Typed field values: what a template field can hold, how its value is checked and how it is
// brought to one canonical form.
//
// A recogniser (the rule engine, the LLM) produces raw text as printed ("12-01-19",
// "RM 33.90"). NormaliseValue turns it into the canonical value of the field's type (dates in
// ISO 8601, money as a plain decimal string plus an ISO 4217 currency, phone numbers in E.164)
// and says whether it passes the field's validation (type, pattern, length, check digit). The
// raw text is always kept: clients and scoring may need the value as printed.
//
// Check digits implemented here, with the specification each follows:
//   Luhn (ISO/IEC 7812-1 annex B): payment card numbers, IMEI.
//   ISO 7064 MOD 97-10: IBAN (ISO 13616), after moving the first four characters to the end.
//   ISO 7064 MOD 11-2: ISNI, ORCID, the 18-character Chinese resident identity number.
//   ICAO 9303 part 3 section 4.9: machine readable zone check digits (weights 7, 3, 1).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scanline {

enum class FieldType {
  kText,     // any text; whitespace collapsed
  kDate,     // a calendar date; normalised to YYYY-MM-DD
  kMoney,    // an amount; normalised to a decimal string ("1234.50") plus currency
  kNumber,   // a plain number; normalised to a decimal string
  kId,       // an identifier (document number, IBAN, card number); upper case, no separators
  kPhone,    // a telephone number; normalised to E.164 when the country is known
  kEmail,    // an e-mail address; lower case
  kAddress,  // a postal address, possibly several lines; whitespace collapsed
  kName,     // a person's or company's name; whitespace collapsed
  kMrz,      // a machine readable zone (ICAO 9303), lines joined by '\n'
};

// "text", "date", "money", "number", "id", "phone", "email", "address", "name", "mrz".
std::string_view FieldTypeName(FieldType type);
// The type with this name; nullopt for an unknown name.
std::optional<FieldType> ParseFieldType(std::string_view name);

enum class CheckDigitScheme { kNone, kLuhn, kIban, kMod97_10, kMod11_2, kMrz };

// "none", "luhn", "iban", "mod97_10", "mod11_2", "mrz".
std::string_view CheckDigitName(CheckDigitScheme scheme);
std::optional<CheckDigitScheme> ParseCheckDigit(std::string_view name);

// Luhn: true when `digits` (decimal digits only; spaces and '-' are ignored) is at least two
// digits long and its last digit is the Luhn check digit of the rest.
bool LuhnValid(std::string_view digits);
// The Luhn check digit ('0'..'9') to append to `payload` (digits only); nullopt when
// `payload` holds anything else or is empty.
std::optional<char> LuhnCheckDigit(std::string_view payload);

// ISO 7064 MOD 97-10 over the whole string: letters count as 10 (A) to 35 (Z), digits as
// themselves; valid when the resulting number mod 97 is 1. Case-insensitive; spaces ignored;
// any other character makes it invalid.
bool Mod97_10Valid(std::string_view text);
// IBAN (ISO 13616): two letters, two check digits, up to 30 alphanumerics; the first four
// characters are moved to the end and the result checked with MOD 97-10. Spaces ignored.
bool IbanValid(std::string_view iban);

// ISO 7064 MOD 11-2 check character ('0'..'9' or 'X') for a string of decimal digits;
// nullopt when `digits` is empty or holds a non-digit.
std::optional<char> Mod11_2CheckChar(std::string_view digits);
// True when the last character of `text` (digits then '0'-'9' or 'X'/'x') is the MOD 11-2
// check character of the digits before it. Spaces and '-' are ignored.
bool Mod11_2Valid(std::string_view text);

// ICAO 9303 check digit of an MRZ field: weights 7, 3, 1 repeating; '0'-'9' count as
// themselves, 'A'-'Z' as 10-35, '<' as 0. Returns -1 when `field` holds another character.
int MrzCheckDigit(std::string_view field);

// How to read an all-numeric date whose day and month are ambiguous ("03/04/2018").
enum class DateOrder { kDayMonthYear, kMonthDayYear, kYearMonthDay };
// "DMY", "MDY", "YMD".
std::string_view DateOrderName(DateOrder order);
std::optional<DateOrder> ParseDateOrder(std::string_view name);

// Parses a date as printed and returns it as "YYYY-MM-DD"; nullopt when `text` holds no valid
// calendar date. Understands numeric dates with '/', '-', '.' or spaces ("25/12/2018",
// "12-01-19", "2018.03.23", "20180323"), month names and abbreviations in English, German,
// French, Spanish, Italian, Portuguese, Dutch and Malay ("10 MAR 2018", "Mar 10, 2018",
// "10. März 2018", "5 de julio de 2021", "15 OGOS 2018"), and CJK dates ("2018年3月10日",
// "2018년 3월 10일"). A time of day after the date is ignored. Two-digit years are 2000-2069
// for 00-69 and 1970-1999 for 70-99. `order` settles only genuinely ambiguous numeric dates:
// a day above 12 or a four-digit first number decides by itself.
std::optional<std::string> NormaliseDate(std::string_view text,
                                         DateOrder order = DateOrder::kDayMonthYear);

struct Money {
  std::string amount;    // plain decimal: optional '-', digits, '.' and the decimals as printed
  std::string currency;  // ISO 4217 code; "" when neither the text nor a default names one
};
// Parses an amount as printed: "RM 33.90", "$1,234.56", "1.234,56 €", "EUR 12,50", "-9.00",
// "(12.00)", "12.50 USD". The decimal separator is the last '.' or ',' followed by one, two
// or three digits at the end unless that separator is repeated or three digits follow a lone
// separator with a thousands-style grouping (see the .cc for the rule). Currency from an ISO
// code or a symbol ($ is USD unless `default_currency` is another dollar, e.g. "SGD"), else
// `default_currency`. nullopt when no amount is found.
std::optional<Money> NormaliseMoney(std::string_view text, std::string_view default_currency = "");

// A plain number ("1,234.5" -> "1234.5", "12,5" -> "12.5"); nullopt when `text` is not one.
std::optional<std::string> NormaliseNumber(std::string_view text);

// A telephone number in E.164 ("+60123456789"): an explicit "+" or "00" prefix is kept,
// otherwise a national number (a leading trunk '0' dropped) gets `default_country_code`
// (digits only, e.g. "60"). Without a country code the digits alone are returned. nullopt
// when there are fewer than 6 or more than 15 digits, or letters.
std::optional<std::string> NormalisePhone(std::string_view text,
                                          std::string_view default_country_code = "");

// A syntactically plausible e-mail address, lower case ("Jane.Doe@Example.COM" ->
// "jane.doe@example.com"); nullopt otherwise.
std::optional<std::string> NormaliseEmail(std::string_view text);

// Trims and replaces every run of white space (ASCII and U+00A0) by one space.
std::string CollapseWhitespace(std::string_view text);
// Upper case of ASCII letters; other bytes unchanged.
std::string AsciiUpper(std::string_view text);
std::string AsciiLower(std::string_view text);

// What a field's value must satisfy and how it is normalised (part of a template field).
struct ValueRules {
  FieldType type = FieldType::kText;
  // A regular expression (core/pattern.h) the whole raw value must match; "" none.
  std::string pattern;
  CheckDigitScheme check_digit = CheckDigitScheme::kNone;
  int min_length = 0;  // characters of the normalised value; 0 = no minimum
  int max_length = 0;  // 0 = no maximum
  DateOrder date_order = DateOrder::kDayMonthYear;
  std::string currency;      // ISO 4217 code assumed when a money value names none
  std::string country_code;  // calling code assumed for national phone numbers ("60")
};

struct TypedValue {
  std::string raw;         // as found, whitespace collapsed
  std::string normalised;  // canonical form of the type ("" when it could not be normalised)
  std::string currency;    // money only
  bool valid = false;
  std::vector<std::string> problems;  // why not valid: "pattern", "check_digit", "not a date"…
};

// Normalises `raw` per `rules.type` and validates it (pattern on the raw value, length and
// check digit on the normalised one). Never throws for bad input: problems are reported in
// the result. Throws Error(kInternal) only for an invalid pattern (templates are validated
// when loaded, so that is a bug).
TypedValue NormaliseValue(std::string_view raw, const ValueRules& rules);

// True when `pattern` is a valid regular expression (core/pattern.h); else `why` says why.
bool ValidPattern(const std::string& pattern, std::string* why);

// Whether `text` matches `pattern` entirely (cached compiled expressions, per thread), in
// bounded time: a match past the limits of core/pattern.h counts as no match.
bool FullMatch(const std::string& pattern, std::string_view text);

// Masks a sensitive value for logs and masked responses: keeps the last 4 characters of
// values longer than 8 characters, replaces the rest of the letters and digits by '*'.
std::string MaskValue(std::string_view value);

}  // namespace scanline
