// Signed requests through nginx over TLS, signed by two SigV4 implementations nobody on this
// project wrote: curl's --aws-sigv4 and the npm aws4 package (tests/integration/signers).
// Both are accepted; each kind of tampering is refused with its code; a revoked key stops
// within five seconds; every signed request leaves exactly one log row, also when PostgreSQL
// is away for a while or the shipper is killed in the middle of its batches; /metrics shows
// the traffic. The phase logic itself is covered in auth_phases_test.cc.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <set>
#include <sstream>
#include <thread>

#include "core/crypto.h"
#include "core/sigv4.h"
#include "tests/integration/testbed.h"

namespace scanline::testing {
namespace {

constexpr char kRegion[] = "eu-west-1";

struct Reply {
  long status = 0;
  std::string code;  // problem+json code, "" when none
  std::string body;
};

// The key with its secret's first character changed: a secret that must not verify. (A
// fixed replacement letter would be the secret itself for one key in 64.)
ApiKey WithWrongSecret(const ApiKey& key) {
  return {key.id, (key.secret[0] == 'x' ? "y" : "x") + key.secret.substr(1)};
}

std::string CodeOf(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("code")) return "";
  return doc["code"].GetString();
}

std::string Quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

ServiceOptions Options() {
  ServiceOptions options;
  options.ip_rate = options.key_rate = 100000;
  options.ip_burst = options.key_burst = 100000;
  options.extra_toml = std::string("[auth]\nregion = \"") + kRegion + "\"\n";
  return options;
}

class SignedRequestsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    service_ = new Service(Options());
    key_ = new ApiKey(service_->CreateKey("ocr", "--rpm 100000 --daily 1000000"));
  }
  static void TearDownTestSuite() {
    delete key_;
    delete service_;
  }

  std::string Url(const std::string& path) { return service_->base_url() + path; }

  // curl --aws-sigv4, as a client would run it.
  Reply Curl(const std::string& method, const std::string& path, const ApiKey& key,
             const std::string& body_file = "", const std::string& content_type = "") {
    std::string out_file = service_->dir() + "/curl.out";
    std::string cmd = "curl -sk -o " + Quoted(out_file) + " -w '%{http_code}' -X " + method +
                      " --aws-sigv4 'aws:amz:" + kRegion + ":scanline' --user " +
                      Quoted(key.id + ":" + key.secret);
    if (!content_type.empty()) cmd += " -H " + Quoted("Content-Type: " + content_type);
    if (!body_file.empty()) cmd += " --data-binary @" + Quoted(body_file);
    cmd += " " + Quoted(Url(path));
    std::string output;
    Shell(cmd, &output);
    Reply reply;
    reply.status = std::atol(output.c_str());
    reply.body = ReadFile(out_file);
    reply.code = CodeOf(reply.body);
    return reply;
  }

  // The npm aws4 package through signers/sign.js; one reply per send. `env` adds
  // SIGN_TAMPER, SIGN_AMZ_DATE or SIGN_SEND_TIMES (see sign.js).
  std::vector<Reply> Aws4(const std::string& method, const std::string& path, const ApiKey& key,
                          const std::string& env = "", const std::string& body_file = "",
                          const std::string& content_type = "") {
    std::string cmd = env + " node " SCANLINE_SOURCE_DIR "/tests/integration/signers/sign.js " +
                      method + " " + Quoted(Url(path)) + " " + Quoted(key.id) + " " +
                      Quoted(key.secret) + " " + kRegion;
    if (!body_file.empty()) cmd += " " + Quoted(body_file) + " " + Quoted(content_type);
    std::string output;
    Shell(cmd, &output);
    std::vector<Reply> replies;
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
      rapidjson::Document doc;
      doc.Parse(line.c_str());
      if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("status")) {
        ADD_FAILURE() << "sign.js: " << output;
        continue;
      }
      replies.push_back({doc["status"].GetInt(), doc["code"].GetString(), doc["body"].GetString()});
    }
    if (replies.empty()) ADD_FAILURE() << "sign.js printed nothing: " << output;
    return replies;
  }

  Reply Aws4Once(const std::string& method, const std::string& path, const ApiKey& key,
                 const std::string& env = "", const std::string& body_file = "",
                 const std::string& content_type = "") {
    std::vector<Reply> r = Aws4(method, path, key, env, body_file, content_type);
    return r.empty() ? Reply{} : r.front();
  }

  std::string BodyFile(const std::string& name, const std::string& content) {
    std::string path = service_->dir() + "/" + name;
    WriteFile(path, content);
    return path;
  }

  static Service* service_;
  static ApiKey* key_;
};

