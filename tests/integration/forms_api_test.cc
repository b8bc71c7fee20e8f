// POST /v1/forms/extract, /v1/forms/fill and /v1/templates through nginx and the pool, signed:
// a labelled receipt of ../shared/data/receipts read with the built-in template the pool
// loaded at start, a new template version activated and rolled back through the admin API
// and seen by the next extraction, the version used in the request log, scopes enforced, and
// bad input answered with problems.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <thread>

#include "core/template.h"
#include "core/template_eval.h"
#include "tests/integration/testbed.h"

namespace scanline::testing {
namespace {

const std::string kData = SCANLINE_SOURCE_DIR "/../shared/data/receipts";

rapidjson::Document Json(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  return doc;
}

void ExpectProblem(const HttpResponse& r, long status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  rapidjson::Document doc = Json(r.body);
  ASSERT_TRUE(doc.IsObject()) << r.body;
  ASSERT_TRUE(doc.HasMember("code")) << r.body;
  EXPECT_STREQ(doc["code"].GetString(), code.c_str()) << r.body;
}

class FormsApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ServiceOptions options;
    options.workers = 2;
    service_ = new Service(options);
    forms_ = new ApiKey(service_->CreateKey("forms"));
    admin_ = new ApiKey(service_->CreateKey("templates:admin"));
    receipt_ = new std::string(ReadFile(kData + "/img/006.jpg"));
  }
  static void TearDownTestSuite() {
    delete receipt_;
    delete admin_;
    delete forms_;
    delete service_;
  }
  static std::string Url(const std::string& path) { return service_->base_url() + path; }
  // Every request gets a distinct signed header (x-amz-*, so that it is signed; ignored by the
  // service): two identical requests signed in the same second would carry the same
  // signature, and the second would be a replay.
  static HttpResponse SignedHttp(const std::string& method, const std::string& url,
                                 const ApiKey& key, const std::string& body = "",
                                 std::vector<std::string> headers = {}) {
    static int n = 0;
    headers.push_back("X-Amz-Meta-Test-Request: " + std::to_string(++n));
    return scanline::testing::SignedHttp(method, url, key, body, headers);
  }
  static HttpResponse Extract(const std::string& query) {
    return SignedHttp("POST", Url("/v1/forms/extract?" + query), *forms_, *receipt_,
                      {"Content-Type: image/jpeg"});
  }
  // The template version an extraction used; -1 (and a failure naming the answer) when the
  // request failed.
  static int VersionUsed(const std::string& query) {
    const HttpResponse r = Extract(query);
    EXPECT_EQ(r.status, 200) << r.body << r.error;
    rapidjson::Document doc = Json(r.body);
    if (r.status != 200 || !doc.IsObject() || !doc.HasMember("template_version")) return -1;
    return doc["template_version"].GetInt();
  }

  static Service* service_;
  static ApiKey* forms_;
  static ApiKey* admin_;
  static std::string* receipt_;
};

Service* FormsApiTest::service_ = nullptr;
ApiKey* FormsApiTest::forms_ = nullptr;
ApiKey* FormsApiTest::admin_ = nullptr;
std::string* FormsApiTest::receipt_ = nullptr;

TEST_F(FormsApiTest, ExtractsALabelledReceiptWithTheBuiltInTemplate) {
  const HttpResponse r = Extract("document_type=receipt");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document doc = Json(r.body);
  ASSERT_TRUE(doc.IsObject()) << r.body;
  EXPECT_STREQ(doc["document_type"].GetString(), "receipt");
  EXPECT_EQ(doc["template_version"].GetInt(), 1);
  EXPECT_EQ(r.headers.at("x-template-version"), "1");
  const auto labels = ReadFieldLabels(kData + "/key/006.json");
  const auto& fields = doc["fields"];
  for (const char* name : {"date", "total", "company"}) {
    ASSERT_TRUE(fields[name]["found"].GetBool()) << name << " " << r.body;
    EXPECT_TRUE(SameFieldValue(fields[name]["value"].GetString(), labels.at(name)))
        << name << ": " << fields[name]["value"].GetString();
    EXPECT_STREQ(fields[name]["engine"].GetString(), "rules");
  }
  EXPECT_STREQ(fields["date"]["normalised"].GetString(), "2019-01-11");
  EXPECT_STREQ(fields["total"]["currency"].GetString(), "MYR");
  EXPECT_TRUE(fields["total"]["valid"].GetBool());
  EXPECT_GT(fields["total"]["box"]["w"].GetInt(), 0);
  EXPECT_EQ(doc["missing_required"].Size(), 0u);
  // The address comes out right through the second reading of its lines, which the service
  // runs for the template's rules.reread fields (the page's OCR reads "PUTRA." for "PUTRA,").
  EXPECT_TRUE(doc["timings_ms"].HasMember("reread")) << r.body;
  ASSERT_TRUE(fields["address"]["found"].GetBool()) << r.body;
  EXPECT_TRUE(SameFieldValue(fields["address"]["value"].GetString(), labels.at("address")))
      << fields["address"]["value"].GetString();
}

