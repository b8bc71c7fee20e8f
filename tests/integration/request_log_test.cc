// Request logs are never lost and never doubled: requests served while PostgreSQL is down
// wait in the spool and arrive when it is back; a shipper killed again and again in the
// middle of its batches still leaves exactly one row per request.
#include "core/request_log.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "core/database.h"
#include "core/log_shipper.h"
#include "core/log_spool.h"
#include "tests/integration/testbed.h"

namespace scanline::testing {
namespace {

int CountRows(Service& service, const std::string& tag) {
  return std::stoi(service.postgres().Query(
      "SELECT count(*) FROM ocr_request_logs WHERE endpoint = 'unmatched' AND method = '" + tag +
      "'"));
}

void Send(Service& service, const std::string& method, int n, int offset) {
  for (int i = 0; i < n; ++i) {
    HttpResponse r =
        Http(method, service.base_url() + "/v1/log-probe-" + std::to_string(offset + i));
    ASSERT_EQ(r.status, 404) << r.error << r.body;
  }
}

int AwaitRows(Service& service, const std::string& method, int want, int timeout_s) {
  int have = -1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      have = CountRows(service, method);
    } catch (const std::exception&) {
      have = -1;
    }
    if (have >= want) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return have;
}

ServiceOptions Options() {
  ServiceOptions options;
  options.ip_rate = 100000;
  options.ip_burst = 100000;
  return options;
}

TEST(RequestLogTest, RequestsServedWhilePostgresIsDownArriveWhenItIsBack) {
  Service service(Options());
  Send(service, "GET", 200, 0);
  service.postgres().Stop();
  Send(service, "GET", 200, 200);
  // Nothing is lost while it is away: the spool holds the records.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  HttpResponse metrics = Http("GET", service.base_url() + "/metrics");
  EXPECT_NE(metrics.body.find("scanline_log_ship_failures_total"), std::string::npos);
  service.postgres().Start();
  Send(service, "GET", 100, 400);
  EXPECT_EQ(AwaitRows(service, "GET", 500, 30), 500);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(CountRows(service, "GET"), 500);
  EXPECT_EQ(service.postgres().Query(
                "SELECT count(DISTINCT request_id) FROM ocr_request_logs WHERE method = 'GET' "
                "AND endpoint = 'unmatched'"),
            "500");
  // Each row says what happened.
  EXPECT_EQ(
      service.postgres().Query("SELECT count(*) FROM ocr_request_logs WHERE status = 404 AND "
                               "error_code = 'not_found' AND latency_ms > 0 AND method = 'GET'"),
      "500");
  // The row went to this month's partition, not the default one.
  EXPECT_EQ(service.postgres().Query("SELECT count(*) FROM ocr_request_logs_default"), "0");
  EXPECT_NE(service.PoolLog().find("cannot write to PostgreSQL"), std::string::npos);
}

TEST(RequestLogTest, KillingTheShipperMidBatchNeitherLosesNorDoublesRows) {
  setenv("SCANLINE_LOG_BATCH_ROWS", "20", 1);
  Service service(Options());
  unsetenv("SCANLINE_LOG_BATCH_ROWS");
  service.postgres().Stop();
  constexpr int kRows = 3000;
  Send(service, "HEAD", kRows, 0);
  service.postgres().Start();
  // Kill each shipper a little while after it starts (the master restarts it after a
  // second), so that kills land inside its batches.
  int kills = 0;
  int last_pid = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < deadline && CountRows(service, "HEAD") < kRows) {
    int pid = service.ShipperPid();
    if (pid > 0 && pid != last_pid) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10 + 23 * (kills % 4)));
      if (kill(pid, SIGKILL) == 0) ++kills;
      last_pid = pid;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(kills, 2);
  EXPECT_EQ(AwaitRows(service, "HEAD", kRows, 30), kRows);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(CountRows(service, "HEAD"), kRows);
  EXPECT_EQ(service.postgres().Query(
                "SELECT count(*) - count(DISTINCT request_id) FROM ocr_request_logs"),
            "0");
}

// A batch shipped again (the shipper died after its commit, before the spool offsets moved)
// is refused by the primary key when COPYed straight into the table; it then goes through
// the temporary table and ON CONFLICT, and only its missing rows are stored.
TEST(RequestLogTest, ABatchShippedAgainStoresOnlyItsNewRows) {
  Service service(Options());
  TempDir spool_dir;
  Database database(service.postgres().conninfo(), 3);
  LogSpoolWriter writer(spool_dir.path());
  auto append = [&writer](int from, int to) {
    for (int i = from; i < to; ++i) {
      RequestLogRecord r;
      r.request_id = "replay-" + std::to_string(i);
      r.created_at_us = 1796140800000000 + i;  // 2026-12-01
      r.method = "REPLAY";
      r.endpoint = "/v1/ocr";
      r.status = 200;
      r.latency_ms = 1.5;
      r.stages = {{"total", 1.25}};
      r.confidence = 90.5;
      r.image_sha256 = std::string(64, 'a');
      r.image_bytes = 1000;
      writer.Append(r);
    }
  };
  auto rows = [&service] {
    return service.postgres().Query(
        "SELECT count(*) || ' ' || count(DISTINCT request_id) FROM ocr_request_logs "
        "WHERE method = 'REPLAY'");
  };
  auto batch_table_exists = [&service] {
    return service.postgres().Query(
               "SELECT count(*) FROM pg_class WHERE relname = 'scanline_log_batch'") != "0";
  };
  LogShipper shipper(spool_dir.path(), database, 100);
  append(0, 30);
  EXPECT_EQ(shipper.RunOnce(), 30u) << shipper.last_error();
  EXPECT_EQ(rows(), "30 30");
  EXPECT_FALSE(batch_table_exists());  // new rows go straight in

  // Forget the offsets, as a shipper killed after its commit does, and add ten rows.
  for (const auto& entry : std::filesystem::directory_iterator(spool_dir.path())) {
    if (entry.path().extension() == ".offset") std::filesystem::remove(entry.path());
  }
  append(30, 40);
  EXPECT_EQ(shipper.RunOnce(), 40u) << shipper.last_error();
  EXPECT_EQ(rows(), "40 40");
  EXPECT_TRUE(batch_table_exists());
  EXPECT_EQ(shipper.stats().failures, 0u);
  EXPECT_EQ(service.postgres().Query(
                "SELECT stage_timings::text || ' ' || confidence || ' ' || image_bytes FROM "
                "ocr_request_logs WHERE request_id = 'replay-35'"),
            "{\"total\": 1.25} 90.5 1000");

  // With nothing new the offsets stay where they are and the next pass ships nothing.
  EXPECT_EQ(shipper.RunOnce(), 0u);
  EXPECT_EQ(rows(), "40 40");
}

TEST(RequestLogTest, GracefulStopShipsWhatIsLeft) {
  Service service(Options());
  Send(service, "GET", 50, 0);
  int status = service.pool().Stop(SIGTERM, 20000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(CountRows(service, "GET"), 50) << service.PoolLog();
  service.StartPool();
  service.WaitReady();
}

}  // namespace
}  // namespace scanline::testing