Service* SignedRequestsTest::service_ = nullptr;
ApiKey* SignedRequestsTest::key_ = nullptr;

// The log rows matching `where`; -1 when they cannot be counted now. A shipper frozen by a
// test may hold the table's lock (creating a day's partition), so the count waits for it at
// most a second rather than for ever.
int Rows(Service& service, const std::string& where) {
  try {
    return std::stoi(service.postgres().Query(
        "SET lock_timeout = '1s'; SELECT count(*) FROM ocr_request_logs WHERE " + where));
  } catch (const std::exception&) {
    return -1;
  }
}

int AwaitRows(Service& service, const std::string& where, int want, int timeout_s) {
  int have = -1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    have = Rows(service, where);
    if (have >= want) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return have;
}

// A body that is not text: NUL, high bytes, CR LF.
const std::string kBinaryBody = std::string("\x89PNG\r\n\x1a\n\0\x01\xff", 12) + "body";

TEST_F(SignedRequestsTest, CurlAndTheAws4PackageAreBothAccepted) {
  std::string file = BodyFile("body.bin", kBinaryBody);
  std::string sha = LowerHex(Sha256(kBinaryBody));

  Reply r = Curl("GET", "/v1/whoami", *key_);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"key_id\":\"" + key_->id + "\""), std::string::npos) << r.body;
  r = Curl("POST", "/v1/whoami", *key_, file, "image/png");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"body_sha256\":\"" + sha + "\""), std::string::npos) << r.body;
  // curl 7.88 signs the query as written, unsorted and not re-encoded.
  r = Curl("GET", "/v1/whoami?roi=1,2,3,4&lang=eng+deu", *key_);
  EXPECT_EQ(r.status, 200) << r.body;

  r = Aws4Once("GET", "/v1/whoami?b=2&a=x%20y&a=w", *key_);
  EXPECT_EQ(r.status, 200) << r.body;
  r = Aws4Once("POST", "/v1/whoami", *key_, "", file, "image/png");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"body_sha256\":\"" + sha + "\""), std::string::npos) << r.body;

  // And the testbed's own signer (core/sigv4 client side, with x-amz-content-sha256).
  HttpResponse own = SignedHttp("POST", Url("/v1/whoami"), *key_, kBinaryBody,
                                {"Content-Type: image/png"}, kRegion);
  EXPECT_EQ(own.status, 200) << own.body;
}

TEST_F(SignedRequestsTest, EachTamperingIsRefusedWithItsCode) {
  std::string file = BodyFile("tamper.bin", kBinaryBody);
  Reply r = Aws4Once("POST", "/v1/whoami", *key_, "SIGN_TAMPER=body", file, "image/png");
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.code, "signature_mismatch");
  r = Aws4Once("GET", "/v1/whoami?lang=eng", *key_, "SIGN_TAMPER=query");
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.code, "signature_mismatch");
  r = Aws4Once("GET", "/v1/whoami", *key_, "SIGN_TAMPER=header");
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.code, "missing_signed_header");
  r = Aws4Once("GET", "/v1/whoami", *key_,
               "SIGN_AMZ_DATE=" + FormatAmzDate(std::time(nullptr) - 600));
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.code, "request_expired");

  ApiKey wrong_secret = WithWrongSecret(*key_);
  r = Aws4Once("GET", "/v1/whoami", wrong_secret);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.code, "signature_mismatch");
  r = Curl("GET", "/v1/whoami", wrong_secret);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.code, "signature_mismatch");
  EXPECT_EQ(r.body.find(key_->secret), std::string::npos);
  ApiKey unknown{"SLKNOSUCHKEY00000000", key_->secret};
  r = Curl("GET", "/v1/whoami", unknown);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.code, "unknown_key");

  // The same signed request twice: the second is a replay.
  std::vector<Reply> twice = Aws4("GET", "/v1/whoami", *key_, "SIGN_SEND_TIMES=2");
  ASSERT_EQ(twice.size(), 2u);
  EXPECT_EQ(twice[0].status, 200) << twice[0].body;
  EXPECT_EQ(twice[1].status, 401) << twice[1].body;
  EXPECT_EQ(twice[1].code, "replayed_request");

  // The debug header is off unless the operator turns it on.
  HttpResponse own = SignedHttp("GET", Url("/v1/whoami?n=1"), wrong_secret, "", {}, kRegion);
  EXPECT_EQ(own.status, 401);
  EXPECT_EQ(own.headers.count("x-scanline-canonical-request"), 0u);
  EXPECT_EQ(own.headers["www-authenticate"], "AWS4-HMAC-SHA256");
}

