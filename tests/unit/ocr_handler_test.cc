// POST /v1/ocr without a server: the handler with a plain Request, errors rendered as the
// pool's one catch site renders them (problem+json). Body shapes, output formats, every
// option's bad value, hostile images, the deadline, and the handler still serving after.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "core/error.h"
#include "core/ocr.h"
#include "handlers/ocr.h"
#include "tests/unit/text_images.h"

namespace scanline {
namespace {

using testing::Cer;
using testing::Encode;
using testing::RenderText;
using testing::Scaled;

const char kText[] = "Receipt number 4471\nPaid in full, thank you.\n";

std::string Base64(const std::string& in) {
  static const char* chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += chars[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint8_t(in[i]) << 16;
    out += std::string{chars[(v >> 18) & 63], chars[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += std::string{chars[(v >> 18) & 63], chars[(v >> 12) & 63], chars[(v >> 6) & 63], '='};
  }
  return out;
}

class OcrHandlerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PrepareTesseractProcess();
    config_ = new Config();
    config_->ocr.max_deadline_ms = 20000;
    engines_ = MakeOcrEngines(config_->ocr).release();
    png_ = new std::string(Encode(Scaled(RenderText(kText, 12, 300), 0.5), ".png"));
  }
  static void TearDownTestSuite() {
    delete engines_;
    delete config_;
    delete png_;
  }

  struct Reply {
    Response response;
    rapidjson::Document json;
    RequestLogRecord log;
  };

  // The handler, and for a thrown Error the problem+json the pool would send.
  static Reply Call(const std::string& query, const std::string& content_type,
                    const std::string& body) {
    Request request;
    request.method = "POST";
    request.path = "/v1/ocr";
    request.query = query;
    request.request_id = "test-1";
    if (!content_type.empty()) request.headers.emplace_back("content-type", content_type);
    request.body = body;
    Services services;
    services.config = config_;
    services.ocr = engines_;
    Reply reply;
    RequestContext context{services, {}, reply.log};
    try {
      reply.response = HandleOcr(request, context);
    } catch (const Error& e) {
      reply.response = ProblemResponse(e, request.request_id);
    }
    if (reply.response.content_type.find("json") != std::string::npos) {
      reply.json.Parse(reply.response.body.c_str());
    }
    return reply;
  }

  static std::string Code(const Reply& reply) {
    return reply.json.IsObject() && reply.json.HasMember("code") ? reply.json["code"].GetString()
                                                                 : "";
  }

  static Config* config_;
  static OcrEngines* engines_;
  static std::string* png_;
};

Config* OcrHandlerTest::config_ = nullptr;
OcrEngines* OcrHandlerTest::engines_ = nullptr;
std::string* OcrHandlerTest::png_ = nullptr;

TEST_F(OcrHandlerTest, RawImageGivesTextWordsAndTimings) {
  const Reply reply = Call("", "image/png", *png_);
  ASSERT_EQ(reply.response.status, 200) << reply.response.body;
  EXPECT_EQ(reply.response.content_type, "application/json");
  const auto& j = reply.json;
  EXPECT_LT(Cer(kText, j["text"].GetString()), 0.05) << j["text"].GetString();
  EXPECT_STREQ(j["image"]["format"].GetString(), "png");
  EXPECT_EQ(j["image"]["pages"].GetInt(), 1);
  EXPECT_EQ(std::string(j["image"]["sha256"].GetString()), Sha256Hex(*png_));
  EXPECT_STREQ(j["options"]["preprocess"].GetString(), "auto");
  EXPECT_EQ(j["options"]["psm"].GetInt(), config_->ocr.default_psm);
  EXPECT_GT(j["mean_confidence"].GetDouble(), 60);
  const auto& page = j["pages"][0];
  EXPECT_GT(page["blocks"][0]["lines"][0]["words"].Size(), 1u);
  for (const char* stage : {"decode", "preprocess", "recognise", "total"}) {
    EXPECT_TRUE(j["timings_ms"].HasMember(stage)) << stage;
  }
  // The request log record is filled.
  EXPECT_EQ(reply.log.image_sha256, Sha256Hex(*png_));
  EXPECT_GT(reply.log.confidence, 60);
  EXPECT_EQ(reply.log.stages.size(), 4u);
}

TEST_F(OcrHandlerTest, MultipartAndJsonBodies) {
  const std::string boundary = "----scanline-test-boundary";
  const std::string multipart = "--" + boundary +
                                "\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n"
                                "--" +
                                boundary +
                                "\r\nContent-Disposition: form-data; name=\"file\"; "
                                "filename=\"r.png\"\r\nContent-Type: image/png\r\n\r\n" +
                                *png_ + "\r\n--" + boundary + "--\r\n";
  const Reply a = Call("level=text", "multipart/form-data; boundary=" + boundary, multipart);
  ASSERT_EQ(a.response.status, 200) << a.response.body;
  EXPECT_LT(Cer(kText, a.json["text"].GetString()), 0.05);
  EXPECT_FALSE(a.json["pages"][0].HasMember("blocks"));

  const Reply b = Call("", "application/json", "{\"image\":\"" + Base64(*png_) + "\"}");
  ASSERT_EQ(b.response.status, 200) << b.response.body;
  EXPECT_LT(Cer(kText, b.json["text"].GetString()), 0.05);
}

TEST_F(OcrHandlerTest, OutputFormats) {
  const Reply text = Call("format=text", "image/png", *png_);
  EXPECT_EQ(text.response.content_type, "text/plain; charset=utf-8");
  EXPECT_LT(Cer(kText, text.response.body), 0.05);
  const Reply hocr = Call("format=hocr", "image/png", *png_);
  EXPECT_EQ(hocr.response.content_type, "text/html; charset=utf-8");
  EXPECT_NE(hocr.response.body.find("ocrx_word"), std::string::npos);
  const Reply tsv = Call("format=tsv", "image/png", *png_);
  EXPECT_EQ(tsv.response.content_type, "text/tab-separated-values; charset=utf-8");
  EXPECT_NE(tsv.response.body.find("\t4471"), std::string::npos) << tsv.response.body;
}

TEST_F(OcrHandlerTest, EveryBadOptionIs400NamingIt) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"lang", "lang=klingon"},
      {"lang", "lang=eng%2B"},
      {"psm", "psm=0"},
      {"psm", "psm=14"},
      {"roi", "roi=1,2,3"},
      {"roi", "roi=5000,5000,10,10"},
      {"preprocess", "preprocess=x"},
      {"level", "level=glyphs"},
      {"format", "format=pdf"},
      {"deadline_ms", "deadline_ms=0"},
      {"colour", "colour=red"},
  };
  for (const auto& [option, query] : bad) {
    const Reply reply = Call(query, "image/png", *png_);
    EXPECT_EQ(reply.response.status, 400) << query;
    EXPECT_EQ(reply.response.content_type, "application/problem+json");
    EXPECT_EQ(Code(reply), "invalid_option") << query;
    ASSERT_TRUE(reply.json.HasMember("option")) << reply.response.body;
    EXPECT_EQ(std::string(reply.json["option"].GetString()), option) << query;
  }
  // An unknown language lists the installed ones.
  const Reply lang = Call("lang=klingon", "image/png", *png_);
  EXPECT_NE(std::string(lang.json["detail"].GetString()).find("installed: "), std::string::npos);
  // A bad option is reported as such even when the image is bad too.
  EXPECT_EQ(Call("psm=99", "image/png", "garbage").response.status, 400);
}

