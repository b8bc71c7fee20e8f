// Request phases without a server: routing, 404/405, local-only pages, error rendering.
#include "fcgi/dispatch.h"

#include <gtest/gtest.h>

#include <ctime>

#include "core/metrics.h"
#include "core/sigv4.h"

namespace scanline {
namespace {

struct Fixture {
  Config config;
  Services services;
  RequestLogRecord log;
  RequestContext context{services, {}, log};
  Fixture() { services.config = &config; }
};

Router TestRouter() {
  return Router({
      {"GET", "/v1/thing",
       [](const Request&, RequestContext&) {
         Response r;
         r.body = "{}";
         return r;
       },
       "", false},
      {"POST", "/v1/thing",
       [](const Request&, RequestContext&) -> Response { throw InvalidOption("psm", "bad"); }, "",
       false},
      {"GET", "/v1/boom",
       [](const Request&, RequestContext&) -> Response {
         throw std::runtime_error("secret detail");
       },
       "", false},
      {"GET", "/status", [](const Request&, RequestContext&) { return Response{}; }, "", true},
      {"POST", "/v1/scoped", [](const Request&, RequestContext&) { return Response{}; }, "ocr",
       false},
      {"GET", "/v1/anykey", [](const Request&, RequestContext&) { return Response{}; },
       std::string(kAnyScope), false},
      {"GET", "/v1/templates*",
       [](const Request& r, RequestContext&) {
         Response out;
         out.body = r.path;
         return out;
       },
       "", false},
  });
}

Request Make(std::string method, std::string path, std::string peer = "127.0.0.1") {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.peer = std::move(peer);
  r.request_id = "rid";
  return r;
}

TEST(DispatchTest, RoutesByMethodAndPath) {
  Fixture f;
  Response r = Dispatch(TestRouter(), Make("GET", "/v1/thing"), f.context);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(f.log.endpoint, "/v1/thing");
  EXPECT_EQ(f.log.status, 200);
}

TEST(DispatchTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  Fixture f;
  Response r = Dispatch(TestRouter(), Make("GET", "/v1/nope"), f.context);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(f.log.error_code, "not_found");
  Fixture g;
  r = Dispatch(TestRouter(), Make("DELETE", "/v1/thing"), g.context);
  EXPECT_EQ(r.status, 405);
  bool has_allow = false;
  for (auto& [n, v] : r.headers) has_allow |= (n == "Allow" && v == "GET, POST");
  EXPECT_TRUE(has_allow);
}

TEST(DispatchTest, HandlerErrorsBecomeProblems) {
  Fixture f;
  Response r = Dispatch(TestRouter(), Make("POST", "/v1/thing"), f.context);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(f.log.error_code, "invalid_option");
  Fixture g;
  r = Dispatch(TestRouter(), Make("GET", "/v1/boom"), g.context);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
}

TEST(DispatchTest, LocalOnlyRoutesRefuseRemotePeers) {
  Fixture f;
  EXPECT_EQ(Dispatch(TestRouter(), Make("GET", "/status", "203.0.113.9"), f.context).status, 403);
  EXPECT_EQ(Dispatch(TestRouter(), Make("GET", "/status", "::1"), f.context).status, 200);
  EXPECT_EQ(Dispatch(TestRouter(), Make("GET", "/status", ""), f.context).status, 200);
}

TEST(DispatchTest, PrefixRoutesMatchSubpaths) {
  Fixture f;
  Response r = Dispatch(TestRouter(), Make("GET", "/v1/templates/receipt/versions"), f.context);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "/v1/templates/receipt/versions");
  EXPECT_EQ(f.log.endpoint, "/v1/templates");
}

TEST(DispatchTest, EveryResponseCarriesTheRequestId) {
  Fixture f;
  Response r = Dispatch(TestRouter(), Make("GET", "/v1/nope"), f.context);
  bool found = false;
  for (auto& [n, v] : r.headers) found |= (n == "X-Request-Id" && v == "rid");
  EXPECT_TRUE(found);
}

std::string HeaderOf(const Response& r, std::string_view name) {
  for (auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

// The auth phases without key or replay stores: everything decided before the key lookup.
// (Lookup, replay, scope and quota run against real PostgreSQL and Redis in
// tests/integration/signed_requests_test.cc.)
TEST(DispatchAuthTest, UnsignedRequestsToScopedRoutesAreRefusedAndCounted) {
  MetricsBlock block{};
  SetProcessMetrics(&block);
  Fixture f;
  Response r = Dispatch(TestRouter(), Make("POST", "/v1/scoped"), f.context);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(f.log.error_code, "missing_authorization");
  EXPECT_EQ(HeaderOf(r, "WWW-Authenticate"), "AWS4-HMAC-SHA256");
  EXPECT_EQ(block.auth_failures[static_cast<int>(ErrorCode::kMissingAuthorization)].load(), 1u);
  // A 404 is no auth failure.
  Fixture g;
  Dispatch(TestRouter(), Make("GET", "/v1/nope"), g.context);
  uint64_t total = 0;
  for (auto& n : block.auth_failures) total += n.load();
  EXPECT_EQ(total, 1u);
  SetProcessMetrics(nullptr);
}

TEST(DispatchAuthTest, AuthNotRequiredServesUnsignedScopedRoutesButNotAnyKeyRoutes) {
  Fixture f;
  f.config.auth.required = false;
  EXPECT_EQ(Dispatch(TestRouter(), Make("POST", "/v1/scoped"), f.context).status, 200);
  Fixture g;
  g.config.auth.required = false;
  EXPECT_EQ(Dispatch(TestRouter(), Make("GET", "/v1/anykey"), g.context).status, 401);
}

TEST(DispatchAuthTest, ASignatureSentToAnOpenRouteIsCheckedToo) {
  Fixture f;
  Request request = Make("GET", "/v1/thing");
  request.headers = {{"host", "localhost:8443"}};
  SigV4Params params;
  SignRequest(request, "SLKTEST", "secret", std::time(nullptr) - 3600, params);
  Response r = Dispatch(TestRouter(), request, f.context);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(f.log.error_code, "request_expired");
  EXPECT_EQ(f.log.client_key_id, "SLKTEST");
  // Unsigned, the same route is open.
  Fixture g;
  EXPECT_EQ(Dispatch(TestRouter(), Make("GET", "/v1/thing"), g.context).status, 200);
}

TEST(DispatchAuthTest, WithoutAKeyStoreAWellFormedSignatureGets503NotAPass) {
  Fixture f;
  Request request = Make("POST", "/v1/scoped");
  request.headers = {{"host", "localhost:8443"}};
  SignRequest(request, "SLKTEST", "secret", std::time(nullptr), SigV4Params{});
  Response r = Dispatch(TestRouter(), request, f.context);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(f.log.error_code, "service_unavailable");
}

TEST(DispatchAuthTest, TheRegionAndServiceComeFromTheConfig) {
  Fixture f;
  f.config.auth.region = "eu-west-1";
  Request request = Make("POST", "/v1/scoped");
  request.headers = {{"host", "localhost:8443"}};
  SignRequest(request, "SLKTEST", "secret", std::time(nullptr), SigV4Params{});  // us-east-1
  EXPECT_EQ(Dispatch(TestRouter(), request, f.context).status, 401);
  EXPECT_EQ(f.log.error_code, "credential_scope_mismatch");
}

TEST(DispatchAuthTest, EscapesCanonicalRequestsForOneHeaderLine) {
  EXPECT_EQ(EscapeForHeader("GET\n/\nx\\y\x01\xff"), "GET\\n/\\nx\\\\y\\x01\\xFF");
}

}  // namespace
}  // namespace scanline
