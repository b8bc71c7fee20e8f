// What the way to a worker costs a request that carries a photo, apart from recognising it,
// in one run on this machine: POST of a receipt photo from ../shared/data (about 100, 500
// and 900 KB, and a 1-byte body) to
//   unsigned POST /v1/health: nginx (TLS), FastCGI, the worker reading (and hashing) the whole
//            body, then 405 (the route takes GET): the way in and out, no checks
//   signed   POST /v1/whoami signed (SigV4 with x-amz-content-sha256, as the testbed and the
//            SDKs sign): the same, plus the client's and the worker's SHA-256 of the body,
//            the signature, the replay record and the quota count in Redis
// over HTTP/2 and over HTTP/1.1 (one keep-alive connection each, as an API client keeps),
// against two services that differ only in nginx's http2_body_preread_size: 1m, as
// nginx/scanline.conf sets it, and 64k, nginx's default (the first flow-control window of an
// HTTP/2 request body). Requests go one at a time with --gap-ms between them, while --busy
// processes spin on a core each and --busy-ocr processes recognise a receipt over and over
// (scanline's OCR in-process, preprocess=none): with two workers on two cores, the other
// worker is usually recognising a page meanwhile, and it shares caches and memory with the
// requests as a spinning loop does not. Every configuration runs once per round, in turn, the two
// services first by turns.
//
// Prints p50 and p90 latency per configuration, in milliseconds.
//
//   build/bench/upload_load [--requests 40] [--rounds 3] [--busy 1] [--busy-ocr 0]
//                           [--gap-ms 10]
#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/http.h"
#include "core/image.h"
#include "core/ocr.h"
#include "core/sigv4.h"
#include "core/tessdata.h"
#include "tests/integration/testbed.h"

using scanline::testing::ApiKey;
using scanline::testing::ReadFile;
using scanline::testing::Service;
using scanline::testing::ServiceOptions;

namespace {

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

double Quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(q * values.size()))];
}

struct Body {
  std::string label;
  std::string bytes;
};

// The receipts nearest in size to each target, and a 1-byte body.
std::vector<Body> PickBodies() {
  const std::string dir = std::string(SCANLINE_SOURCE_DIR) + "/../shared/data/receipts/img";
  std::vector<std::pair<uintmax_t, std::string>> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    files.emplace_back(e.file_size(), e.path());
  }
  std::vector<Body> bodies{{"1 B", "x"}};
  for (const uintmax_t target : {100'000u, 500'000u, 900'000u}) {
    auto best = std::min_element(files.begin(), files.end(), [&](const auto& a, const auto& b) {
      return std::llabs(static_cast<long long>(a.first - target)) <
             std::llabs(static_cast<long long>(b.first - target));
    });
    bodies.push_back({std::to_string((best->first + 500) / 1000) + " KB", ReadFile(best->second)});
  }
  return bodies;
}

// One connection: a libcurl handle kept across requests, HTTP/2 or HTTP/1.1.
class Client {
 public:
  Client(std::string host, bool http2) : host_(std::move(host)), curl_(curl_easy_init()) {
    curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(curl_, CURLOPT_HTTP_VERSION,
                     http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, Discard);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, 30000L);
  }
  ~Client() { curl_easy_cleanup(curl_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The latency of one POST in ms (signing included), or -1 when it did not answer `expect`.
  double Post(const std::string& path, const std::string& body, const ApiKey* key, long expect) {
    // Two identical requests signed within one second would carry the same signature, and
    // the second would be refused as a replay: every request has its own query.
    static long count = 0;
    const std::string query = "n=" + std::to_string(++count);
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: image/jpeg");
    const auto started = std::chrono::steady_clock::now();
    if (key != nullptr) {
      scanline::Request request;
      request.method = "POST";
      request.path = path;
      request.query = query;
      request.headers = {{"host", host_}, {"content-type", "image/jpeg"}};
      request.body = body;
      const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
      scanline::SignRequest(request, key->id, key->secret, now_s, {},
                            /*with_content_sha256=*/true);
      for (const auto& [name, value] : request.headers) {
        if (name != "host" && name != "content-type") {
          headers = curl_slist_append(headers, (name + ": " + value).c_str());
        }
      }
    }
    const std::string url = "https://" + host_ + path + "?" + query;
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    const CURLcode rc = curl_easy_perform(curl_);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    curl_slist_free_all(headers);
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && status == expect) return ms;
    std::fprintf(stderr, "POST %s: %s, status %ld\n", path.c_str(), curl_easy_strerror(rc), status);
    return -1;
  }

 private:
  std::string host_;
  CURL* curl_;
};

}  // namespace

