// The `scanline` subcommands. Each lives in tools/<name>_command.cc and adds itself to the
// app passed in; tools/main.cc calls them in the order they appear in --help.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"

namespace CLI {
class App;
}

namespace scanline {

// The configuration the CLI runs with: --config PATH, else $SCANLINE_CONFIG, else
// /etc/scanline/scanline.toml when present, else the defaults; SCANLINE_* variables apply on
// top. Exits with a message naming the bad key when it does not parse.
Config CliConfig();

// Reads a whole file into `out`. False when it cannot be opened or read.
bool ReadFileBytes(const std::string& path, std::string& out);

// An option of a recognition command, kept as text and parsed by the API's own parser so
// values and errors are the same as over HTTP.
struct TextOption {
  const char* flag;  // "--top-n"
  const char* name;  // the query-string name: "top_n"
  const char* help;
};

// Adds each of `table` to `cmd`; every value given is appended to `options` as (name, value)
// in command-line order.
void AddTextOptions(
    CLI::App& cmd, const std::vector<TextOption>& table,
    const std::shared_ptr<std::vector<std::pair<std::string, std::string>>>& options);

void AddMigrateCommand(CLI::App& app);
void AddOcrCommand(CLI::App& app);
void AddLprCommand(CLI::App& app);
void AddKeysCommand(CLI::App& app);
void AddExtractCommand(CLI::App& app);
void AddFillCommand(CLI::App& app);
void AddTemplatesCommand(CLI::App& app);

}  // namespace scanline
