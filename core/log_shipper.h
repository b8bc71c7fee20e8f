// The log shipper: moves request-log records from the spool (core/log_spool.h) into
// PostgreSQL in batches with COPY. One shipper runs per pool, in a process of its own, so
// no worker ever waits for the database.
//
// Each batch is COPYed into ocr_request_logs in one transaction, and only then are the spool
// offsets advanced: a crash anywhere repeats at most the last batch. A repeated batch is
// refused by the primary key and goes again through a temporary table and INSERT ... ON
// CONFLICT DO NOTHING, which stores only its missing rows. While PostgreSQL is down the spool
// keeps growing; the shipper retries every pass and drains it when the database is back.
#pragma once

#include <cstdint>
#include <string>

namespace scanline {

class Database;

struct ShipperStats {
  uint64_t rows_shipped = 0;   // rows handed to PostgreSQL (repeats included)
  uint64_t failures = 0;       // batches that failed (database down, SQL error)
  uint64_t skipped_lines = 0;  // unreadable spool lines
  int64_t pending_bytes = 0;   // spool bytes not yet shipped, after the last pass
};

class LogShipper {
 public:
  LogShipper(std::string spool_dir, Database& database, int batch_rows);

  // Ships everything the spool holds now, batch by batch. Stops at the first failure (the
  // rest waits for the next pass). Returns the rows shipped in this pass; never throws.
  uint64_t RunOnce();

  const ShipperStats& stats() const { return stats_; }
  const std::string& last_error() const { return last_error_; }

 private:
  std::string spool_dir_;
  Database& database_;
  int batch_rows_;
  ShipperStats stats_;
  std::string last_error_;
};

}  // namespace scanline
