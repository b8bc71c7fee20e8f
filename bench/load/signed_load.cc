// The rate of signed against unsigned GET /v1/health through nginx over TLS, in one run, by
// one driver, so the only difference is the signature.
//
// wrk cannot be used for the signed side: a signature is accepted once (replay protection),
// so every request must be signed afresh, and its Lua scripts have no HMAC. This driver runs
// `--connections` threads, each with one keep-alive libcurl handle (HTTP/1.1 over TLS, like
// wrk), and sends the same request shape both ways: GET /v1/health?n=<thread>.<count> (a
// distinct query per request, since two identical requests signed within one second carry
// the same signature). Signed requests are signed just before sending by core/sigv4's
// SignRequest with a real key made through `scanline keys create` (per-minute and daily
// limits set, so the quota counters in Redis are part of the cost); the server verifies the
// signature, looks the key up (cached per worker), records the signature in Redis and counts
// the quota before the handler runs.
//
// Prints requests per second, p50 and p99 latency, and non-200 answers for each mode, and the
// client's own signing time per request (it runs on the same cores as the server).
//
//   build/bench/signed_load [--workers 2] [--connections 8] [--seconds 5] [--rounds 2]
//                           [--limits 1]
#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "core/http.h"
#include "core/sigv4.h"
#include "tests/integration/testbed.h"

using scanline::testing::ApiKey;
using scanline::testing::Service;
using scanline::testing::ServiceOptions;

namespace {

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

struct ThreadResult {
  std::vector<double> latencies_ms;
  long non_200 = 0;
  long transport_errors = 0;
  double signing_us = 0;
};

struct Summary {
  double rps = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  long non_200 = 0;
  long errors = 0;
  double signing_us_per_request = 0;
};

void RunConnection(int id, const std::string& host, const ApiKey* key, int seconds,
                   ThreadResult& out) {
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  scanline::SigV4Params params;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  long count = 0;
  while (std::chrono::steady_clock::now() < end) {
    std::string query = "n=" + std::to_string(id) + "." + std::to_string(++count);
    std::string url = "https://" + host + "/v1/health?" + query;
    curl_slist* headers = nullptr;
    auto started = std::chrono::steady_clock::now();
    if (key) {
      scanline::Request request;
      request.method = "GET";
      request.path = "/v1/health";
      request.query = query;
      request.headers = {{"host", host}};
      auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
      scanline::SignRequest(request, key->id, key->secret, now_s, params);
      for (const auto& [name, value] : request.headers) {
        if (name != "host") headers = curl_slist_append(headers, (name + ": " + value).c_str());
      }
      out.signing_us +=
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - started)
              .count();
    }
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    CURLcode rc = curl_easy_perform(curl);
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
      ++out.transport_errors;
      continue;
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) ++out.non_200;
    out.latencies_ms.push_back(ms);
  }
  curl_easy_cleanup(curl);
}

Summary Run(const std::string& host, const ApiKey* key, int connections, int seconds) {
  std::vector<ThreadResult> results(static_cast<size_t>(connections));
  std::vector<std::thread> threads;
  for (int i = 0; i < connections; ++i) {
    threads.emplace_back(RunConnection, i, host, key, seconds, std::ref(results[i]));
  }
  for (std::thread& t : threads) t.join();
  std::vector<double> all;
  Summary s;
  double signing_us = 0;
  for (const ThreadResult& r : results) {
    all.insert(all.end(), r.latencies_ms.begin(), r.latencies_ms.end());
    s.non_200 += r.non_200;
    s.errors += r.transport_errors;
    signing_us += r.signing_us;
  }
  std::sort(all.begin(), all.end());
  if (!all.empty()) {
    s.rps = static_cast<double>(all.size()) / seconds;
    s.p50_ms = all[all.size() / 2];
    s.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
    s.signing_us_per_request = signing_us / static_cast<double>(all.size());
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  int workers = 2, connections = 8, seconds = 5, rounds = 2, limits = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (a == "--workers")
      workers = v;
    else if (a == "--connections")
      connections = v;
    else if (a == "--seconds")
      seconds = v;
    else if (a == "--rounds")
      rounds = v;
    else if (a == "--limits")
      limits = v;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  ServiceOptions options;
  options.workers = workers;
  options.ip_rate = options.key_rate = 1000000;
  options.ip_burst = options.key_burst = 1000000;
  Service service(options);
  // With limits (the default) the quota is counted in Redis; --limits 0 makes a key without
  // any, which skips the quota's Redis round trips.
  ApiKey key = service.CreateKey("ocr", limits ? "--rpm 100000000 --daily 1000000000" : "");
  std::string host = "127.0.0.1:" + std::to_string(service.port());
  // Warm up: TLS sessions, key caches, health-check cache.
  Run(host, &key, connections, 1);
  Run(host, nullptr, connections, 1);

  std::printf(
      "machine: %u cores; %d keep-alive connections (libcurl, HTTP/1.1 over TLS), "
      "%d s per run, %d pool workers\n",
      std::thread::hardware_concurrency(), connections, seconds, workers);
  std::printf("%-30s %10s %9s %9s %8s %11s\n", "GET /v1/health", "req/s", "p50 ms", "p99 ms",
              "non-200", "sign us/req");
  for (int round = 0; round < rounds; ++round) {
    const ApiKey* modes[] = {nullptr, &key};
    for (const ApiKey* k : modes) {
      Summary s = Run(host, k, connections, seconds);
      std::printf("%-30s %10.0f %9.2f %9.2f %8ld %11.1f\n", k ? "signed" : "unsigned", s.rps,
                  s.p50_ms, s.p99_ms, s.non_200 + s.errors, s.signing_us_per_request);
      std::fflush(stdout);
    }
  }
  // The server's side of it: the auth stage (signature, key, replay, scope, quota) as the
  // pool's /metrics has it, over every signed request of this run.
  std::string metrics = scanline::testing::Http("GET", service.base_url() + "/metrics").body;
  const std::regex sum_re(R"(scanline_stage_duration_seconds_sum\{stage="auth"\} (\S+))");
  const std::regex count_re(R"(scanline_stage_duration_seconds_count\{stage="auth"\} (\S+))");
  std::smatch sum, count;
  if (std::regex_search(metrics, sum, sum_re) && std::regex_search(metrics, count, count_re)) {
    double n = std::stod(count[1]);
    std::printf("server auth phase: %.1f us/request mean over %.0f signed requests\n",
                n > 0 ? std::stod(sum[1]) * 1e6 / n : 0.0, n);
  }
  curl_global_cleanup();
  return 0;
}
