// The three body shapes (raw, multipart, JSON with base64) and what ExtractRequestBody passes
// on of the request: a raw body's digest, computed once as the body was read.
#include "core/request_body.h"

#include <gtest/gtest.h>

#include "core/crypto.h"

namespace scanline {
namespace {

const std::string kPng = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(64, '\x07');

Request WithBody(const std::string& content_type, std::string body) {
  Request request;
  request.method = "POST";
  request.headers = {{"content-type", content_type}};
  request.body = std::move(body);
  request.body_sha256 = LowerHex(Sha256(request.body));
  return request;
}

ErrorCode CodeOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::kInternal;
}

TEST(RequestBodyTest, ARawBodyIsTheImageAndKeepsTheReadersDigest) {
  const RequestBody body = ExtractRequestBody(WithBody("image/png", kPng));
  EXPECT_TRUE(body.raw);
  EXPECT_EQ(body.image, kPng);
  EXPECT_EQ(body.image_type, "image/png");
  EXPECT_EQ(body.image_sha256, LowerHex(Sha256(kPng)));

  // Without a digest from the reader there is none to pass on.
  Request unhashed = WithBody("image/png", kPng);
  unhashed.body_sha256.clear();
  EXPECT_TRUE(ExtractRequestBody(unhashed).image_sha256.empty());
}

TEST(RequestBodyTest, MultipartAndJsonImagesAreNotTheBodysDigest) {
  const std::string multipart =
      "--b1\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n"
      "--b1\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.png\"\r\n"
      "Content-Type: image/png\r\n\r\n" +
      kPng + "\r\n--b1--\r\n";
  const RequestBody parts =
      ExtractRequestBody(WithBody("multipart/form-data; boundary=b1", multipart));
  EXPECT_FALSE(parts.raw);
  EXPECT_EQ(parts.image, kPng);
  EXPECT_EQ(parts.filename, "p.png");
  EXPECT_EQ(parts.Field("note"), "hi");
  EXPECT_TRUE(parts.image_sha256.empty());

  // "iVBORw0K" is base64 of the PNG signature's first six bytes.
  const RequestBody json =
      ExtractRequestBody(WithBody("application/json", R"({"image":"iVBORw0K","kind":"receipt"})"));
  EXPECT_FALSE(json.raw);
  EXPECT_EQ(json.image, std::string("\x89PNG\r\n", 6));
  EXPECT_EQ(json.Field("kind"), "receipt");
  EXPECT_TRUE(json.image_sha256.empty());
}

TEST(RequestBodyTest, OtherMediaTypesAndEmptyBodiesAreRefused) {
  EXPECT_EQ(CodeOf([] { ExtractRequestBody(WithBody("text/plain", "hello")); }),
            ErrorCode::kUnsupportedMediaType);
  EXPECT_EQ(CodeOf([] { ExtractRequestBody(WithBody("image/png", "")); }), ErrorCode::kBadRequest);
  EXPECT_EQ(CodeOf([] { ExtractRequestBody(WithBody("application/json", R"({"image":"!!"})")); }),
            ErrorCode::kBadRequest);
}

}  // namespace
}  // namespace scanline