TEST_F(OcrHandlerTest, HostileBodiesGetTheRight4xx) {
  struct Case {
    std::string name, content_type, body, code;
    int status;
  };
  const std::string bomb = Encode(cv::Mat(6000, 8000, CV_8UC1, cv::Scalar(255)), ".png");
  std::string corrupt = *png_;
  for (size_t i = 60; i < corrupt.size(); ++i) corrupt[i] = static_cast<char>(i * 13);
  const std::vector<Case> cases = {
      {"zero bytes", "image/png", "", "bad_request", 400},
      {"truncated", "image/png", png_->substr(0, png_->size() / 3), "corrupt_image", 422},
      {"corrupt", "image/png", corrupt, "corrupt_image", 422},
      {"not an image", "image/png", "hello, world", "unsupported_media_type", 415},
      {"wrong content type", "text/csv", *png_, "unsupported_media_type", 415},
      {"bad json", "application/json", "{\"image\": 12", "bad_request", 400},
      {"bad base64", "application/json", "{\"image\":\"@@@@\"}", "bad_request", 400},
      {"decompression bomb", "image/png", bomb, "image_too_large", 413},
  };
  for (const auto& c : cases) {
    const Reply reply = Call("", c.content_type, c.body);
    EXPECT_EQ(reply.response.status, c.status) << c.name << ": " << reply.response.body;
    EXPECT_EQ(Code(reply), c.code) << c.name;
    EXPECT_EQ(reply.response.content_type, "application/problem+json") << c.name;
  }
  // And the next good request is served as before.
  const Reply after = Call("", "image/png", *png_);
  ASSERT_EQ(after.response.status, 200);
  EXPECT_LT(Cer(kText, after.json["text"].GetString()), 0.05);
}

TEST_F(OcrHandlerTest, DeadlineGives504) {
  std::string text;
  for (int i = 0; i < 10; ++i)
    text += "A long page that takes a while to read, line " + std::to_string(i) + ".\n";
  const std::string big = Encode(RenderText(text, 12, 300), ".png");
  const Reply reply = Call("deadline_ms=20", "image/png", big);
  EXPECT_EQ(reply.response.status, 504) << reply.response.body;
  EXPECT_EQ(Code(reply), "deadline_exceeded");
}

}  // namespace
}  // namespace scanline
