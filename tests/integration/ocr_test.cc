// POST /v1/ocr through real nginx over TLS and the pool (2 workers, warm engines), with
// signed requests: text comes back; unsigned and unscoped callers are refused; bad images,
// bad options and a passed deadline get their 4xx/504 problem+json, and the same workers
// keep serving afterwards.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>
#include <set>
#include <sstream>

#include "core/crypto.h"
#include "tests/integration/testbed.h"

namespace scanline::testing {
namespace {

const char kText[] = "Signed request number 5821\nread through the pool.\n";

std::string CodeOf(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("code")) return "";
  return doc["code"].GetString();
}

// A TIFF page of `text` rendered by text2image (package tesseract-ocr) at 300 dpi.
std::string RenderTiff(const std::string& dir, const std::string& text, int height = 400) {
  std::ofstream(dir + "/page.txt") << text;
  const std::string cmd = "cd '" + dir +
                          "' && text2image --text=page.txt --outputbase=page "
                          "--font='DejaVu Sans' --fonts_dir=/usr/share/fonts/truetype/dejavu "
                          "--ptsize=12 --resolution=300 --degrade_image=false "
                          "--rotate_image=false --xsize=1800 --ysize=" +
                          std::to_string(height) + " --margin=60 >/dev/null 2>&1";
  if (Shell(cmd) != 0) return "";
  std::ifstream in(dir + "/page.tif", std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<int> WorkerPids(Service& service) {
  HttpResponse r = Http("GET", service.base_url() + "/status");
  rapidjson::Document doc;
  doc.Parse(r.body.c_str());
  std::vector<int> pids;
  if (!doc.IsObject() || !doc.HasMember("workers")) return pids;
  for (const auto& w : doc["workers"].GetArray()) pids.push_back(w["pid"].GetInt());
  std::sort(pids.begin(), pids.end());
  return pids;
}

class OcrServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ServiceOptions options;
    options.ip_rate = options.key_rate = 100000;
    options.ip_burst = options.key_burst = 100000;
    service_ = new Service(options);
    key_ = new ApiKey(service_->CreateKey("ocr", "--rpm 100000 --daily 1000000"));
    other_ = new ApiKey(service_->CreateKey("lpr", "--rpm 100000 --daily 1000000"));
    tiff_ = new std::string(RenderTiff(service_->dir(), kText));
  }
  static void TearDownTestSuite() {
    delete tiff_;
    delete other_;
    delete key_;
    delete service_;
  }

  static HttpResponse Ocr(const std::string& query, const std::string& body,
                          const std::string& content_type = "image/tiff",
                          const ApiKey* key = nullptr) {
    // A signature is accepted once: the same request twice within a second would sign the
    // same. A different (generous) deadline makes every request its own.
    static int sequence = 0;
    std::string q = query;
    if (q.find("deadline_ms") == std::string::npos) {
      q += (q.empty() ? "?" : "&") + std::string("deadline_ms=") +
           std::to_string(50000 - ++sequence);
    }
    return SignedHttp("POST", service_->base_url() + "/v1/ocr" + q, key ? *key : *key_, body,
                      {"Content-Type: " + content_type});
  }

  static Service* service_;
  static ApiKey* key_;
  static ApiKey* other_;
  static std::string* tiff_;
};

Service* OcrServiceTest::service_ = nullptr;
ApiKey* OcrServiceTest::key_ = nullptr;
ApiKey* OcrServiceTest::other_ = nullptr;
std::string* OcrServiceTest::tiff_ = nullptr;

TEST_F(OcrServiceTest, SignedRequestReadsText) {
  ASSERT_FALSE(tiff_->empty()) << "text2image did not render";
  HttpResponse r = Ocr("", *tiff_);
  ASSERT_EQ(r.status, 200) << r.body << r.error;
  rapidjson::Document doc;
  doc.Parse(r.body.c_str());
  ASSERT_TRUE(doc.IsObject()) << r.body;
  const std::string text = doc["text"].GetString();
  EXPECT_NE(text.find("Signed request number 5821"), std::string::npos) << text;
  EXPECT_NE(text.find("through the pool"), std::string::npos) << text;
  EXPECT_STREQ(doc["image"]["format"].GetString(), "tiff");
  // The digest the worker took while reading the body.
  EXPECT_EQ(doc["image"]["sha256"].GetString(), LowerHex(Sha256(*tiff_)));
  EXPECT_TRUE(r.headers.count("x-request-id"));

  HttpResponse plain = Ocr("?format=text&preprocess=none&psm=4", *tiff_);
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_EQ(plain.headers["content-type"], "text/plain; charset=utf-8");
  EXPECT_NE(plain.body.find("5821"), std::string::npos) << plain.body;
}

TEST_F(OcrServiceTest, UnsignedAndUnscopedCallersAreRefused) {
  HttpResponse unsigned_request =
      Http("POST", service_->base_url() + "/v1/ocr", *tiff_, {"Content-Type: image/tiff"});
  EXPECT_EQ(unsigned_request.status, 401) << unsigned_request.body;
  HttpResponse unscoped = Ocr("", *tiff_, "image/tiff", other_);
  EXPECT_EQ(unscoped.status, 403) << unscoped.body;
  EXPECT_EQ(CodeOf(unscoped.body), "missing_scope");
}

TEST_F(OcrServiceTest, BadInputGets4xxAndTheWorkersKeepServing) {
  const std::vector<int> before = WorkerPids(*service_);
  ASSERT_EQ(before.size(), 2u);
  struct Case {
    std::string query, content_type, body, code;
    long status;
  };
  const std::vector<Case> cases = {
      {"", "image/png", "not an image at all", "unsupported_media_type", 415},
      {"", "image/tiff", tiff_->substr(0, 40), "corrupt_image", 422},
      {"", "image/png", "", "bad_request", 400},
      {"", "text/csv", *tiff_, "unsupported_media_type", 415},
      {"?psm=42", "image/tiff", *tiff_, "invalid_option", 400},
      {"?lang=klingon", "image/tiff", *tiff_, "invalid_option", 400},
  };
  for (int round = 0; round < 2; ++round) {  // both workers see them
    for (const auto& c : cases) {
      HttpResponse r = Ocr(c.query, c.body, c.content_type);
      EXPECT_EQ(r.status, c.status) << c.code << ": " << r.body;
      EXPECT_EQ(CodeOf(r.body), c.code) << r.body;
      EXPECT_EQ(r.headers["content-type"], "application/problem+json");
    }
  }
  HttpResponse good = Ocr("?level=text", *tiff_);
  EXPECT_EQ(good.status, 200) << good.body;
  EXPECT_NE(good.body.find("5821"), std::string::npos);
  EXPECT_EQ(WorkerPids(*service_), before);  // no worker died or was replaced
}

TEST_F(OcrServiceTest, DeadlineGives504AndTheWorkerRecovers) {
  std::string text;
  for (int i = 0; i < 14; ++i) text += "Line " + std::to_string(i) + " of a long page to read.\n";
  const std::string big = RenderTiff(service_->dir(), text, 1600);
  HttpResponse r = Ocr("?deadline_ms=20&preprocess=none", big);
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_EQ(CodeOf(r.body), "deadline_exceeded");
  HttpResponse good = Ocr("", *tiff_);
  EXPECT_EQ(good.status, 200) << good.body;
}

}  // namespace
}  // namespace scanline::testing
