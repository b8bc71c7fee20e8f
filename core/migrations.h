// Schema migrations: numbered SQL files (core/sql/NNNN_name.sql) applied in order, each in
// its own transaction, and recorded in schema_migrations. `scanline migrate` applies them;
// the pool checks at start that the database is not newer than the files it knows.
#pragma once

#include <string>
#include <vector>

namespace scanline {

class Database;

struct Migration {
  int version = 0;   // NNNN
  std::string name;  // file name
  std::string sql;
};

// The migrations in `dir`, sorted by version. Throws Error(kInternal) on a duplicate number
// or an unreadable file.
std::vector<Migration> ReadMigrations(const std::string& dir);

// Applies the missing ones under an advisory lock (two `migrate` runs cannot interleave).
// Returns the versions applied now. Idempotent: a second call applies nothing.
std::vector<int> ApplyMigrations(Database& database, const std::vector<Migration>& migrations);

// Highest applied version, 0 for an empty database.
int SchemaVersion(Database& database);

// Throws Error(kInternal) when the database has a version newer than any known migration,
// or lacks some: a pool must not run against a schema it does not know.
void CheckSchema(Database& database, const std::vector<Migration>& migrations);

}  // namespace scanline