TEST_F(FormsApiTest, ServesANewVersionAfterActivationAndTheOldOneAfterRollback) {
  // Version 2: the same receipt template, with its total field made optional.
  HttpResponse active = SignedHttp("GET", Url("/v1/templates/receipt/active"), *admin_);
  ASSERT_EQ(active.status, 200) << active.body;
  Template t = ParseTemplate(active.body);
  t.description = "version two";
  HttpResponse created = SignedHttp("POST", Url("/v1/templates/receipt/versions"), *admin_,
                                    TemplateToJson(t), {"Content-Type: application/json"});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Json(created.body)["version"].GetInt(), 2);
  EXPECT_EQ(VersionUsed("document_type=receipt"), 1);
  EXPECT_EQ(
      Json(Extract("document_type=receipt&template_version=2").body)["template_version"].GetInt(),
      2);

  ASSERT_EQ(SignedHttp("POST", Url("/v1/templates/receipt/activate?version=2"), *admin_).status,
            200);
  // The next requests (either worker) see it at once (the cache entry was deleted, not left to
  // expire).
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(VersionUsed("document_type=receipt"), 2);
  }
  HttpResponse rolled = SignedHttp("POST", Url("/v1/templates/receipt/rollback"), *admin_);
  ASSERT_EQ(rolled.status, 200) << rolled.body;
  EXPECT_EQ(Json(rolled.body)["active_version"].GetInt(), 1);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(VersionUsed("document_type=receipt"), 1);
  }
  // The version used is in the request log.
  std::string logged;
  for (int i = 0; i < 50 && logged.find('2') == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    logged = service_->postgres().Query(
        "SELECT string_agg(DISTINCT template_version::text, ',' ORDER BY template_version::text)"
        " FROM ocr_request_logs WHERE endpoint = '/v1/forms/extract'"
        " AND document_type = 'receipt'");
  }
  EXPECT_NE(logged.find('1'), std::string::npos) << logged;
  EXPECT_NE(logged.find('2'), std::string::npos) << logged;

  HttpResponse list = SignedHttp("GET", Url("/v1/templates"), *admin_);
  ASSERT_EQ(list.status, 200);
  EXPECT_GE(Json(list.body)["templates"].Size(), 5u);  // 4 built-in + receipt v2
  HttpResponse exported = SignedHttp("GET", Url("/v1/templates/export"), *admin_);
  ASSERT_EQ(exported.status, 200);
  HttpResponse imported = SignedHttp("POST", Url("/v1/templates/import"), *admin_, exported.body,
                                     {"Content-Type: application/json"});
  ASSERT_EQ(imported.status, 200) << imported.body;
  EXPECT_EQ(Json(imported.body)["created"].GetInt(), 0);
}

TEST_F(FormsApiTest, SplitsTrafficToACandidateVersionAndSaysWhichAnswered) {
  HttpResponse active = SignedHttp("GET", Url("/v1/templates/receipt/active"), *admin_);
  ASSERT_EQ(active.status, 200) << active.body;
  const int serving = Json(active.body)["version"].GetInt();
  Template t = ParseTemplate(active.body);
  t.description = "candidate";
  HttpResponse created = SignedHttp("POST", Url("/v1/templates/receipt/versions"), *admin_,
                                    TemplateToJson(t), {"Content-Type: application/json"});
  ASSERT_EQ(created.status, 201) << created.body;
  const int candidate = Json(created.body)["version"].GetInt();
  ASSERT_EQ(SignedHttp("POST",
                       Url("/v1/templates/receipt/split?version=" + std::to_string(candidate) +
                           "&percent=99"),
                       *admin_)
                .status,
            200);
  // 99 % of requests go to the candidate: one of three does but for a one-in-a-million draw.
  bool seen = false;
  for (int i = 0; i < 3 && !seen; ++i) {
    const HttpResponse r = Extract("document_type=receipt");
    ASSERT_EQ(r.status, 200) << r.body;
    rapidjson::Document doc = Json(r.body);
    if (!doc["ab_candidate"].GetBool()) {
      EXPECT_EQ(doc["template_version"].GetInt(), serving);
      continue;
    }
    seen = true;
    EXPECT_EQ(doc["template_version"].GetInt(), candidate);
    ASSERT_EQ(r.headers.count("x-template-version"), 1u);
    EXPECT_EQ(r.headers.at("x-template-version"), std::to_string(candidate));
  }
  EXPECT_TRUE(seen);
  // The request log says which version answered.
  std::string logged;
  for (int i = 0; i < 50 && logged != "1"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    logged = service_->postgres().Query(
        "SELECT count(*) FROM ocr_request_logs WHERE endpoint = '/v1/forms/extract' AND "
        "template_version = " +
        std::to_string(candidate));
  }
  EXPECT_EQ(logged, "1");
  // percent=0 ends the split.
  ASSERT_EQ(SignedHttp("POST",
                       Url("/v1/templates/receipt/split?version=" + std::to_string(candidate) +
                           "&percent=0"),
                       *admin_)
                .status,
            200);
  EXPECT_EQ(VersionUsed("document_type=receipt"), serving);
}

