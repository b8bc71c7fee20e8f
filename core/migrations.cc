// Migration runner (see core/migrations.h).
#include "core/migrations.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "core/detail/pg.h"
#include "core/error.h"

namespace scanline {
namespace {

// Any constant of our own: pg_advisory_lock keys are application-chosen 64-bit numbers.
constexpr int64_t kMigrationLockKey = 0x5CA9'11AE'0001;

constexpr char kCreateTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

}  // namespace

std::vector<Migration> ReadMigrations(const std::string& dir) {
  namespace fs = std::filesystem;
  static const std::regex kName(R"((\d{4})_[A-Za-z0-9_]+\.sql)");
  std::vector<Migration> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    std::smatch m;
    if (!std::regex_match(name, m, kName)) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    if (!in) throw Error(ErrorCode::kInternal, "migration unreadable", entry.path().string());
    std::ostringstream sql;
    sql << in.rdbuf();
    out.push_back({std::stoi(m[1].str()), name, sql.str()});
  }
  std::sort(out.begin(), out.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i].version == out[i - 1].version) {
      throw Error(ErrorCode::kInternal, "duplicate migration number",
                  out[i - 1].name + " and " + out[i].name);
    }
  }
  return out;
}

std::vector<int> ApplyMigrations(Database& database, const std::vector<Migration>& migrations) {
  return WithConnection(database, [&](pqxx::connection& c) {
    std::vector<int> applied;
    {
      pqxx::nontransaction tx(c);
      tx.exec("SELECT pg_advisory_lock(" + std::to_string(kMigrationLockKey) + ")");
      tx.exec(kCreateTable);
    }
    try {
      for (const Migration& m : migrations) {
        pqxx::work tx(c);
        auto r = tx.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", m.version);
        if (!r.empty()) continue;
        tx.exec(m.sql);
        tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version,
                       m.name);
        tx.commit();
        applied.push_back(m.version);
      }
    } catch (const pqxx::sql_error& e) {
      pqxx::nontransaction unlock(c);
      unlock.exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLockKey) + ")");
      throw Error(ErrorCode::kInternal, "migration failed",
                  std::string(e.what()) + " (SQLSTATE " + e.sqlstate() + ")");
    }
    pqxx::nontransaction unlock(c);
    unlock.exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLockKey) + ")");
    return applied;
  });
}

int SchemaVersion(Database& database) {
  return WithConnection(database, [](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    auto exists = tx.exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (!exists[0][0].as<bool>()) return 0;
    auto r = tx.exec("SELECT coalesce(max(version), 0) FROM schema_migrations");
    return r[0][0].as<int>();
  });
}

void CheckSchema(Database& database, const std::vector<Migration>& migrations) {
  int have = SchemaVersion(database);
  int known = migrations.empty() ? 0 : migrations.back().version;
  if (have > known) {
    throw Error(ErrorCode::kInternal, "database schema is newer than this build",
                "schema version " + std::to_string(have) + " > newest known migration " +
                    std::to_string(known) + ": upgrade scanline");
  }
  if (have < known) {
    throw Error(ErrorCode::kInternal, "database schema is out of date",
                "schema version " + std::to_string(have) + " < " + std::to_string(known) +
                    ": run `scanline migrate`");
  }
}

}  // namespace scanline
