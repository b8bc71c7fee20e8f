// POST /v1/lpr through nginx and the pool, signed: a labelled photo of ../shared/data/lpr
// in the three body shapes, a photo with no plate, and bad input.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "tests/integration/testbed.h"

namespace scanline::testing {
namespace {

// Labelled PAG5219 in ../shared/data/lpr/br (see its README: the .txt labels the .png).
const char kPhoto[] = SCANLINE_SOURCE_DIR "/../shared/data/lpr/br/PAG5219.png";

rapidjson::Document Json(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  return doc;
}

// A 320x240 uniform grey 24-bit BMP: a valid photo with nothing in it.
std::string BlankBmp() {
  const int w = 320, h = 240, row = w * 3;
  const uint32_t pixels = static_cast<uint32_t>(row * h), size = 54 + pixels;
  std::string b(size, '\x80');
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
  };
  auto put16 = [&](size_t at, uint16_t v) {
    b[at] = static_cast<char>(v & 0xff);
    b[at + 1] = static_cast<char>(v >> 8);
  };
  b[0] = 'B';
  b[1] = 'M';
  put32(2, size);
  put32(6, 0);
  put32(10, 54);
  put32(14, 40);
  put32(18, w);
  put32(22, h);
  put16(26, 1);
  put16(28, 24);
  put32(30, 0);
  put32(34, pixels);
  put32(38, 2835);
  put32(42, 2835);
  put32(46, 0);
  put32(50, 0);
  return b;
}

std::string Base64(const std::string& in) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int k = 3; k >= 0; --k) out += kAlphabet[(v >> (6 * k)) & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint8_t(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

void ExpectProblem(const HttpResponse& r, long status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.headers.count("content-type") ? r.headers.at("content-type") : "",
            "application/problem+json");
  rapidjson::Document doc = Json(r.body);
  ASSERT_TRUE(doc.IsObject()) << r.body;
  EXPECT_STREQ(doc["code"].GetString(), code.c_str()) << r.body;
}

// The plate of kPhoto, read right, with its outline and at most `top_n` candidates.
void ExpectPlate(const HttpResponse& r, size_t top_n) {
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document doc = Json(r.body);
  ASSERT_TRUE(doc.IsObject()) << r.body;
  ASSERT_TRUE(doc["plates"].IsArray());
  ASSERT_GE(doc["plates"].Size(), 1u) << r.body;
  const auto& plate = doc["plates"][0];
  EXPECT_STREQ(plate["text"].GetString(), "PAG5219") << r.body;
  EXPECT_STREQ(plate["region"].GetString(), "br");
  EXPECT_TRUE(plate["matches_pattern"].GetBool());
  EXPECT_GT(plate["confidence"].GetDouble(), 0);
  ASSERT_EQ(plate["corners"].Size(), 4u);
  // The labelled box is x 541..748, y 575..642 (PAG5219.txt).
  double cx = 0, cy = 0;
  for (const auto& p : plate["corners"].GetArray()) {
    cx += p["x"].GetDouble() / 4;
    cy += p["y"].GetDouble() / 4;
  }
  EXPECT_NEAR(cx, 644, 40);
  EXPECT_NEAR(cy, 608, 25);
  EXPECT_GE(plate["candidates"].Size(), 1u);
  EXPECT_LE(plate["candidates"].Size(), top_n);
  EXPECT_STREQ(plate["candidates"][0]["text"].GetString(), "PAG5219");
  EXPECT_EQ(doc["image"]["width"].GetInt(), 1280);
  EXPECT_TRUE(doc["timings_ms"].HasMember("detect"));
  EXPECT_TRUE(doc["timings_ms"].HasMember("read"));
  EXPECT_TRUE(doc.HasMember("enhanced"));
}

class LprServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ServiceOptions options;
    options.workers = 1;
    service_ = new Service(options);
    key_ = new ApiKey(service_->CreateKey("lpr"));
    photo_ = new std::string(ReadFile(kPhoto));
  }
  static void TearDownTestSuite() {
    delete photo_;
    delete key_;
    delete service_;
  }
  static std::string Url(const std::string& query) {
    return service_->base_url() + "/v1/lpr" + (query.empty() ? "" : "?" + query);
  }
  static Service* service_;
  static ApiKey* key_;
  static std::string* photo_;
};

