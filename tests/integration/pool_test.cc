// The pool behind real nginx over TLS, with real PostgreSQL and Redis: health and its
// dependency checks, problem+json errors from the pool and from nginx, rate limits, worker
// crashes, graceful reload under load, graceful stop, the hard request timeout, and
// libfcgi's own client talking to the pool.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <regex>
#include <thread>

#include "tests/integration/testbed.h"

namespace scanline::testing {
namespace {

rapidjson::Document Json(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  return doc;
}

std::vector<int> WorkerPids(Service& service) {
  HttpResponse r = Http("GET", service.base_url() + "/status");
  std::vector<int> pids;
  rapidjson::Document doc = Json(r.body);
  if (!doc.IsObject() || !doc.HasMember("workers")) return pids;
  for (const auto& w : doc["workers"].GetArray()) pids.push_back(w["pid"].GetInt());
  return pids;
}

// The nice value of process `pid` (field 19 of /proc/PID/stat), or -100 if it cannot be read.
int NiceOf(int pid) {
  const std::vector<std::string> stat = ProcStat(pid);
  return stat.size() > 19 ? std::stoi(stat[19]) : -100;
}

// Health results are kept for 250 ms per worker: polls until `status` shows (or 3 s pass).
HttpResponse AwaitHealth(Service& service, long status) {
  HttpResponse r;
  for (int i = 0; i < 60; ++i) {
    r = Http("GET", service.base_url() + "/v1/health");
    if (r.status == status) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return r;
}

void ExpectProblem(const HttpResponse& r, long status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.headers.count("content-type") ? r.headers.at("content-type") : "",
            "application/problem+json")
      << r.body;
  rapidjson::Document doc = Json(r.body);
  ASSERT_TRUE(doc.IsObject()) << r.body;
  EXPECT_STREQ(doc["code"].GetString(), code.c_str());
  EXPECT_EQ(doc["status"].GetInt(), status);
  ASSERT_TRUE(doc.HasMember("request_id"));
  EXPECT_GT(doc["request_id"].GetStringLength(), 8u);
  ASSERT_TRUE(r.headers.count("x-request-id"));
  EXPECT_EQ(r.headers.at("x-request-id"), doc["request_id"].GetString());
}

class PoolTest : public ::testing::Test {
 protected:
  static constexpr int kWorkerNice = 7;
  static void SetUpTestSuite() {
    ServiceOptions options;
    options.workers = 2;
    options.ip_rate = 5;
    options.ip_burst = 10;
    options.client_max_body_size = "1m";
    options.worker_nice = kWorkerNice;
    service_ = new Service(options);
  }
  static void TearDownTestSuite() {
    delete service_;
    service_ = nullptr;
  }
  static Service* service_;
};

Service* PoolTest::service_ = nullptr;

TEST_F(PoolTest, HealthIsOkWithEveryDependencyUp) {
  HttpResponse r = Http("GET", service_->base_url() + "/v1/health");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document doc = Json(r.body);
  EXPECT_STREQ(doc["status"].GetString(), "ok");
  EXPECT_TRUE(doc["checks"]["postgres"]["ok"].GetBool());
  EXPECT_TRUE(doc["checks"]["redis"]["ok"].GetBool());
  EXPECT_TRUE(doc["checks"]["tessdata"]["ok"].GetBool());
  EXPECT_TRUE(doc.HasMember("version"));
  EXPECT_TRUE(doc.HasMember("uptime_s"));
  EXPECT_EQ(r.headers.count("x-request-id"), 1u);
  EXPECT_EQ(r.headers.at("strict-transport-security"), "max-age=63072000");
}

TEST_F(PoolTest, HealthIs503NamingRedisWhileRedisIsStopped) {
  service_->redis().Stop();
  HttpResponse r = AwaitHealth(*service_, 503);
  service_->redis().Start();
  ASSERT_EQ(r.status, 503) << r.body;
  rapidjson::Document doc = Json(r.body);
  EXPECT_FALSE(doc["checks"]["redis"]["ok"].GetBool());
  EXPECT_TRUE(doc["checks"]["postgres"]["ok"].GetBool());
  ASSERT_EQ(doc["failed"].Size(), 1u);
  EXPECT_STREQ(doc["failed"][0].GetString(), "redis");
  // Back to healthy once Redis is back (after the client's reconnect pause).
  long status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    status = Http("GET", service_->base_url() + "/v1/health").status;
  }
  EXPECT_EQ(status, 200);
}

TEST_F(PoolTest, HealthIs503NamingPostgresWhilePostgresIsStopped) {
  service_->postgres().Stop();
  HttpResponse r = AwaitHealth(*service_, 503);
  service_->postgres().Start();
  ASSERT_EQ(r.status, 503) << r.body;
  rapidjson::Document doc = Json(r.body);
  EXPECT_FALSE(doc["checks"]["postgres"]["ok"].GetBool());
  EXPECT_STREQ(doc["failed"][0].GetString(), "postgres");
  long status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    status = Http("GET", service_->base_url() + "/v1/health").status;
  }
  EXPECT_EQ(status, 200);
}