TEST_F(SignedRequestsTest, ASignedHealthCheckIsVerifiedAndUnsignedHealthStaysOpen) {
  HttpResponse open = Http("GET", Url("/v1/health"));
  EXPECT_NE(open.status, 401);
  Reply r = Curl("GET", "/v1/health", *key_);
  EXPECT_EQ(r.status, open.status) << r.body;
  r = Aws4Once("GET", "/v1/health?x=1", *key_, "SIGN_TAMPER=query");
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.code, "signature_mismatch");
  std::vector<Reply> twice = Aws4("GET", "/v1/health", *key_, "SIGN_SEND_TIMES=2");
  ASSERT_EQ(twice.size(), 2u);
  EXPECT_EQ(twice[1].code, "replayed_request");
}

TEST_F(SignedRequestsTest, RecognitionEndpointsNeedASignatureAndTheirScope) {
  const std::string photo = SCANLINE_SOURCE_DIR "/../shared/data/receipts/img/019.jpg";
  HttpResponse unsigned_ocr =
      Http("POST", Url("/v1/ocr"), ReadFile(photo), {"Content-Type: image/jpeg"});
  EXPECT_EQ(unsigned_ocr.status, 401);
  EXPECT_EQ(CodeOf(unsigned_ocr.body), "missing_authorization");

  ApiKey plates_only = service_->CreateKey("lpr");
  HttpResponse wrong_scope = SignedHttp("POST", Url("/v1/ocr"), plates_only, ReadFile(photo),
                                        {"Content-Type: image/jpeg"}, kRegion);
  EXPECT_EQ(wrong_scope.status, 403);
  EXPECT_EQ(CodeOf(wrong_scope.body), "missing_scope");

  // A real recognition request, signed by curl and by aws4.
  Reply r = Curl("POST", "/v1/ocr?lang=eng", *key_, photo, "image/jpeg");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"text\""), std::string::npos) << r.body;
  r = Aws4Once("POST", "/v1/ocr?lang=eng&level=lines", *key_, "", photo, "image/jpeg");
  EXPECT_EQ(r.status, 200) << r.body;
  std::string k = "client_key_id = '" + key_->id + "' AND endpoint = '/v1/ocr'";
  EXPECT_EQ(AwaitRows(*service_, k + " AND status = 200 AND confidence > 0", 2, 20), 2);
  EXPECT_EQ(AwaitRows(*service_,
                      "client_key_id = '" + plates_only.id +
                          "' AND status = 403 AND error_code = 'missing_scope'",
                      1, 20),
            1);
}

TEST_F(SignedRequestsTest, ARevokedKeyStopsWorkingWithinFiveSeconds) {
  ApiKey key = service_->CreateKey("ocr");
  // Warm every worker's key cache.
  for (int i = 0; i < 6; ++i) {
    HttpResponse r =
        SignedHttp("GET", Url("/v1/whoami?warm=" + std::to_string(i)), key, "", {}, kRegion);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  std::string out;
  ASSERT_EQ(Shell(service_->CliCommand() + " keys revoke " + key.id, &out), 0) << out;
  auto revoked_at = std::chrono::steady_clock::now();
  // Each worker may serve the key until its cached lookup expires (auth.key_cache_ms, 2 s by
  // default); after that only 401 revoked_key, from every worker.
  int n = 0;
  double last_ok_s = 0;
  int refused = 0;
  while (std::chrono::steady_clock::now() - revoked_at < std::chrono::seconds(7)) {
    HttpResponse r =
        SignedHttp("GET", Url("/v1/whoami?n=" + std::to_string(++n)), key, "", {}, kRegion);
    double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - revoked_at).count();
    if (r.status == 200) {
      last_ok_s = t;
    } else {
      EXPECT_EQ(r.status, 401);
      EXPECT_EQ(CodeOf(r.body), "revoked_key");
      ++refused;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_LT(last_ok_s, 5.0);
  EXPECT_GT(refused, 20);
  Reply r = Curl("GET", "/v1/whoami", key);
  EXPECT_EQ(r.code, "revoked_key");
}

// The value of the first sample line starting with `prefix` (name and labels), or -1.
double Sample(const std::string& metrics, const std::string& prefix) {
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix + " ", 0) == 0) return std::stod(line.substr(prefix.size() + 1));
  }
  return -1;
}

