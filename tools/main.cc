// The `scanline` command: local recognition with no server, and the operator's tools.
#include <CLI/CLI.hpp>

#include <iostream>

#include "core/build_info.h"

int main(int argc, char** argv) {
  CLI::App app{"scanline: document and licence-plate recognition"};
  app.require_subcommand(1);
  app.add_subcommand("version", "print the version")->callback([] {
    std::cout << "scanline " << scanline::kVersion << "\n";
  });
  CLI11_PARSE(app, argc, argv);
  return 0;
}
