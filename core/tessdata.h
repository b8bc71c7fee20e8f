// Where Tesseract's language data is, and which languages are installed there.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace scanline {

// ocr.tessdata_dir when set, else $TESSDATA_PREFIX, else Debian's
// /usr/share/tesseract-ocr/5/tessdata.
std::string TessdataDir(const std::string& configured);

// Language codes with a <code>.traineddata file in `dir`, sorted ("chi_sim", "eng", ...).
// "osd" (orientation data) is not a language and is left out.
std::vector<std::string> InstalledLanguages(const std::string& dir);

// Normalises and validates a language set ("eng+deu") against `installed` (sorted, as
// InstalledLanguages gives it): every part must be installed, no part twice. Returns it as
// given, trimmed. Throws InvalidOption("lang", "... installed: chi_sim, deu, eng, ...")
// otherwise.
std::string CheckLanguageSet(std::string_view lang, const std::vector<std::string>& installed);

}  // namespace scanline