TEST_F(SignedRequestsTest, MetricsCountSignedTrafficAndAuthFailuresByCode) {
  auto read = [&] { return Http("GET", Url("/metrics")).body; };
  const std::string ok = "scanline_requests_total{endpoint=\"/v1/whoami\",status=\"200\"}";
  const std::string mismatch = "scanline_auth_failures_total{code=\"signature_mismatch\"}";
  const std::string expired = "scanline_auth_failures_total{code=\"request_expired\"}";
  const std::string auth_stage = "scanline_stage_duration_seconds_count{stage=\"auth\"}";
  const std::string latency = "scanline_request_duration_seconds_count{endpoint=\"/v1/whoami\"}";
  std::string before = read();
  auto value = [](const std::string& text, const std::string& prefix) {
    double v = Sample(text, prefix);
    return v < 0 ? 0 : v;
  };

  for (int i = 0; i < 7; ++i) {
    HttpResponse r =
        SignedHttp("GET", Url("/v1/whoami?m=" + std::to_string(i)), *key_, "", {}, kRegion);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  ApiKey wrong = WithWrongSecret(*key_);
  for (int i = 0; i < 3; ++i) {
    SignedHttp("GET", Url("/v1/whoami?w=" + std::to_string(i)), wrong, "", {}, kRegion);
  }
  SignedHttp("GET", Url("/v1/whoami"), *key_, "", {}, kRegion, 30000, std::time(nullptr) - 3600);
  std::string after = read();

  EXPECT_EQ(value(after, ok) - value(before, ok), 7) << after;
  EXPECT_EQ(value(after, mismatch) - value(before, mismatch), 3) << after;
  EXPECT_EQ(value(after, expired) - value(before, expired), 1) << after;
  EXPECT_EQ(value(after, auth_stage) - value(before, auth_stage), 11) << after;  // refused too
  EXPECT_EQ(value(after, latency) - value(before, latency), 11) << after;
  EXPECT_GE(Sample(after, "scanline_requests_total{endpoint=\"/v1/whoami\",status=\"401\"}"), 4);
  EXPECT_GT(Sample(after, "scanline_cache_lookups_total{cache=\"api_key\",result=\"hit\"}"), 0);
  EXPECT_GE(Sample(after, "scanline_log_spool_bytes"), 0);
  EXPECT_GE(Sample(after, "scanline_pool_worker_restarts_total"), 0);
  EXPECT_NE(after.find("# TYPE scanline_recognition_confidence histogram"), std::string::npos);
}

TEST_F(SignedRequestsTest, EachRowNamesTheKeyAndTheOutcome) {
  ApiKey key = service_->CreateKey("ocr");
  HttpResponse ok = SignedHttp("GET", Url("/v1/whoami?row=1"), key, "", {}, kRegion);
  ApiKey wrong = WithWrongSecret(key);
  HttpResponse refused = SignedHttp("GET", Url("/v1/whoami?row=2"), wrong, "", {}, kRegion);
  ASSERT_EQ(ok.status, 200);
  ASSERT_EQ(refused.status, 401);
  std::string k = "client_key_id = '" + key.id + "'";
  ASSERT_EQ(AwaitRows(*service_, k, 2, 20), 2);
  EXPECT_EQ(Rows(*service_, k + " AND request_id = '" + ok.headers["x-request-id"] +
                                "' AND status = 200 AND error_code IS NULL AND "
                                "endpoint = '/v1/whoami' AND stage_timings ? 'auth'"),
            1)
      << service_->postgres().Query("SELECT * FROM ocr_request_logs WHERE " + k);
  EXPECT_EQ(Rows(*service_, k + " AND request_id = '" + refused.headers["x-request-id"] +
                                "' AND status = 401 AND error_code = 'signature_mismatch'"),
            1);
  // Never a secret.
  EXPECT_EQ(service_->postgres().Query("SELECT count(*) FROM ocr_request_logs WHERE "
                                       "row_to_json(ocr_request_logs)::text LIKE '%" +
                                       key.secret.substr(0, 12) + "%'"),
            "0");
}

TEST_F(SignedRequestsTest, FiveHundredSignedRequestsWithPostgresAwayLeaveFiveHundredRows) {
  ApiKey key = service_->CreateKey("ocr");
  std::set<std::string> ids;
  int served = 0;
  auto send = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      HttpResponse r =
          SignedHttp("GET", Url("/v1/whoami?i=" + std::to_string(i)), key, "", {}, kRegion);
      ASSERT_TRUE(r.status == 200 || r.status == 503) << r.status << r.body;
      served += r.status == 200;
      ids.insert(r.headers["x-request-id"]);
    }
  };
  send(0, 150);
  service_->postgres().Stop();
  send(150, 350);
  service_->postgres().Start();
  send(350, 500);
  ASSERT_EQ(ids.size(), 500u);
  std::string k = "client_key_id = '" + key.id + "'";
  EXPECT_EQ(AwaitRows(*service_, k, 500, 30), 500);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(Rows(*service_, k), 500);
  EXPECT_EQ(service_->postgres().Query(
                "SELECT count(DISTINCT request_id) FROM ocr_request_logs WHERE " + k),
            "500");
  // What each client saw is what its row says.
  EXPECT_EQ(Rows(*service_, k + " AND status = 200"), served);
  // The rest were 503: sent to a worker that had not looked the key up before PostgreSQL
  // stopped (auth.key_grace_s).
  std::printf("signed requests served: %d of 500, PostgreSQL stopped for 200 of them\n", served);
}

