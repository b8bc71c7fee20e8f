// The `scanline` subcommands. Each lives in tools/<name>_command.cc and adds itself to the
// app passed in; tools/main.cc calls them in the order they appear in --help.
#pragma once

#include <string>

#include "core/config.h"

namespace CLI {
class App;
}

namespace scanline {

// The configuration the CLI runs with: --config PATH, else $SCANLINE_CONFIG, else
// /etc/scanline/scanline.toml when present, else the defaults; SCANLINE_* variables apply on
// top. Exits with a message naming the bad key when it does not parse.
Config CliConfig();

void AddMigrateCommand(CLI::App& app);
void AddOcrCommand(CLI::App& app);
void AddLprCommand(CLI::App& app);
void AddKeysCommand(CLI::App& app);
void AddExtractCommand(CLI::App& app);
void AddFillCommand(CLI::App& app);
void AddTemplatesCommand(CLI::App& app);

}  // namespace scanline