TEST_F(FormsApiTest, ExtractsWhileRedisIsDown) {
  // Templates come from PostgreSQL, signatures are remembered there.
  service_->redis().Stop();
  const HttpResponse r = Extract("document_type=receipt");
  service_->redis().Start();
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document doc = Json(r.body);
  EXPECT_STREQ(doc["document_type"].GetString(), "receipt");
  EXPECT_TRUE(doc["fields"]["total"]["found"].GetBool()) << r.body;
}

TEST_F(FormsApiTest, EnforcesScopesAndAnswersBadInputWithProblems) {
  ExpectProblem(Http("POST", Url("/v1/forms/extract?document_type=receipt"), *receipt_,
                     {"Content-Type: image/jpeg"}),
                401, "missing_authorization");
  ExpectProblem(SignedHttp("GET", Url("/v1/templates"), *forms_), 403, "missing_scope");
  ExpectProblem(SignedHttp("POST", Url("/v1/forms/extract?document_type=receipt"), *admin_,
                           *receipt_, {"Content-Type: image/jpeg"}),
                403, "missing_scope");
  ExpectProblem(Extract(""), 400, "invalid_option");
  ExpectProblem(Extract("document_type=Receipt!"), 400, "invalid_option");
  ExpectProblem(Extract("document_type=receipt&engine=magic"), 400, "invalid_option");
  ExpectProblem(Extract("document_type=receipt&engine=llm"), 400, "invalid_option");
  // ... said before the body is read: no recognition for a request that cannot be answered.
  ExpectProblem(SignedHttp("POST", Url("/v1/forms/extract?document_type=receipt&engine=llm"),
                           *forms_, "not an image", {"Content-Type: image/jpeg"}),
                400, "invalid_option");
  // An option the handler does not know is refused and named: a misspelt `mask` must not
  // return the values unmasked. A profile in the query string (access logs) is refused.
  HttpResponse misspelt = Extract("document_type=receipt&masked=true");
  ExpectProblem(misspelt, 400, "invalid_option");
  EXPECT_NE(misspelt.body.find("\"option\":\"masked\""), std::string::npos) << misspelt.body;
  HttpResponse in_query = SignedHttp("POST", Url("/v1/forms/fill?profile=%7B%22a%22%3A%22b%22%7D"),
                                     *forms_, *receipt_, {"Content-Type: image/jpeg"});
  ExpectProblem(in_query, 400, "invalid_option");
  EXPECT_NE(in_query.body.find("\"option\":\"profile\""), std::string::npos) << in_query.body;
  ExpectProblem(Extract("document_type=passport_xyz"), 404, "not_found");
  ExpectProblem(Extract("document_type=receipt&template_version=99"), 404, "not_found");
  ExpectProblem(SignedHttp("POST", Url("/v1/forms/extract?document_type=receipt"), *forms_,
                           "not an image", {"Content-Type: image/jpeg"}),
                415, "unsupported_media_type");
  ExpectProblem(
      SignedHttp("POST", Url("/v1/forms/fill"), *forms_, *receipt_, {"Content-Type: image/jpeg"}),
      400, "bad_request");
  ExpectProblem(SignedHttp("POST", Url("/v1/templates/receipt/versions"), *admin_, "{\"x\":1}",
                           {"Content-Type: application/json"}),
                422, "unprocessable");
  ExpectProblem(SignedHttp("POST", Url("/v1/templates/receipt/rollback"), *admin_), 409,
                "conflict");
}

TEST_F(FormsApiTest, FillsAFormSentAsMultipartWithAProfile) {
  const std::string boundary = "fillboundary42";
  const std::string body =
      "--" + boundary +
      "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r.jpg\"\r\n"
      "Content-Type: image/jpeg\r\n\r\n" +
      *receipt_ + "\r\n--" + boundary +
      "\r\nContent-Disposition: form-data; name=\"profile\"\r\n\r\n"
      "{\"date\":\"2024-05-01\",\"cashier\":\"Ann\",\"favourite_colour\":\"blue\"}\r\n--" +
      boundary + "--\r\n";
  HttpResponse r = SignedHttp("POST", Url("/v1/forms/fill"), *forms_, body,
                              {"Content-Type: multipart/form-data; boundary=" + boundary});
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document doc = Json(r.body);
  ASSERT_TRUE(doc.IsObject());
  bool colour_unmatched = false;
  for (const auto& k : doc["unmatched_keys"].GetArray()) {
    colour_unmatched |= std::string(k.GetString()) == "favourite_colour";
  }
  EXPECT_TRUE(colour_unmatched) << r.body;
  EXPECT_GE(doc["placements"].Size(), 1u) << r.body;  // the receipt prints "Date" and "Cashier"
  EXPECT_GT(std::string(doc["image_png_base64"].GetString()).size(), 1000u);
}

}  // namespace
}  // namespace scanline::testing
