// The phases before a handler (fcgi/dispatch.h) with the real stores a worker has: keys in
// PostgreSQL, signatures and quota counters in Redis. A route table of its own, so the scope
// and quota phases are covered whatever endpoints exist. What nginx adds (TLS, the host with
// its port, third-party signers) is in signed_requests_test.cc.
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <ctime>

#include "core/api_keys.h"
#include "core/crypto.h"
#include "core/database.h"
#include "core/metrics.h"
#include "core/migrations.h"
#include "core/redis.h"
#include "core/replay.h"
#include "core/sigv4.h"
#include "fcgi/dispatch.h"
#include "handlers/whoami.h"
#include "tests/integration/testbed.h"

namespace scanline::testing {
namespace {

Response Ok(const Request&, RequestContext&) { return Response{}; }

Router TestRouter() {
  return Router({
      {"GET", "/v1/open", Ok, "", false},
      {"POST", "/v1/ocr", Ok, "ocr", false},
      {"POST", "/v1/forms/extract", Ok, "forms", false},
      {"GET", "/v1/whoami", HandleWhoami, std::string(kAnyScope), false},
  });
}

std::string HeaderOf(const Response& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

uint64_t AuthFailures(const MetricsBlock& block, ErrorCode code) {
  return block.auth_failures[static_cast<int>(code)].load();
}

class AuthPhasesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::signal(SIGPIPE, SIG_IGN);
    dir_ = new TempDir();
    postgres_ = new Postgres(dir_->path());
    redis_ = new Redis(dir_->path());
    Database database(postgres_->conninfo(), 3);
    ApplyMigrations(database, ReadMigrations(SCANLINE_SOURCE_DIR "/core/sql"));
  }
  static void TearDownTestSuite() {
    delete redis_;
    delete postgres_;
    delete dir_;
  }

  void SetUp() override {
    config_.auth.region = "eu-west-1";
    database_ = std::make_unique<Database>(postgres_->conninfo(), 3);
    redis_client_ = std::make_unique<RedisClient>(redis_->address(), 300,
                                                  "t" + std::to_string(++prefix_) + ":");
    keys_ = std::make_unique<ApiKeyStore>(*database_, master_key_, 200, 0);
    replay_ = std::make_unique<ReplayGuard>(*redis_client_, *database_, 600);
    services_.config = &config_;
    services_.database = database_.get();
    services_.redis = redis_client_.get();
    services_.api_keys = keys_.get();
    services_.replay = replay_.get();
    block_ = std::make_unique<MetricsBlock>();
    SetProcessMetrics(block_.get());
  }
  void TearDown() override { SetProcessMetrics(nullptr); }

  // A request signed now (or at `at`) by `key` for this service's region.
  Request Signed(const std::string& method, const std::string& path, const IssuedKey& key,
                 std::string body = "", int64_t at = 0) {
    Request request;
    request.method = method;
    request.path = path;
    request.request_id = "rid-" + std::to_string(++requests_);
    request.peer = "203.0.113.7";
    request.headers = {{"host", "api.example:8443"}};
    if (!body.empty()) request.headers.emplace_back("content-type", "image/png");
    request.body = std::move(body);
    SigV4Params params;
    params.region = "eu-west-1";
    // A distinct query per request: two identical requests signed in the same second carry
    // the same signature, and the second would be a replay.
    request.query = "n=" + std::to_string(requests_);
    SignRequest(request, key.key_id, key.secret, at ? at : std::time(nullptr), params);
    return request;
  }

  struct Outcome {
    Response response;
    RequestLogRecord log;
    Caller caller;
  };
  Outcome Send(const Request& request) {
    Outcome out;
    RequestContext context{services_, {}, out.log};
    out.response = Dispatch(TestRouter(), request, context);
    out.caller = context.caller;
    return out;
  }

