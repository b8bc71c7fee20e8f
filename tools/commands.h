// The `scanline` subcommands. Each lives in tools/<name>_command.cc and adds itself to the
// app passed in; tools/main.cc calls them in the order they appear in --help.
#pragma once

namespace CLI {
class App;
}

namespace scanline {

void AddMigrateCommand(CLI::App& app);

}  // namespace scanline
