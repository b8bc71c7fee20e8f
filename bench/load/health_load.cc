// Load benchmark of the pool against its floor, in one run on this machine, all through the
// same nginx over TLS with wrk:
//   nginx alone      a location that returns 200 itself
//   floor            a minimal libfcgi responder (bench/load/fcgi_floor.cc), as many
//                    processes as the pool has workers, libfcgi defaults
//   floor, no poll   the same with LIBFCGI_OS_CLOSE_POLL_TIMEOUT=0
//   scanline         GET /v1/health through the pool (real PostgreSQL and Redis behind it)
// Prints requests per second and p50/p99 latency for each.
//
//   build/bench/health_load [--workers 2] [--connections 16] [--seconds 5] [--rounds 1]
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <regex>
#include <string>
#include <thread>

#include "tests/integration/testbed.h"

using scanline::testing::FreePort;
using scanline::testing::Process;
using scanline::testing::Service;
using scanline::testing::ServiceOptions;
using scanline::testing::Shell;

namespace {

struct Result {
  double rps = 0;
  std::string p50, p99;
  long errors = 0;
};

Result Wrk(const std::string& url, int connections, int seconds) {
  std::string out;
  Shell("wrk -t1 -c" + std::to_string(connections) + " -d" + std::to_string(seconds) +
            "s --latency " + url,
        &out);
  Result r;
  std::smatch m;
  if (std::regex_search(out, m, std::regex(R"(Requests/sec:\s+([0-9.]+))"))) {
    r.rps = std::stod(m[1]);
  }
  if (std::regex_search(out, m, std::regex(R"(\n\s+50%\s+(\S+))"))) r.p50 = m[1];
  if (std::regex_search(out, m, std::regex(R"(\n\s+99%\s+(\S+))"))) r.p99 = m[1];
  if (std::regex_search(out, m, std::regex(R"(Non-2xx or 3xx responses:\s+(\d+))"))) {
    r.errors = std::stol(m[1]);
  }
  if (r.rps == 0) std::cerr << out;
  return r;
}

std::string ServerBlock(int port, const std::string& body) {
  return "server {\n  listen 127.0.0.1:" + std::to_string(port) +
         " ssl http2;\n  ssl_certificate @DIR@/tls/cert.pem;\n"
         "  ssl_certificate_key @DIR@/tls/key.pem;\n  ssl_protocols TLSv1.2 TLSv1.3;\n"
         "  ssl_session_cache shared:bench" +
         std::to_string(port) + ":1m;\n" + body + "}\n";
}

}  // namespace

int main(int argc, char** argv) {
  int workers = 2, connections = 16, seconds = 5, rounds = 1;
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
  }
  int nginx_port = FreePort();
  int floor_port = FreePort();
  int floor_nopoll_port = FreePort();
  std::string floor_sock = "/tmp/scanline-bench-floor-" + std::to_string(getpid()) + ".sock";
  std::string floor_nopoll_sock = floor_sock + ".nopoll";

  ServiceOptions options;
  options.workers = workers;
  options.extra_nginx = ServerBlock(nginx_port,
                                    "  location / { default_type application/json; return 200 "
                                    "'{\"status\":\"ok\"}\\n'; }\n") +
                        ServerBlock(floor_port,
                                    "  location / { include @DIR@/nginx/fastcgi_params; "
                                    "fastcgi_pass unix:" +
                                        floor_sock + "; }\n") +
                        ServerBlock(floor_nopoll_port,
                                    "  location / { include @DIR@/nginx/fastcgi_params; "
                                    "fastcgi_pass unix:" +
                                        floor_nopoll_sock + "; }\n");
  std::string floor_bin = std::string(SCANLINE_BINARY_DIR) + "/bench/fcgi_floor";
  Process floor, floor_nopoll;
  floor.Start({floor_bin, floor_sock, std::to_string(workers)}, "/dev/null");
  floor_nopoll.Start({floor_bin, floor_nopoll_sock, std::to_string(workers)}, "/dev/null",
                     {{"LIBFCGI_OS_CLOSE_POLL_TIMEOUT", "0"}});
  Service service(options);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  std::printf("machine: %u cores; wrk -t1 -c%d -d%ds over TLS (HTTP/1.1), %d pool workers\n",
              std::thread::hardware_concurrency(), connections, seconds, workers);
  std::printf("%-34s %10s %9s %9s %7s\n", "target", "req/s", "p50", "p99", "non-2xx");
  for (int round = 0; round < rounds; ++round) {
    struct Target {
      std::string name, url;
    } targets[] = {
        {"nginx return 200", "https://127.0.0.1:" + std::to_string(nginx_port) + "/"},
        {"libfcgi floor (defaults)",
         "https://127.0.0.1:" + std::to_string(floor_port) + "/v1/health"},
        {"libfcgi floor (close poll 0)",
         "https://127.0.0.1:" + std::to_string(floor_nopoll_port) + "/v1/health"},
        {"scanline GET /v1/health",
         "https://127.0.0.1:" + std::to_string(service.port()) + "/v1/health"},
    };
    for (const Target& t : targets) {
      Result r = Wrk(t.url, connections, seconds);
      std::printf("%-34s %10.0f %9s %9s %7ld\n", t.name.c_str(), r.rps, r.p50.c_str(),
                  r.p99.c_str(), r.errors);
      std::fflush(stdout);
    }
  }
  floor.Stop(SIGTERM);
  floor_nopoll.Stop(SIGTERM);
  unlink(floor_sock.c_str());
  unlink(floor_nopoll_sock.c_str());
  return 0;
}
