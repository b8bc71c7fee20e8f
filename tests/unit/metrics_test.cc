// Metrics blocks sum across workers and render valid Prometheus text.
#include "core/metrics.h"

#include <gtest/gtest.h>

#include <memory>

namespace scanline {
namespace {

TEST(MetricsTest, SumsBlocksOfSeveralWorkers) {
  auto a = std::make_unique<MetricsBlock>();
  auto b = std::make_unique<MetricsBlock>();
  RecordRequest(*a, "/v1/ocr", 200, 0.3, {{"recognise", 250}}, 91.5);
  RecordRequest(*b, "/v1/ocr", 200, 0.02, {}, std::nullopt);
  RecordRequest(*b, "/v1/ocr", 422, 0.001, {}, std::nullopt);
  RecordAuthFailure(*a, ErrorCode::kSignatureMismatch);
  PoolGauges g;
  std::string text = RenderPrometheus({a.get(), b.get()}, g);
  EXPECT_NE(text.find("scanline_requests_total{endpoint=\"/v1/ocr\",status=\"200\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("scanline_requests_total{endpoint=\"/v1/ocr\",status=\"422\"} 1"),
            std::string::npos);
  EXPECT_NE(
      text.find("scanline_request_duration_seconds_bucket{endpoint=\"/v1/ocr\",le=\"0.025\"} 2"),
      std::string::npos);
  EXPECT_NE(
      text.find("scanline_request_duration_seconds_bucket{endpoint=\"/v1/ocr\",le=\"+Inf\"} 3"),
      std::string::npos);
  EXPECT_NE(text.find("scanline_request_duration_seconds_count{endpoint=\"/v1/ocr\"} 3"),
            std::string::npos);
  EXPECT_NE(text.find("scanline_stage_duration_seconds_count{stage=\"recognise\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("scanline_recognition_confidence_bucket{le=\"90\"} 0"), std::string::npos);
  EXPECT_NE(text.find("scanline_recognition_confidence_bucket{le=\"100\"} 1"), std::string::npos);
  EXPECT_NE(text.find("scanline_auth_failures_total{code=\"signature_mismatch\"} 1"),
            std::string::npos);
}

TEST(MetricsTest, CacheLookupsGoToTheProcessBlock) {
  auto block = std::make_unique<MetricsBlock>();
  CountCacheLookup(CacheKind::kTemplate, true);  // no block yet: ignored
  SetProcessMetrics(block.get());
  CountCacheLookup(CacheKind::kTemplate, true);
  CountCacheLookup(CacheKind::kTemplate, false);
  CountCacheLookup(CacheKind::kTemplate, true);
  SetProcessMetrics(nullptr);
  EXPECT_EQ(block->cache_hits[0].load(), 2u);
  EXPECT_EQ(block->cache_misses[0].load(), 1u);
}

TEST(MetricsTest, SignedRequestsHaveTheirEndpointStageAndFailureCodes) {
  auto block = std::make_unique<MetricsBlock>();
  RecordRequest(*block, "/v1/whoami", 200, 0.002, {{"auth", 0.3}}, std::nullopt);
  RecordRequest(*block, "/v1/whoami", 401, 0.001, {}, std::nullopt);
  CountAuthFailure(ErrorCode::kReplayedRequest);  // no block yet: ignored
  SetProcessMetrics(block.get());
  CountAuthFailure(ErrorCode::kReplayedRequest);
  CountAuthFailure(ErrorCode::kMissingScope);
  CountAuthFailure(ErrorCode::kMissingScope);
  SetProcessMetrics(nullptr);
  std::string text = RenderPrometheus({block.get()}, PoolGauges{});
  EXPECT_NE(text.find("scanline_requests_total{endpoint=\"/v1/whoami\",status=\"401\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("scanline_stage_duration_seconds_bucket{stage=\"auth\",le=\"0.001\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("scanline_auth_failures_total{code=\"replayed_request\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("scanline_auth_failures_total{code=\"missing_scope\"} 2"), std::string::npos);
}

TEST(MetricsTest, EveryLineIsCommentOrSample) {
  auto a = std::make_unique<MetricsBlock>();
  RecordRequest(*a, "/v1/health", 200, 0.0001, {}, std::nullopt);
  std::string text = RenderPrometheus({a.get()}, PoolGauges{});
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.starts_with("#")) continue;
    size_t space = line.rfind(' ');
    ASSERT_NE(space, std::string::npos) << line;
    std::string value = line.substr(space + 1);
    EXPECT_NO_THROW(std::stod(value)) << line;
  }
}

}  // namespace
}  // namespace scanline