TEST(SignedRequestLogTest, KillingTheShipperMidBatchLeavesEachSignedRequestOnce) {
  setenv("SCANLINE_LOG_BATCH_ROWS", "20", 1);
  Service service(Options());
  unsetenv("SCANLINE_LOG_BATCH_ROWS");
  ApiKey key = service.CreateKey("ocr");
  // Hold the shipper still so the spool fills with signed requests that are all served.
  int held = 0;
  for (int i = 0; i < 100 && held == 0; ++i) {
    held = service.ShipperPid();
    if (held == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GT(held, 0) << Http("GET", service.base_url() + "/status").body << service.PoolLog();
  ASSERT_EQ(kill(held, SIGSTOP), 0);
  constexpr int kRows = 600;
  for (int i = 0; i < kRows; ++i) {
    HttpResponse r = SignedHttp("POST", service.base_url() + "/v1/whoami?i=" + std::to_string(i),
                                key, "body " + std::to_string(i), {}, kRegion);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  std::string k = "client_key_id = '" + key.id + "'";
  // Let each shipper run a few milliseconds, freeze it, and kill it if rows are still on
  // their way: a kill that certainly strikes mid-drain, whatever the machine's speed. The
  // held shipper is the first: it runs its few milliseconds here, not before the loop (left
  // to run meanwhile, a busy machine's scheduler could let it drain everything first).
  int kills = 0;
  int last_pid = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline && Rows(service, k) < kRows) {
    int pid = service.ShipperPid();
    if (pid > 0 && pid != last_pid) {
      last_pid = pid;
      kill(pid, SIGSTOP);
      kill(pid, SIGCONT);
      std::this_thread::sleep_for(std::chrono::milliseconds(2 + 3 * (kills % 4)));
      kill(pid, SIGSTOP);
      // -1 (the frozen shipper holds the table's lock) is mid-drain too.
      if (Rows(service, k) < kRows && kill(pid, SIGKILL) == 0) {
        ++kills;
      } else {
        kill(pid, SIGCONT);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(kills, 1);
  EXPECT_EQ(AwaitRows(service, k, kRows, 30), kRows);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(Rows(service, k), kRows);
  EXPECT_EQ(service.postgres().Query(
                "SELECT count(*) - count(DISTINCT request_id) FROM ocr_request_logs"),
            "0");
}

}  // namespace
}  // namespace scanline::testing
