// Request phases without a server: routing, 404/405, local-only pages, error rendering.
#include "fcgi/dispatch.h"

#include <gtest/gtest.h>

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
      {"GET", "/v1/thing", [](const Request&, RequestContext&) {
         Response r;
         r.body = "{}";
         return r;
       }, "", false},
      {"POST", "/v1/thing", [](const Request&, RequestContext&) -> Response {
         throw InvalidOption("psm", "bad");
       }, "", false},
      {"GET", "/v1/boom", [](const Request&, RequestContext&) -> Response {
         throw std::runtime_error("secret detail");
       }, "", false},
      {"GET", "/status", [](const Request&, RequestContext&) { return Response{}; }, "", true},
      {"GET", "/v1/templates*", [](const Request& r, RequestContext&) {
         Response out;
         out.body = r.path;
         return out;
       }, "", false},
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
  EXPECT_EQ(Dispatch(TestRouter(), Make("GET", "/status", "203.0.113.9"), f.context).status,
            403);
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

}  // namespace
}  // namespace scanline
