// `scanline migrate`: applies the schema migrations in core/sql (and, through the forms
// code, the built-in templates).
#include <CLI/CLI.hpp>
#include <iostream>

#include "core/data_files.h"
#include "core/database.h"
#include "core/error.h"
#include "core/migrations.h"
#include "core/template.h"
#include "core/template_store.h"
#include "tools/commands.h"

namespace scanline {

void AddMigrateCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("migrate", "apply database schema migrations");
  cmd->callback([] {
    Config config = CliConfig();
    Database database(config.postgres.conninfo, config.postgres.connect_timeout_s);
    try {
      auto migrations = ReadMigrations(DataDir("sql"));
      auto applied = ApplyMigrations(database, migrations);
      for (int v : applied) std::cout << "applied migration " << v << "\n";
      std::cout << "schema version " << SchemaVersion(database) << "\n";
      // A database migrated by a newer build is left alone, templates included.
      CheckSchema(database, migrations);
      // Built-in templates: a version is added only when its content is new.
      TemplateStore store(database, nullptr, config.forms.template_cache_ttl_s);
      for (const std::string& note :
           store.LoadBuiltins(LoadTemplateDir(BuiltinTemplateDir(config.forms)))) {
        std::cout << "template " << note << "\n";
      }
    } catch (const Error& e) {
      std::cerr << "scanline migrate: " << e.detail() << ": " << e.internal() << "\n";
      throw CLI::RuntimeError(1);
    }
  });
}

}  // namespace scanline