TEST_F(PoolTest, UnknownPathIs404ProblemFromThePool) {
  ExpectProblem(Http("GET", service_->base_url() + "/v1/no-such-thing"), 404, "not_found");
}

TEST_F(PoolTest, PathOutsideTheApiIs404ProblemFromNginx) {
  ExpectProblem(Http("GET", service_->base_url() + "/index.html"), 404, "not_found");
}

TEST_F(PoolTest, WrongMethodIs405WithAllow) {
  HttpResponse r = Http("POST", service_->base_url() + "/v1/health", "x");
  ExpectProblem(r, 405, "method_not_allowed");
  EXPECT_EQ(r.headers["allow"], "GET");
}

TEST_F(PoolTest, OversizedBodyIs413ProblemFromNginx) {
  std::string body(2 << 20, 'x');
  HttpResponse r = Http("POST", service_->base_url() + "/v1/health", body,
                        {"Content-Type: application/octet-stream"});
  ExpectProblem(r, 413, "payload_too_large");
}

TEST_F(PoolTest, StatusAndMetricsDescribeThePool) {
  HttpResponse r = Http("GET", service_->base_url() + "/status");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document doc = Json(r.body);
  EXPECT_EQ(doc["total_workers"].GetInt(), 2);
  EXPECT_EQ(doc["listen_queue_len"].GetInt(), 256);
  EXPECT_GE(doc["listen_queue"].GetInt64(), 0);
  EXPECT_GE(doc["accepted_requests"].GetUint64(), 1u);
  EXPECT_EQ(doc["workers"].Size(), 2u);
  HttpResponse m = Http("GET", service_->base_url() + "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("scanline_requests_total{endpoint=\"/v1/health\",status=\"200\"}"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("# TYPE scanline_request_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(m.body.find("scanline_pool_workers{state=\"idle\"}"), std::string::npos);
}

// The pool runs at the nice value it was started with (that of this process); its workers,
// respawned ones too (KilledWorkerIsReplacedAndThePoolKeepsServing), server.worker_nice above.
TEST_F(PoolTest, WorkersRunAtServerWorkerNiceAboveThePool) {
  const int base = getpriority(PRIO_PROCESS, 0);
  ASSERT_LE(base + kWorkerNice, 19) << "this test needs to run below nice " << 19 - kWorkerNice;
  EXPECT_EQ(NiceOf(service_->pool().pid()), base);
  const std::vector<int> workers = WorkerPids(*service_);
  ASSERT_EQ(workers.size(), 2u);
  for (const int pid : workers) EXPECT_EQ(NiceOf(pid), base + kWorkerNice) << "worker " << pid;
}

TEST_F(PoolTest, RateLimitPerClientAddressAnswers429WithRetryAfter) {
  int limited = 0;
  HttpResponse last429;
  for (int i = 0; i < 60; ++i) {
    HttpResponse r = Http("GET", service_->base_url() + "/v1/nothing-here");
    if (r.status == 429) {
      ++limited;
      last429 = r;
    }
  }
  ASSERT_GT(limited, 0);
  ExpectProblem(last429, 429, "rate_limited");
  EXPECT_EQ(last429.headers["retry-after"], "1");
  // Health is not rate limited.
  EXPECT_EQ(Http("GET", service_->base_url() + "/v1/health").status, 200);
}

TEST_F(PoolTest, KilledWorkerIsReplacedAndThePoolKeepsServing) {
  std::vector<int> before = WorkerPids(*service_);
  ASSERT_EQ(before.size(), 2u);
  ASSERT_EQ(kill(before[0], SIGKILL), 0);
  std::vector<int> after;
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    after = WorkerPids(*service_);
    if (after.size() == 2 && std::find(after.begin(), after.end(), before[0]) == after.end()) {
      break;
    }
  }
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(std::find(after.begin(), after.end(), before[0]), after.end());
  for (const int pid : after) {
    EXPECT_EQ(NiceOf(pid), getpriority(PRIO_PROCESS, 0) + kWorkerNice) << "worker " << pid;
  }
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(Http("GET", service_->base_url() + "/v1/health").status, 200);
  }
  rapidjson::Document doc = Json(Http("GET", service_->base_url() + "/status").body);
  EXPECT_GE(doc["restarts"].GetUint64(), 1u);
  EXPECT_NE(service_->PoolLog().find("was killed by signal 9"), std::string::npos);
}

