// Query parsing, problem+json rendering and error code tables.
#include "core/http.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <set>

namespace scanline {
namespace {

TEST(HttpTest, ParsesQueryWithEscapesPlusAndRepeats) {
  QueryParams p = ParseQuery("lang=eng%2Bdeu&roi=1,2,3,4&q=a+b&flag&lang=fra");
  ASSERT_EQ(p.size(), 5u);
  EXPECT_EQ(p[0].second, "eng+deu");
  EXPECT_EQ(p[2].second, "a b");
  EXPECT_EQ(p[3].first, "flag");
  EXPECT_EQ(QueryValue(p, "lang"), "fra");  // the last one wins
  EXPECT_EQ(QueryValue(p, "missing"), std::nullopt);
}

TEST(HttpTest, MalformedEscapeIsBadRequest) {
  try {
    ParseQuery("a=%zz");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kBadRequest);
  }
  EXPECT_THROW(ParseQuery("a=%4"), Error);
}

TEST(HttpTest, MediaTypeDropsParametersAndCase) {
  Request r;
  r.headers = {{"content-type", " Multipart/Form-Data ; boundary=xyz"}};
  EXPECT_EQ(r.MediaType(), "multipart/form-data");
}

TEST(HttpTest, ProblemResponseFollowsRfc9457) {
  Error e = InvalidOption("psm", "must be between 0 and 13");
  Response r = ProblemResponse(e, "req-1");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "application/problem+json");
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  ASSERT_TRUE(d.IsObject());
  EXPECT_STREQ(d["code"].GetString(), "invalid_option");
  EXPECT_STREQ(d["option"].GetString(), "psm");
  EXPECT_STREQ(d["request_id"].GetString(), "req-1");
  EXPECT_EQ(d["status"].GetInt(), 400);
  EXPECT_STREQ(d["type"].GetString(), "https://scanline.dev/problems/invalid_option");
}

TEST(HttpTest, InternalErrorsNeverShowTheirMessage) {
  Response r = ProblemResponse(Error(ErrorCode::kInternal, "segment at /srv/x", "secret"), "id");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("/srv/x"), std::string::npos);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
}

TEST(HttpTest, EveryCodeHasADistinctNameAndAnErrorStatus) {
  std::set<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(ErrorCode::kInternal); ++i) {
    auto code = static_cast<ErrorCode>(i);
    EXPECT_TRUE(names.insert(CodeName(code)).second) << CodeName(code);
    EXPECT_GE(HttpStatusFor(code), 400);
    EXPECT_LT(HttpStatusFor(code), 600);
  }
}

}  // namespace
}  // namespace scanline
