// The libpqxx side of core/database.h, for core .cc files that run SQL.
//
// WithConnection runs `fn(pqxx::connection&)`, connecting first if needed. A broken
// connection is dropped and the call retried once on a fresh one (the server restarted);
// if PostgreSQL stays unreachable it throws Error(kServiceUnavailable). SQL errors
// (pqxx::sql_error) pass through unchanged for the caller to map.
#pragma once

#include <chrono>
#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "core/database.h"
#include "core/error.h"

namespace scanline {

struct Database::Impl {
  std::string conninfo;
  std::unique_ptr<pqxx::connection> connection;
  std::chrono::steady_clock::time_point retry_after{};  // no reconnect attempt before this

  pqxx::connection& Connect();
  void Drop() { connection.reset(); }
};

template <typename Fn>
auto WithConnection(Database& database, Fn&& fn)
    -> decltype(fn(std::declval<pqxx::connection&>())) {
  Database::Impl& impl = database.impl();
  for (int attempt = 0;; ++attempt) {
    try {
      return fn(impl.Connect());
    } catch (const pqxx::broken_connection& e) {
      impl.Drop();
      if (attempt >= 1) {
        throw Error(ErrorCode::kServiceUnavailable, "the database is unavailable",
                    std::string("postgres: ") + e.what());
      }
    }
  }
}

}  // namespace scanline
