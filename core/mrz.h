// Machine readable zones of passports, identity cards and visas (ICAO Doc 9303, 8th edition).
//
// Three sizes: TD1 (3 lines of 30 characters, ID cards), TD2 (2 x 36) and TD3 (2 x 44,
// passports); visas use the TD3 (MRV-A) and TD2 (MRV-B) sizes without a composite check
// digit. ParseMrz reads clean lines and verifies every check digit; FindMrz finds a zone in
// OCR output first, repairing what OCR typically gets wrong there: spaces inserted, '<' read
// as '«' or 'K', letters and digits confused in fields whose kind is fixed (O/0, I/1, S/5,
// B/8, Z/2, G/6), and runs of '<' one or two characters too long or short.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scanline {

enum class MrzFormat { kTd1, kTd2, kTd3 };

// "TD1", "TD2", "TD3".
std::string_view MrzFormatName(MrzFormat format);

struct MrzResult {
  MrzFormat format = MrzFormat::kTd3;
  std::vector<std::string> lines;  // the zone as read (after repair), one string per line
  std::string document_code;       // "P", "I", "ID", "V", ... ('<' removed)
  std::string issuing_state;       // ICAO three-letter code ("UTO", "D" for Germany)
  std::string surname;             // '<' as spaces, primary identifier
  std::string given_names;         // secondary identifier, names separated by one space
  std::string document_number;     // without filler
  std::string nationality;
  std::string birth_date;      // YYYY-MM-DD; "" when not a valid date
  std::string sex;             // "M", "F" or "X" (unspecified, printed '<')
  std::string expiry_date;     // YYYY-MM-DD; "" when not a valid date
  std::string optional_data;   // TD1: line 1 optional data; TD2/TD3: personal number
  std::string optional_data2;  // TD1 line 2 optional data
  bool document_number_ok = false;
  bool birth_date_ok = false;
  bool expiry_date_ok = false;
  bool optional_data_ok = true;  // TD3 personal number check digit (true where none exists)
  bool composite_ok = false;     // true for visas, which carry none
  bool is_visa = false;

  bool AllChecksPass() const {
    return document_number_ok && birth_date_ok && expiry_date_ok && optional_data_ok &&
           composite_ok;
  }
};

// Parses a zone given as its lines (exactly 2 x 44, 2 x 36 or 3 x 30 characters of A-Z, 0-9
// and '<'). Birth years are put in the century that makes them not later than
// `reference_year`; expiry years in 2000-2099 (1900s for 70-99 when `reference_year` is
// before 2070). Returns nullopt when the shape is not an MRZ; a zone with failing check
// digits is returned with the failing `*_ok` flags false.
std::optional<MrzResult> ParseMrz(const std::vector<std::string>& lines, int reference_year = 0);

// Finds and parses a zone among OCR text lines (any other text around it is ignored),
// repairing OCR confusions as described above. Among several readings prefers one whose
// check digits all pass. `reference_year` 0 means the current year (UTC).
std::optional<MrzResult> FindMrz(const std::vector<std::string>& text_lines,
                                 int reference_year = 0);

}  // namespace scanline