Service* LprServiceTest::service_ = nullptr;
ApiKey* LprServiceTest::key_ = nullptr;
std::string* LprServiceTest::photo_ = nullptr;

TEST_F(LprServiceTest, ReadsAPlateSentAsRawBody) {
  ExpectPlate(
      SignedHttp("POST", Url("region=br&top_n=3"), *key_, *photo_, {"Content-Type: image/png"}), 3);
}

TEST_F(LprServiceTest, ReadsAPlateSentAsMultipart) {
  const std::string boundary = "lprboundary7d93";
  const std::string body = "--" + boundary +
                           "\r\nContent-Disposition: form-data; name=\"file\"; "
                           "filename=\"car.png\"\r\nContent-Type: image/png\r\n\r\n" +
                           *photo_ + "\r\n--" + boundary + "--\r\n";
  ExpectPlate(SignedHttp("POST", Url("region=br"), *key_, body,
                         {"Content-Type: multipart/form-data; boundary=" + boundary}),
              10);
}

TEST_F(LprServiceTest, ReadsAPlateSentAsJsonBase64) {
  const std::string body = "{\"image\":\"" + Base64(*photo_) + "\"}";
  ExpectPlate(SignedHttp("POST", Url("region=br&enhance=off&top_n=5"), *key_, body,
                         {"Content-Type: application/json"}),
              5);
}

TEST_F(LprServiceTest, APhotoWithoutPlatesIsAnEmptyList) {
  const HttpResponse r =
      SignedHttp("POST", Url(""), *key_, BlankBmp(), {"Content-Type: image/bmp"});
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document doc = Json(r.body);
  ASSERT_TRUE(doc.IsObject()) << r.body;
  EXPECT_EQ(doc["plates"].Size(), 0u);
  EXPECT_EQ(doc["image"]["width"].GetInt(), 320);
}

TEST_F(LprServiceTest, NeedsASignatureWithTheLprScope) {
  ExpectProblem(Http("POST", Url(""), *photo_, {"Content-Type: image/png"}), 401,
                "missing_authorization");
  const ApiKey ocr_only = service_->CreateKey("ocr");
  ExpectProblem(SignedHttp("POST", Url(""), ocr_only, *photo_, {"Content-Type: image/png"}), 403,
                "missing_scope");
}

TEST_F(LprServiceTest, RefusesBadInputWithProblems) {
  ExpectProblem(
      SignedHttp("POST", Url(""), *key_, "this is not an image", {"Content-Type: image/png"}), 415,
      "unsupported_media_type");
  ExpectProblem(
      SignedHttp("POST", Url(""), *key_, photo_->substr(0, 300), {"Content-Type: image/png"}), 422,
      "corrupt_image");
  ExpectProblem(SignedHttp("POST", Url("region=zz"), *key_, *photo_, {"Content-Type: image/png"}),
                400, "invalid_option");
  ExpectProblem(SignedHttp("POST", Url("top_n=0"), *key_, *photo_, {"Content-Type: image/png"}),
                400, "invalid_option");
  ExpectProblem(
      SignedHttp("POST", Url("enhance=sometimes"), *key_, *photo_, {"Content-Type: image/png"}),
      400, "invalid_option");
  ExpectProblem(SignedHttp("POST", Url(""), *key_, "", {"Content-Type: image/png"}), 400,
                "bad_request");
  // The worker survived all of it.
  ExpectPlate(SignedHttp("POST", Url("region=br"), *key_, *photo_, {"Content-Type: image/png"}),
              10);
}

}  // namespace
}  // namespace scanline::testing