  static TempDir* dir_;
  static Postgres* postgres_;
  static Redis* redis_;
  static int prefix_;
  int requests_ = 0;
  Config config_;
  MasterKey master_key_{RandomBytes(kMasterKeyBytes)};
  std::unique_ptr<Database> database_;
  std::unique_ptr<RedisClient> redis_client_;
  std::unique_ptr<ApiKeyStore> keys_;
  std::unique_ptr<ReplayGuard> replay_;
  std::unique_ptr<MetricsBlock> block_;
  Services services_;
};

TempDir* AuthPhasesTest::dir_ = nullptr;
Postgres* AuthPhasesTest::postgres_ = nullptr;
Redis* AuthPhasesTest::redis_ = nullptr;
int AuthPhasesTest::prefix_ = 0;

TEST_F(AuthPhasesTest, ASignedCallerWithTheScopeReachesTheHandlerAndIsLogged) {
  IssuedKey key = keys_->Create({"reader", {"ocr"}, 0, 0});
  Outcome out = Send(Signed("POST", "/v1/ocr", key, "png bytes"));
  EXPECT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(out.log.client_key_id, key.key_id);
  EXPECT_EQ(out.log.error_code, "");
  EXPECT_EQ(out.caller.key_id, key.key_id);
  EXPECT_EQ(out.caller.scopes, std::vector<std::string>{"ocr"});
  ASSERT_FALSE(out.log.stages.empty());
  EXPECT_EQ(out.log.stages.back().stage, "auth");
  EXPECT_GT(out.log.stages.back().ms, 0);
}

TEST_F(AuthPhasesTest, AKeyWithoutTheRouteScopeGets403AndTheKeyIdIsLogged) {
  IssuedKey key = keys_->Create({"reader", {"ocr"}, 0, 0});
  Outcome out = Send(Signed("POST", "/v1/forms/extract", key, "png bytes"));
  EXPECT_EQ(out.response.status, 403);
  EXPECT_EQ(out.log.error_code, "missing_scope");
  EXPECT_EQ(out.log.client_key_id, key.key_id);
  EXPECT_NE(out.response.body.find("forms"), std::string::npos);
  EXPECT_EQ(AuthFailures(*block_, ErrorCode::kMissingScope), 1u);
  // The time the checks took is kept for refused requests too.
  ASSERT_EQ(out.log.stages.size(), 1u);
  EXPECT_EQ(out.log.stages[0].stage, "auth");
}

TEST_F(AuthPhasesTest, ASignatureIsAcceptedOnce) {
  IssuedKey key = keys_->Create({"reader", {"ocr"}, 0, 0});
  Request request = Signed("POST", "/v1/ocr", key, "png bytes");
  EXPECT_EQ(Send(request).response.status, 200);
  Outcome again = Send(request);
  EXPECT_EQ(again.response.status, 401);
  EXPECT_EQ(again.log.error_code, "replayed_request");
  EXPECT_EQ(HeaderOf(again.response, "WWW-Authenticate"), "AWS4-HMAC-SHA256");
  EXPECT_EQ(AuthFailures(*block_, ErrorCode::kReplayedRequest), 1u);
}

TEST_F(AuthPhasesTest, WithNeitherRedisNorPostgresASignatureGets503NeverAPass) {
  IssuedKey key = keys_->Create({"reader", {"ocr"}, 0, 0});
  EXPECT_EQ(Send(Signed("POST", "/v1/ocr", key, "x")).response.status, 200);  // key cached
  redis_->Stop();
  postgres_->Stop();
  Outcome out = Send(Signed("POST", "/v1/ocr", key, "x"));
  postgres_->Start();
  redis_->Start();
  EXPECT_EQ(out.response.status, 503);
  EXPECT_EQ(out.log.error_code, "service_unavailable");
  EXPECT_EQ(out.log.client_key_id, key.key_id);
  EXPECT_EQ(AuthFailures(*block_, ErrorCode::kServiceUnavailable), 1u);
}

TEST_F(AuthPhasesTest, PastThePerMinuteLimitIs429WithRetryAfter) {
  IssuedKey key = keys_->Create({"reader", {"ocr"}, 2, 0});
  int64_t now = std::time(nullptr);
  if (now % 60 > 55) {  // keep the three requests inside one minute
    sleep(static_cast<unsigned>(61 - now % 60));
  }
  EXPECT_EQ(Send(Signed("POST", "/v1/ocr", key, "x")).response.status, 200);
  EXPECT_EQ(Send(Signed("POST", "/v1/ocr", key, "x")).response.status, 200);
  Outcome out = Send(Signed("POST", "/v1/ocr", key, "x"));
  EXPECT_EQ(out.response.status, 429);
  EXPECT_EQ(out.log.error_code, "rate_limited");
  int retry = std::stoi(HeaderOf(out.response, "Retry-After"));
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 60);
  EXPECT_EQ(AuthFailures(*block_, ErrorCode::kRateLimited), 1u);
}

