// The request-log spool: how a worker hands a log record off without waiting for
// PostgreSQL, and how the log shipper reads it back.
//
// Each writer process appends JSON lines (core/request_log.h) to its own segment file,
// DIR/<pid>-<seq>.open, one write(2) per record, and renames it to .closed when it rotates
// (past kSegmentBytes) or exits. The shipper reads complete lines from each segment,
// starting at the offset it last committed (kept beside the segment in <segment>.offset,
// replaced atomically by rename), and deletes a segment once it is shipped to the end and
// its writer is done with it (closed, or its process is gone; a torn last line of a writer
// that died is dropped). Records survive the crash of a worker, the shipper or the whole
// pool; a replay after a crash between COPY and the offset update re-sends rows that
// PostgreSQL already has, which the shipper's INSERT ... ON CONFLICT DO NOTHING ignores.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/request_log.h"

namespace scanline {

inline constexpr int64_t kSegmentBytes = 8 << 20;

class LogSpoolWriter {
 public:
  // Creates `dir` if needed. Throws Error(kServiceUnavailable) when it cannot.
  explicit LogSpoolWriter(std::string dir);
  ~LogSpoolWriter();
  LogSpoolWriter(const LogSpoolWriter&) = delete;
  LogSpoolWriter& operator=(const LogSpoolWriter&) = delete;

  // Appends one record; returns the bytes written. Throws Error(kServiceUnavailable) when
  // the disk refuses (full, read-only): the caller must not pretend it was logged.
  int64_t Append(const RequestLogRecord& record);

 private:
  void Open();
  void Close();
  std::string dir_;
  int fd_ = -1;
  std::string path_;
  int64_t written_ = 0;
  int seq_ = 0;
};

struct SpoolRead {
  std::string segment;     // path
  int64_t end_offset = 0;  // after the last complete line read
  bool finished = false;   // the writer is done and everything was read
};

struct SpoolBatch {
  std::vector<RequestLogRecord> records;
  std::vector<SpoolRead> reads;
  int skipped_lines = 0;  // complete lines that did not parse (logged by the caller)
};

class LogSpoolReader {
 public:
  explicit LogSpoolReader(std::string dir) : dir_(std::move(dir)) {}

  // Up to `max_records` records from the oldest segments, from their committed offsets.
  SpoolBatch Next(size_t max_records);
  // Records that the batch is stored: persists offsets, removes finished segments.
  void Commit(const SpoolBatch& batch);
  // Bytes written to the spool and not yet committed.
  int64_t PendingBytes() const;

 private:
  std::string dir_;
};

}  // namespace scanline
