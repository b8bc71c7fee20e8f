// Request logs are never lost and never doubled: requests served while PostgreSQL is down
// wait in the spool and arrive when it is back; a shipper killed again and again in the
// middle of its batches still leaves exactly one row per request.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

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