int main(int argc, char** argv) {
  int requests = 40, rounds = 3, busy = 1, busy_ocr = 0, gap_ms = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (a == "--requests") requests = std::max(1, v);
    if (a == "--rounds") rounds = std::max(1, v);
    if (a == "--busy") busy = std::max(0, v);
    if (a == "--busy-ocr") busy_ocr = std::max(0, v);
    if (a == "--gap-ms") gap_ms = std::max(0, v);
  }
  const std::vector<Body> bodies = PickBodies();

  struct Site {
    const char* preread;
    std::unique_ptr<Service> service;
    ApiKey key;
  };
  std::vector<Site> sites;
  for (const char* preread : {"1m", "64k"}) {
    ServiceOptions options;
    options.ip_rate = options.key_rate = 100000;
    options.ip_burst = options.key_burst = 100000;
    options.http2_preread = preread;
    auto service = std::make_unique<Service>(options);
    const ApiKey key = service->CreateKey("ocr", "--rpm 1000000 --daily 10000000");
    sites.push_back({preread, std::move(service), key});
  }

  std::vector<pid_t> neighbours;
  for (int i = 0; i < busy + busy_ocr; ++i) {
    const pid_t pid = fork();
    if (pid == 0 && i < busy) {
      volatile unsigned long n = 0;
      for (;;) n = n + 1;
    }
    if (pid == 0) {
      scanline::PrepareTesseractProcess();
      scanline::OcrEngines engines(scanline::TessdataDir(""));
      scanline::OcrOptions options;
      options.psm = 6;
      options.preprocess = scanline::ParsePreprocess("none");
      const std::string& photo = bodies[2].bytes;  // the ~500 KB receipt
      for (;;) scanline::RecognizeDocument(engines, photo, scanline::ImageLimits{}, options);
    }
    neighbours.push_back(pid);
  }

  // (site, protocol, endpoint, body) -> latencies over every round.
  std::map<std::tuple<int, int, int, int>, std::vector<double>> latencies;
  long failed = 0;
  for (int round = 0; round < rounds; ++round) {
    for (int k = 0; k < static_cast<int>(sites.size()); ++k) {
      const int s = round % 2 == 0 ? k : static_cast<int>(sites.size()) - 1 - k;  // by turns
      const std::string host = "localhost:" + std::to_string(sites[s].service->port());
      for (int http2 = 1; http2 >= 0; --http2) {
        Client client(host, http2 == 1);
        client.Post("/v1/health", "x", nullptr, 405);  // connect and agree on TLS first
        for (int endpoint = 0; endpoint < 2; ++endpoint) {
          for (int b = 0; b < static_cast<int>(bodies.size()); ++b) {
            auto& out = latencies[{s, http2, endpoint, b}];
            for (int r = 0; r < requests; ++r) {
              const double ms =
                  endpoint == 0 ? client.Post("/v1/health", bodies[b].bytes, nullptr, 405)
                                : client.Post("/v1/whoami", bodies[b].bytes, &sites[s].key, 200);
              if (ms < 0) {
                ++failed;
              } else {
                out.push_back(ms);
              }
              std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms));
            }
          }
        }
      }
    }
  }
  for (const pid_t pid : neighbours) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }

  std::printf(
      "machine: %u cores; %d spinning, %d recognising; %d requests x %d rounds per line, one "
      "at a time, %d ms apart\n",
      std::thread::hardware_concurrency(), busy, busy_ocr, requests, rounds, gap_ms);
  std::printf("%-8s %-8s %-8s", "", "", "body");
  for (const Site& site : sites) {
    std::printf("   preread %-3s p50   p90", site.preread);
  }
  std::printf("\n");
  for (int http2 = 1; http2 >= 0; --http2) {
    for (int endpoint = 0; endpoint < 2; ++endpoint) {
      for (int b = 0; b < static_cast<int>(bodies.size()); ++b) {
        std::printf("%-8s %-8s %-8s", http2 ? "HTTP/2" : "HTTP/1.1",
                    endpoint == 0 ? "unsigned" : "signed", bodies[b].label.c_str());
        for (int s = 0; s < static_cast<int>(sites.size()); ++s) {
          const auto& v = latencies[{s, http2, endpoint, b}];
          std::printf("   %17.2f %5.2f", Quantile(v, 0.5), Quantile(v, 0.9));
        }
        std::printf("\n");
      }
    }
  }
  std::printf("failed: %ld\n", failed);
  return failed == 0 ? 0 : 1;
}
