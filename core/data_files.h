// Where scanline's own data files live (SQL migrations, built-in templates, plate region
// patterns): $SCANLINE_DATA_DIR if set, else the source tree of a development build, else
// the installed data directory (/usr/local/share/scanline after `cmake --install`).
#pragma once

#include <string>
#include <string_view>

namespace scanline {

// The directory holding `subdir` ("sql", "templates", "regions"). Throws Error(kInternal)
// naming the places looked at when none has it.
std::string DataDir(std::string_view subdir);

}  // namespace scanline
