// A PostgreSQL connection owned by one process (a worker, the log shipper, the CLI).
//
// Connects lazily and reconnects after a failure, so a worker outlives a database restart.
// When PostgreSQL cannot be reached the calls throw Error(kServiceUnavailable); callers decide
// whether that fails the request (templates with Redis also down) or not (health reports it).
// Queries are written in core .cc files against core/detail/pg.h; no header of ours names pqxx.
#pragma once

#include <memory>
#include <string>

namespace scanline {

class Database {
 public:
  // `conninfo` is a libpq connection string; connect_timeout_s bounds each attempt.
  Database(std::string conninfo, int connect_timeout_s);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs `SELECT 1`. Returns "" when it works, else why not (for /v1/health).
  std::string Check();

  const std::string& conninfo() const { return conninfo_; }

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::string conninfo_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace scanline
