// Cost of checking one signed request (core/sigv4): the per-request price of authentication
// before any recognition work. Requests are built and signed outside the timed loop; each
// iteration parses the Authorization header, canonicalises, hashes the body, derives the
// signing key and compares.
//
//   BM_VerifySignature/256       a typical small request (query, content-type, 256-byte body)
//   BM_VerifySignature/1048576   the same with a 1 MiB body (SHA-256 of the body dominates)
//   BM_VerifySignatureRotated    the matching secret is the second of two (rotation)
//   BM_VerifySignatureCurlQuery  an unsorted query that matches only as sent (curl 7.88)
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/crypto.h"
#include "core/sigv4.h"

namespace scanline {
namespace {

constexpr int64_t kNow = 1700000000;
constexpr char kKeyId[] = "SLKBENCHKEY000000001";
constexpr char kSecret[] = "bench-secret-0123456789abcdefghijklmnopq";

SigV4Params Params() {
  SigV4Params params;
  params.region = "eu-west-1";
  return params;
}

Request SignedRequest(size_t body_bytes) {
  Request request;
  request.method = "POST";
  request.path = "/v1/ocr";
  request.query = "lang=eng&level=words&psm=6";
  request.headers = {
      {"host", "ocr.example.com"}, {"content-type", "image/png"}, {"user-agent", "bench/1.0"}};
  request.body.assign(body_bytes, '\x5a');
  SignRequest(request, kKeyId, kSecret, kNow, Params());
  return request;
}

void BM_VerifySignature(benchmark::State& state) {
  const Request request = SignedRequest(static_cast<size_t>(state.range(0)));
  const SigV4Params params = Params();
  const SecretLookup lookup = [](const std::string&) { return std::vector<std::string>{kSecret}; };
  for (auto _ : state) {
    VerifiedSignature result = VerifySignature(request, kNow, params, lookup);
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_VerifySignature)->Arg(256)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);

void BM_VerifySignatureRotated(benchmark::State& state) {
  const Request request = SignedRequest(256);
  const SigV4Params params = Params();
  const SecretLookup lookup = [](const std::string&) {
    return std::vector<std::string>{"a-newer-secret-that-does-not-match-00000", kSecret};
  };
  for (auto _ : state) {
    VerifiedSignature result = VerifySignature(request, kNow, params, lookup);
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_VerifySignatureRotated)->Unit(benchmark::kMicrosecond);

void BM_VerifySignatureCurlQuery(benchmark::State& state) {
  // Signed over the path and query exactly as sent, the way curl 7.88 signs: the strict form
  // is computed and compared first, then the as-sent form.
  Request request;
  request.method = "POST";
  request.path = "/v1/ocr";
  request.query = "roi=10,20,300,40&lang=eng+deu";
  const std::string amz_date = FormatAmzDate(kNow);
  const std::string date = amz_date.substr(0, 8);
  request.headers = {{"host", "ocr.example.com"}, {"x-amz-date", amz_date}};
  request.body.assign(256, '\x5a');
  const std::vector<std::string> list = {"host", "x-amz-date"};
  const std::string scope = date + "/eu-west-1/scanline/aws4_request";
  const std::string creq = CanonicalRequest(request.method, request.path, request.query,
                                            CanonicalHeaders(request.headers, list),
                                            "host;x-amz-date", LowerHex(Sha256(request.body)));
  const std::string signature = SignatureHex(SigningKey(kSecret, date, "eu-west-1", "scanline"),
                                             StringToSign(amz_date, scope, creq));
  request.headers.emplace_back("authorization",
                               "AWS4-HMAC-SHA256 Credential=" + std::string(kKeyId) + "/" + scope +
                                   ", SignedHeaders=host;x-amz-date, "
                                   "Signature=" +
                                   signature);
  const SigV4Params params = Params();
  const SecretLookup lookup = [](const std::string&) { return std::vector<std::string>{kSecret}; };
  for (auto _ : state) {
    VerifiedSignature result = VerifySignature(request, kNow, params, lookup);
    if (!result.query_as_sent) state.SkipWithError("expected a match in the as-sent form");
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_VerifySignatureCurlQuery)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace scanline