TEST_F(PoolTest, ReloadUnderLoadFailsNoRequest) {
  std::atomic<int> ok{0}, failed{0};
  std::atomic<bool> done{false};
  std::string first_failure;
  std::mutex failure_mutex;
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      while (!done || ok + failed < 600) {
        HttpResponse r = Http("GET", service_->base_url() + "/v1/health");
        if (r.status == 200) {
          ++ok;
        } else {
          ++failed;
          std::lock_guard lock(failure_mutex);
          if (first_failure.empty())
            first_failure = r.error + " " + std::to_string(r.status) + r.body;
        }
        if (ok + failed >= 600) break;
      }
    });
  }
  std::vector<int> before = WorkerPids(*service_);
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    kill(service_->pool().pid(), SIGHUP);
  }
  done = true;
  for (auto& c : clients) c.join();
  EXPECT_GE(ok + failed, 600);
  EXPECT_EQ(failed, 0) << first_failure;
  // The workers are a new generation.
  std::vector<int> after;
  for (int i = 0; i < 100; ++i) {
    after = WorkerPids(*service_);
    bool fresh = after.size() == 2;
    for (int p : before) fresh &= std::find(after.begin(), after.end(), p) == after.end();
    if (fresh) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (int p : before) EXPECT_EQ(std::find(after.begin(), after.end(), p), after.end());
  rapidjson::Document doc = Json(Http("GET", service_->base_url() + "/status").body);
  EXPECT_GE(doc["generation"].GetInt(), 4);
}

TEST_F(PoolTest, LibfcgiClientTalksToThePool) {
  std::string out;
  int rc = Shell("REQUEST_METHOD=GET REQUEST_URI=/v1/health cgi-fcgi -bind -connect " +
                     service_->pool_socket(),
                 &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("Status: 200 OK"), std::string::npos) << out;
  EXPECT_NE(out.find("\"status\":\"ok\""), std::string::npos) << out;
}

// Runs last in this file's order: it stops and restarts the pool.
TEST_F(PoolTest, SigtermLetsAnInFlightRequestFinish) {
  FastCgiConnection conn(service_->pool_socket());
  conn.Begin({{"REQUEST_METHOD", "POST"},
              {"REQUEST_URI", "/v1/no-such-thing"},
              {"CONTENT_LENGTH", "10"},
              {"CONTENT_TYPE", "text/plain"}});
  conn.SendBody("hello");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the worker is reading
  kill(service_->pool().pid(), SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(service_->pool().Running()) << "master exited with a request in flight";
  conn.SendBody("world");
  conn.SendBody("");
  bool complete = false;
  std::string response = conn.ReadResponse(5000, &complete);
  EXPECT_TRUE(complete);
  EXPECT_NE(response.find("Status: 404"), std::string::npos) << response;
  int status = service_->pool().Stop(0, 10000);  // signal 0: just wait for the exit
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  service_->StartPool();
  service_->WaitReady();
}

class HardTimeoutTest : public ::testing::Test {};

TEST_F(HardTimeoutTest, StuckRequestGets504ProblemAndTheWorkerIsReplaced) {
  ServiceOptions options;
  options.workers = 1;
  options.extra_toml = "";
  // request_timeout_s is in [server], which the generated config already opened; the
  // environment override keeps the TOML simple.
  setenv("SCANLINE_SERVER_REQUEST_TIMEOUT_S", "1", 1);
  Service service(options);
  unsetenv("SCANLINE_SERVER_REQUEST_TIMEOUT_S");
  std::vector<int> before = WorkerPids(service);
  ASSERT_EQ(before.size(), 1u);

  FastCgiConnection conn(service.pool_socket());
  conn.Begin({{"REQUEST_METHOD", "POST"},
              {"REQUEST_URI", "/v1/health"},
              {"CONTENT_LENGTH", "100"},
              {"REQUEST_ID", "stuck-request-0001"}});
  conn.SendBody("only part of the body");  // and never the rest
  bool complete = false;
  std::string response = conn.ReadResponse(6000, &complete);
  EXPECT_TRUE(complete) << response;
  EXPECT_NE(response.find("Status: 504"), std::string::npos) << response;
  EXPECT_NE(response.find("application/problem+json"), std::string::npos);
  EXPECT_NE(response.find("\"code\":\"deadline_exceeded\""), std::string::npos);
  EXPECT_NE(response.find("stuck-request-0001"), std::string::npos);

  std::vector<int> after;
  for (int i = 0; i < 100; ++i) {
    after = WorkerPids(service);
    if (after.size() == 1 && after[0] != before[0]) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(after.size(), 1u);
  EXPECT_NE(after[0], before[0]);
  EXPECT_EQ(Http("GET", service.base_url() + "/v1/health").status, 200);
  EXPECT_NE(service.PoolLog().find("stuck-request-0001"), std::string::npos) << service.PoolLog();
  rapidjson::Document doc = Json(Http("GET", service.base_url() + "/status").body);
  EXPECT_EQ(doc["timeouts"].GetUint64(), 1u);
}

}  // namespace
}  // namespace scanline::testing