TEST_F(AuthPhasesTest, PastTheDailyQuotaIs429QuotaExceeded) {
  IssuedKey key = keys_->Create({"reader", {"ocr"}, 0, 1});
  EXPECT_EQ(Send(Signed("POST", "/v1/ocr", key, "x")).response.status, 200);
  Outcome out = Send(Signed("POST", "/v1/ocr", key, "x"));
  EXPECT_EQ(out.response.status, 429);
  EXPECT_EQ(out.log.error_code, "quota_exceeded");
  int64_t now = std::time(nullptr);
  int retry = std::stoi(HeaderOf(out.response, "Retry-After"));
  EXPECT_NEAR(retry, 86400 - now % 86400, 2);
}

TEST_F(AuthPhasesTest, WhoamiTellsTheKeyAndTheQuotaLeft) {
  IssuedKey key = keys_->Create({"billing app", {"ocr", "forms"}, 10, 100});
  Send(Signed("GET", "/v1/whoami", key));
  Outcome out = Send(Signed("GET", "/v1/whoami", key));
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  const std::string& body = out.response.body;
  EXPECT_NE(body.find("\"key_id\":\"" + key.key_id + "\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"name\":\"billing app\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"scopes\":[\"ocr\",\"forms\"]"), std::string::npos) << body;
  EXPECT_NE(body.find("\"per_day\":{\"limit\":100,\"used\":2,\"remaining\":98}"), std::string::npos)
      << body;
  // Scope-free, but never unsigned, even with auth.required off.
  config_.auth.required = false;
  Request unsigned_request;
  unsigned_request.method = "GET";
  unsigned_request.path = "/v1/whoami";
  EXPECT_EQ(Send(unsigned_request).response.status, 401);
  // The same switch leaves scoped routes open to unsigned requests (local experiments)...
  Request open_ocr = unsigned_request;
  open_ocr.method = "POST";
  open_ocr.path = "/v1/ocr";
  EXPECT_EQ(Send(open_ocr).response.status, 200);
  // ...but a signature that is sent is still checked.
  Request wrong = Signed("POST", "/v1/ocr", key, "x");
  wrong.body = "y";
  EXPECT_EQ(Send(wrong).response.status, 401);
}

TEST_F(AuthPhasesTest, RevokedAndUnknownKeysAreRefusedWithTheirCodes) {
  IssuedKey key = keys_->Create({"reader", {"ocr"}, 0, 0});
  EXPECT_EQ(Send(Signed("POST", "/v1/ocr", key, "x")).response.status, 200);
  ASSERT_TRUE(keys_->Revoke(key.key_id));
  Outcome revoked = Send(Signed("POST", "/v1/ocr", key, "x"));
  EXPECT_EQ(revoked.response.status, 401);
  EXPECT_EQ(revoked.log.error_code, "revoked_key");
  IssuedKey made_up{"SLKNOSUCHKEY000000000", key.secret};
  Outcome unknown = Send(Signed("POST", "/v1/ocr", made_up, "x"));
  EXPECT_EQ(unknown.log.error_code, "unknown_key");
  EXPECT_EQ(unknown.log.client_key_id, made_up.key_id);
}

TEST_F(AuthPhasesTest, TheCanonicalRequestIsSentBackOnlyWhenTheOperatorAsks) {
  IssuedKey key = keys_->Create({"reader", {"ocr"}, 0, 0});
  IssuedKey wrong_secret{key.key_id, "not-the-secret-not-the-secret-not-the-se"};
  Outcome quiet = Send(Signed("POST", "/v1/ocr", wrong_secret, "x"));
  EXPECT_EQ(quiet.log.error_code, "signature_mismatch");
  EXPECT_EQ(HeaderOf(quiet.response, "X-Scanline-Canonical-Request"), "");
  config_.auth.debug_signature_header = true;
  Outcome debug = Send(Signed("POST", "/v1/ocr", wrong_secret, "x"));
  EXPECT_EQ(debug.log.error_code, "signature_mismatch");
  std::string canonical = HeaderOf(debug.response, "X-Scanline-Canonical-Request");
  EXPECT_EQ(canonical.rfind("POST\\n/v1/ocr\\nn=", 0), 0u) << canonical;
  EXPECT_NE(canonical.find("host:api.example:8443\\n"), std::string::npos) << canonical;
  // Never the secret, in any header or the body.
  for (const auto& [n, v] : debug.response.headers) {
    EXPECT_EQ(v.find(key.secret), std::string::npos) << n;
  }
  EXPECT_EQ(debug.response.body.find(key.secret), std::string::npos);
  EXPECT_EQ(AuthFailures(*block_, ErrorCode::kSignatureMismatch), 2u);
}

}  // namespace
}  // namespace scanline::testing
