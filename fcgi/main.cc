// scanline-fcgi: the FastCGI worker pool. See fcgi/master.h for what the master does and
// docs/operations.md for how to run it.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "core/build_info.h"
#include "core/config.h"
#include "core/data_files.h"
#include "core/database.h"
#include "core/error.h"
#include "core/log.h"
#include "core/migrations.h"
#include "core/ocr.h"
#include "core/template.h"
#include "core/template_store.h"
#include "fcgi/master.h"

namespace {

constexpr char kDefaultConfig[] = "/etc/scanline/scanline.toml";

std::set<int> ChildrenOf(int pid) {
  std::set<int> children;
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  int child = 0;
  while (in >> child) children.insert(child);
  return children;
}

// ExecReload= must not return before the reload is done (systemd 252 has no
// Type=notify-reload). A reload is done when none of the master's children from before the
// signal are left: the old generation has finished its requests.
int Reload(int pid, int timeout_s) {
  std::set<int> before = ChildrenOf(pid);
  if (kill(pid, SIGHUP) != 0) {
    std::cerr << "scanline-fcgi: cannot signal " << pid << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    std::set<int> now = ChildrenOf(pid);
    bool old_left = false;
    for (int c : before) old_left |= now.count(c) > 0;
    if (!old_left) return 0;
    if (kill(pid, 0) != 0) {
      std::cerr << "scanline-fcgi: master " << pid << " is gone\n";
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::cerr << "scanline-fcgi: reload of " << pid << " not finished after " << timeout_s << " s\n";
  return 1;
}

}  // namespace

namespace {

int Main(int argc, char** argv) {
  CLI::App app{"scanline-fcgi: the scanline FastCGI worker pool"};
  std::string config_path;
  bool check_config = false;
  bool print_defaults = false;
  bool single = false;
  bool no_migrate = false;
  int reload_pid = 0;
  app.add_option("-c,--config", config_path,
                 "TOML config file (default: $SCANLINE_CONFIG, else /etc/scanline/scanline.toml "
                 "when present)");
  app.add_flag("-t,--check-config", check_config,
               "check the configuration, print the result and exit (like nginx -t)");
  app.add_flag("--print-default-config", print_defaults, "print every key with its default");
  app.add_flag("--single-process", single, "serve from this process with no master (debugging)");
  app.add_flag("--no-migrate", no_migrate,
               "do not apply schema migrations at start (the schema is still checked)");
  app.add_option("--reload", reload_pid,
                 "send SIGHUP to the master with this pid and wait until the reload is done");
  app.add_flag_callback("-V,--version", [] {
    std::cout << "scanline-fcgi " << scanline::kVersion << "\n";
    std::exit(0);
  });
  CLI11_PARSE(app, argc, argv);

  if (print_defaults) {
    std::cout << scanline::DefaultConfigToml();
    return 0;
  }
  if (config_path.empty()) {
    if (const char* env = std::getenv("SCANLINE_CONFIG"); env && *env) {
      config_path = env;
    } else if (std::filesystem::exists(kDefaultConfig)) {
      config_path = kDefaultConfig;
    }
  }
  scanline::Config config;
  try {
    config = scanline::LoadConfig(config_path, scanline::ScanlineEnvironment());
  } catch (const scanline::ConfigError& e) {
    std::cerr << "scanline-fcgi: configuration "
              << (config_path.empty() ? std::string("(defaults)") : config_path) << ": " << e.what()
              << "\n";
    return 1;
  }
  if (check_config) {
    std::cout << "scanline-fcgi: configuration "
              << (config_path.empty() ? std::string("(defaults)") : config_path) << " is ok\n";
    return 0;
  }
  if (reload_pid > 0) return Reload(reload_pid, config.server.graceful_timeout_s + 30);

  // Tesseract links OpenMP; one thread per engine is several times faster for one image at
  // a time (the variable alone comes too late: libgomp read its environment before main).
  scanline::PrepareTesseractProcess();
  scanline::SetLogLevel(config.log.level);

  {
    // Migrations at start (unless --no-migrate: an operator runs `scanline migrate`), then the
    // schema check, always. PostgreSQL being down is not fatal (request logs are spooled); a
    // schema newer than this build, or one missing migrations, is.
    scanline::Database database(config.postgres.conninfo, config.postgres.connect_timeout_s);
    try {
      auto migrations = scanline::ReadMigrations(scanline::DataDir("sql"));
      if (!no_migrate) {
        auto applied = scanline::ApplyMigrations(database, migrations);
        if (!applied.empty()) {
          scanline::LogInfo("applied " + std::to_string(applied.size()) + " schema migrations");
        }
      }
      scanline::CheckSchema(database, migrations);
      // Built-in templates, as `scanline migrate` loads them: only content not stored yet.
      // A missing or broken template file is reported, not fatal: stored versions still serve.
      if (!no_migrate) {
        try {
          scanline::TemplateStore templates(database, nullptr, config.forms.template_cache_ttl_s);
          for (const std::string& note : templates.LoadBuiltins(
                   scanline::LoadTemplateDir(scanline::BuiltinTemplateDir(config.forms)))) {
            scanline::LogInfo("built-in template " + note);
          }
        } catch (const scanline::Error& e) {
          if (e.code() == scanline::ErrorCode::kServiceUnavailable) throw;
          scanline::LogWarning("built-in templates not loaded: " + std::string(e.detail()) + " " +
                               e.internal());
        }
      }
    } catch (const scanline::Error& e) {
      if (e.code() == scanline::ErrorCode::kServiceUnavailable) {
        scanline::LogWarning("PostgreSQL unreachable at start (" + e.internal() +
                             "); serving anyway, request logs are spooled");
      } else {
        scanline::LogError(std::string(e.detail()) + ": " + e.internal());
        return 1;
      }
    }
  }

  if (single) return scanline::RunSingleProcess(config);
  return scanline::RunMaster(config_path, std::move(config));
}

}  // namespace

int main(int argc, char** argv) {
  // Workers and the log shipper never return here (master.cc ends them with _exit, their own
  // exceptions caught there): what arrives is the master's or the start's.
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "scanline-fcgi: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "scanline-fcgi: unexpected exception\n";
  }
  return 1;
}
