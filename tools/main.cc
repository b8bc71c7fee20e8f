// The `scanline` command: local recognition with no server, and the operator's tools
// (migrate, keys, templates).
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/build_info.h"
#include "core/ocr.h"
#include "tools/commands.h"

namespace scanline {
namespace {
std::string g_config_path;
}  // namespace

Config CliConfig() {
  std::string path = g_config_path;
  if (path.empty()) {
    if (const char* env = std::getenv("SCANLINE_CONFIG"); env && *env) {
      path = env;
    } else if (std::filesystem::exists("/etc/scanline/scanline.toml")) {
      path = "/etc/scanline/scanline.toml";
    }
  }
  try {
    return LoadConfig(path, ScanlineEnvironment());
  } catch (const ConfigError& e) {
    std::cerr << "scanline: configuration " << (path.empty() ? "(defaults)" : path) << ": "
              << e.what() << "\n";
    std::exit(2);
  }
}

bool ReadFileBytes(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  out = buffer.str();
  return !in.bad();
}

void AddTextOptions(
    CLI::App& cmd, const std::vector<TextOption>& table,
    const std::shared_ptr<std::vector<std::pair<std::string, std::string>>>& options) {
  for (const TextOption& option : table) {
    std::string name = option.name;
    // The request option's own name works too: --deadline-ms or --deadline_ms.
    std::string flags = option.flag;
    if (std::string spelt = "--" + name; spelt != flags) flags += "," + spelt;
    cmd.add_option_function<std::string>(
        flags, [options, name](const std::string& value) { options->emplace_back(name, value); },
        option.help);
  }
}

}  // namespace scanline

namespace {

int Main(int argc, char** argv) {
  // Tesseract links OpenMP; one thread per engine is several times faster for one image at
  // a time (the variable alone comes too late: libgomp read its environment before main).
  scanline::PrepareTesseractProcess();
  CLI::App app{"scanline: document and licence-plate recognition"};
  app.require_subcommand(1);
  app.add_option("-c,--config", scanline::g_config_path, "TOML config file");
  app.add_subcommand("version", "print the version")->callback([] {
    std::cout << "scanline " << scanline::kVersion << "\n";
  });
  scanline::AddMigrateCommand(app);
  scanline::AddOcrCommand(app);
  scanline::AddLprCommand(app);
  scanline::AddKeysCommand(app);
  scanline::AddExtractCommand(app);
  scanline::AddFillCommand(app);
  scanline::AddTemplatesCommand(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a command's own failure: its status, message already printed
  } catch (const CLI::ParseError& e) {
    // --help prints and exits 0; a bad command line exits 2 (CLI11's own codes are 100 and
    // up), as for a bad option value.
    return app.exit(e) == 0 ? 0 : 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // What a command did not expect (out of memory, a file system error): a message and a
  // failure status rather than std::terminate's abort.
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "scanline: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "scanline: unexpected exception\n";
  }
  return 1;
}
