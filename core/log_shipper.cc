// Log shipper (see core/log_shipper.h).
#include "core/log_shipper.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <ctime>
#include <set>

#include "core/detail/pg.h"
#include "core/log.h"
#include "core/log_spool.h"

namespace scanline {
namespace {

// The columns a record fills, in the order CopyRecords writes them.
const std::vector<std::string>& Columns() {
  static const std::vector<std::string> columns = {
      "request_id",    "created_at", "client_key_id", "method",           "endpoint",
      "status",        "error_code", "document_type", "template_version", "latency_ms",
      "stage_timings", "confidence", "image_sha256",  "image_bytes",      "image_width",
      "image_height",  "peer"};
  return columns;
}

std::string Timestamp(int64_t us) {
  time_t seconds = static_cast<time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%06lld+00", static_cast<long long>(us % 1000000));
  return buf;
}

std::string StagesJson(const RequestLogRecord& r) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  for (const StageTiming& s : r.stages) {
    w.Key(s.stage.c_str(), static_cast<rapidjson::SizeType>(s.stage.size()));
    w.Double(s.ms);
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// COPYs `records` into `table` (ocr_request_logs itself, or the batch table).
void CopyRecords(pqxx::work& tx, const std::string& table,
                 const std::vector<RequestLogRecord>& records) {
  pqxx::stream_to stream(tx, table, Columns());
  for (const RequestLogRecord& r : records) {
    std::string created = Timestamp(r.created_at_us);
    std::string status = std::to_string(r.status);
    std::string version = std::to_string(r.template_version);
    std::string latency = std::to_string(r.latency_ms);
    std::string stages = StagesJson(r);
    std::string confidence = r.confidence ? std::to_string(*r.confidence) : "";
    std::string bytes = std::to_string(r.image_bytes);
    std::string width = std::to_string(r.image_width);
    std::string height = std::to_string(r.image_height);
    auto opt = [](const std::string& s) -> const char* { return s.empty() ? nullptr : s.c_str(); };
    bool has_image = !r.image_sha256.empty();
    stream << std::make_tuple(
        r.request_id.c_str(), created.c_str(), opt(r.client_key_id), r.method.c_str(),
        r.endpoint.c_str(), status.c_str(), opt(r.error_code), opt(r.document_type),
        r.template_version > 0 ? version.c_str() : nullptr, latency.c_str(), stages.c_str(),
        opt(confidence), opt(r.image_sha256), has_image ? bytes.c_str() : nullptr,
        has_image ? width.c_str() : nullptr, has_image ? height.c_str() : nullptr, opt(r.peer));
  }
  stream.complete();
}

// Ships one batch; what it stores, it stores in one transaction. Almost always none of its
// rows is stored yet, and it is COPYed straight into the table. A batch repeated after a
// crash (between its commit and the spool offsets moving on) is refused by the primary key;
// that transaction is rolled back, and a second one sends the batch through a temporary
// table and INSERT ... ON CONFLICT DO NOTHING, which stores only the missing rows. The
// straight COPY costs PostgreSQL about a third of that path's CPU, and a pass every second
// is taken from the cores that recognise.
void Ship(Database& database, const std::vector<RequestLogRecord>& records) {
  auto ensure_partitions = [&records](pqxx::work& tx) {
    std::set<std::string> months;
    for (const RequestLogRecord& r : records) {
      std::string ts = Timestamp(r.created_at_us);
      if (months.insert(ts.substr(0, 7)).second) {
        tx.exec_params("SELECT scanline_ensure_log_partition($1::timestamptz)", ts);
      }
    }
  };
  const bool stored = WithConnection(database, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    ensure_partitions(tx);
    try {
      CopyRecords(tx, "ocr_request_logs", records);
    } catch (const pqxx::sql_error& e) {
      if (e.sqlstate() != "23505") throw;  // unique_violation: some rows are stored already
      return false;
    }
    tx.commit();
    return true;
  });
  if (stored) return;
  WithConnection(database, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    ensure_partitions(tx);
    tx.exec(
        "CREATE TEMP TABLE IF NOT EXISTS scanline_log_batch "
        "(LIKE ocr_request_logs INCLUDING DEFAULTS) ON COMMIT DELETE ROWS");
    CopyRecords(tx, "scanline_log_batch", records);
    std::string columns;
    for (const std::string& column : Columns()) columns += (columns.empty() ? "" : ", ") + column;
    tx.exec("INSERT INTO ocr_request_logs (" + columns + ") SELECT " + columns +
            " FROM scanline_log_batch ON CONFLICT DO NOTHING");
    tx.commit();
    return 0;
  });
}

}  // namespace

LogShipper::LogShipper(std::string spool_dir, Database& database, int batch_rows)
    : spool_dir_(std::move(spool_dir)), database_(database), batch_rows_(batch_rows) {}

uint64_t LogShipper::RunOnce() {
  LogSpoolReader reader(spool_dir_);
  uint64_t shipped = 0;
  while (true) {
    SpoolBatch batch = reader.Next(static_cast<size_t>(batch_rows_));
    if (batch.skipped_lines > 0) {
      stats_.skipped_lines += static_cast<uint64_t>(batch.skipped_lines);
      LogWarning("request log: " + std::to_string(batch.skipped_lines) +
                 " unreadable spool lines skipped");
    }
    if (!batch.records.empty()) {
      try {
        Ship(database_, batch.records);
      } catch (const Error& e) {
        ++stats_.failures;
        last_error_ = e.internal().empty() ? std::string(e.detail()) : e.internal();
        break;
      } catch (const std::exception& e) {
        ++stats_.failures;
        last_error_ = e.what();
        database_.impl().Drop();
        break;
      }
      shipped += batch.records.size();
      stats_.rows_shipped += batch.records.size();
      last_error_.clear();
    }
    reader.Commit(batch);
    if (batch.records.size() < static_cast<size_t>(batch_rows_)) break;
  }
  stats_.pending_bytes = reader.PendingBytes();
  return shipped;
}

}  // namespace scanline
