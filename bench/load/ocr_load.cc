// OCR throughput on real receipts, in one run on this machine, same Tesseract settings
// (eng, psm 6, OEM default, OMP_THREAD_LIMIT=1) everywhere, `clients` pages at a time:
//   (c) in-process   one warm TessBaseAPI per thread, a bare loop: decode (Leptonica),
//                    SetImage, Recognize, GetUTF8Text, with Tesseract's line and word images
//                    stored uncompressed and its OpenMP regions run inline as in scanline's
//                    processes (StoreTesseractImagesUncompressed, RunOpenMpRegionsInline,
//                    core/ocr.h); the limit
//   (c0) the same    with Tesseract as installed (those images compressed, the regions in
//                    libgomp's teams): what those two save
//   (d) scanline     RecognizeDocument in-process, one OcrEngines per thread,
//                    preprocess=none: what a worker does, without nginx and FastCGI
//   (b) spawn        `tesseract IMG stdout --psm 6` per image, what most OCR wrappers do
//   (a) service      signed POST /v1/ocr through nginx (TLS) and the pool, preprocess=none,
//                    each client keeping its connection (keep-alive) as API clients do
//       HTTP/1.1     the same (preprocess=none) with the clients speaking HTTP/1.1 instead of
//                    HTTP/2, as many API clients do
//       nice 10      the same (preprocess=none) with the workers at nice 10, as
//                    server.worker_nice = 10 runs them (needs root: the value is taken back)
//       service auto the same with preprocess=auto
// Prints pages per second, p50/p90 per-page latency, and against (c) the difference of the
// p50s and the median over the images of each image's difference (its median latency here
// less its median in (c): each page compared with itself), CPU time per page (of this process for
// the in-process rows, of the pool's workers for the service rows: what the recognising
// processes spent, whatever else ran on the machine), and the pool workers' memory (RSS and
// PSS from /proc/PID/smaps_rollup) after the run. For the service rows it also prints the CPU
// time per page of everything else the service runs on the same cores: this driver (signing,
// TLS, its two clients), nginx, PostgreSQL (all its processes: the request log lands there),
// Redis and the pool's log shipper.
//
//   build/bench/ocr_load [--images 20] [--clients 2] [--passes 2] [--rounds 1]
//                        [--log-flush-ms N]   (the service's log.flush_interval_ms)
//                        [--only c,c0,d,b,a,h1,nice,auto]   (the configurations to run; (c),
//                        the one the others are compared with, always runs)
//
// With --rounds R every configuration runs R times, and its figures are over all its runs. A
// round runs c, a, a HTTP/1.1, a nice, d, c0, b, a auto, the next round the same backwards (ABBA):
// each configuration sits as often before (c) as after it, so a drift in the machine's speed
// reaches each alike. With two rounds or more it also compares each configuration with (c) round by
// round (the p50s, and image by image) and prints the mean of the rounds' differences with its 95 %
// confidence interval: how far the host's noise leaves the figure uncertain, and the 95 %
// interval of the difference of the p50s by the bootstrap over rounds.
#include <leptonica/allheaders.h>
#include <rapidjson/document.h>
#include <sys/resource.h>
#include <tesseract/baseapi.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <opencv2/core.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/image.h"
#include "core/ocr.h"
#include "core/tessdata.h"
#include "tests/integration/testbed.h"

using scanline::testing::ApiKey;
using scanline::testing::Http;
using scanline::testing::HttpResponse;
using scanline::testing::KeepConnectionsInThisThread;
using scanline::testing::ProcStat;
using scanline::testing::ReadFile;
using scanline::testing::Service;
using scanline::testing::ServiceOptions;
using scanline::testing::SignedHttp;
using scanline::testing::UseHttp11InThisThread;

namespace {

using Clock = std::chrono::steady_clock;

// The q-quantile (0..1) of `values`, which it sorts; 0 for none.
double Quantile(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(q * values.size()))];
}

// One configuration's pages, over every round it ran in.
struct Result {
  std::vector<double> latencies;  // ms per page
  std::vector<int> images;        // the image of each latency
  double seconds = 0;             // wall clock of the runs
  double cpu_seconds = 0;         // of the recognising processes
  int pages = 0;
  int failed = 0;
  std::vector<Result> runs;  // each round's own, in order

  void Add(const Result& run) {
    runs.push_back(run);
    latencies.insert(latencies.end(), run.latencies.begin(), run.latencies.end());
    images.insert(images.end(), run.images.begin(), run.images.end());
    seconds += run.seconds;
    cpu_seconds += run.cpu_seconds;
    pages += run.pages;
    failed += run.failed;
  }
  double pages_per_s() const { return seconds > 0 ? pages / seconds : 0; }
  double cpu_ms() const { return pages > 0 ? 1000 * cpu_seconds / pages : 0; }
  double Latency(double q) const {  // the q-quantile of the pages' latencies, ms
    std::vector<double> sorted = latencies;
    return Quantile(sorted, q);
  }
  // The median latency of one image's pages, ms (0 for none).
  double ImageMedian(int image) const {
    std::vector<double> mine;
    for (size_t i = 0; i < latencies.size(); ++i) {
      if (images[i] == image) mine.push_back(latencies[i]);
    }
    return Quantile(mine, 0.5);
  }
};

// Image by image, the median of this configuration's latencies less that of `limit`'s, and
// the median of those differences over the images: what the configuration adds to a page,
// each page compared with itself (the pages' own spread, hundreds of milliseconds between a
// small receipt and a large one, then does not move the figure as it moves the quantiles).
double PairedMedianDifference(const Result& r, const Result& limit, int images) {
  std::vector<double> differences;
  differences.reserve(static_cast<size_t>(images));
  for (int i = 0; i < images; ++i) differences.push_back(r.ImageMedian(i) - limit.ImageMedian(i));
  return Quantile(differences, 0.5);
}

// The mean of `values` and the half-width of its 95 % confidence interval (Student's t), the
// half-width 0 for fewer than two values.
std::pair<double, double> MeanAndInterval(const std::vector<double>& values) {
  const size_t n = values.size();
  if (n == 0) return {0, 0};
  double sum = 0;
  for (const double v : values) sum += v;
  const double mean = sum / static_cast<double>(n);
  if (n < 2) return {mean, 0};
  double squares = 0;
  for (const double v : values) squares += (v - mean) * (v - mean);
  const double sd = std::sqrt(squares / static_cast<double>(n - 1));
  // t(0.975, n - 1) for n - 1 = 1..10, then 2.0 (2.04 at 30, 1.96 in the limit).
  static constexpr double kT[] = {12.71, 4.30, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23};
  const double t = n - 1 <= 10 ? kT[n - 2] : 2.0;
  return {mean, t * sd / std::sqrt(static_cast<double>(n))};
}

// Round by round, a configuration against (c) in the same round: the difference of the p50s
// and the image-by-image difference. A change in the machine's speed between rounds then
// moves both alike, and the spread of the rounds' figures gives a confidence interval.
struct RoundFigures {
  std::vector<double> p50, per_image;
};
RoundFigures ByRound(const Result& r, const Result& limit, int images) {
  RoundFigures f;
  for (size_t i = 0; i < r.runs.size() && i < limit.runs.size(); ++i) {
    f.p50.push_back(r.runs[i].Latency(0.5) - limit.runs[i].Latency(0.5));
    f.per_image.push_back(PairedMedianDifference(r.runs[i], limit.runs[i], images));
  }
  return f;
}

// The 95 % interval of the difference of the p50s (this configuration's less `limit`'s, over
// all rounds) by the bootstrap over rounds: 2000 times, draw as many rounds as ran, with
// replacement and the same rounds for both, pool their pages and take the difference of the
// p50s; the interval runs from the 2.5th to the 97.5th percentile of those differences. A
// round's pages stay together, so the noise between one round's blocks and the next's counts.
std::pair<double, double> BootstrapP50Interval(const Result& r, const Result& limit) {
  const size_t rounds = std::min(r.runs.size(), limit.runs.size());
  if (rounds < 2) return {0, 0};
  std::mt19937 random(20261201);  // fixed: the same run gives the same interval
  std::uniform_int_distribution<size_t> pick(0, rounds - 1);
  std::vector<double> differences, mine, theirs;
  for (int draw = 0; draw < 2000; ++draw) {
    mine.clear();
    theirs.clear();
    for (size_t k = 0; k < rounds; ++k) {
      const size_t round = pick(random);
      const auto& a = r.runs[round].latencies;
      const auto& c = limit.runs[round].latencies;
      mine.insert(mine.end(), a.begin(), a.end());
      theirs.insert(theirs.end(), c.begin(), c.end());
    }
    differences.push_back(Quantile(mine, 0.5) - Quantile(theirs, 0.5));
  }
  return {Quantile(differences, 0.025), Quantile(differences, 0.975)};
}

// CPU seconds (user + system) this process has used.
double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// CPU seconds (user + system) process `pid` has used, from /proc/PID/stat.
double PidCpuSeconds(int pid) {
  const std::vector<std::string> stat = ProcStat(pid);
  if (stat.size() <= 15) return 0;
  const double ticks = std::atof(stat[14].c_str()) + std::atof(stat[15].c_str());  // utime, stime
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU seconds of `pid` and of its children (a postmaster's backends, nginx's workers).
double TreeCpuSeconds(int pid) {
  if (pid <= 0) return 0;
  double seconds = PidCpuSeconds(pid);
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  for (int child; in >> child;) seconds += PidCpuSeconds(child);
  return seconds;
}

// CPU seconds so far of what the service runs beside its workers.
struct Neighbours {
  double driver = 0, nginx = 0, postgres = 0, redis = 0, shipper = 0;
  int pages = 0;

  static Neighbours Now(Service& service, int shipper_pid) {
    Neighbours n;
    n.driver = ProcessCpuSeconds();
    n.nginx = TreeCpuSeconds(service.nginx().pid());
    n.postgres = TreeCpuSeconds(service.postgres().pid());
    n.redis = PidCpuSeconds(service.redis().pid());
    n.shipper = PidCpuSeconds(shipper_pid);
    return n;
  }
  // Adds what was spent between `before` and `after` over `pages` pages.
  void Add(const Neighbours& before, const Neighbours& after, int more_pages) {
    driver += after.driver - before.driver;
    nginx += after.nginx - before.nginx;
    postgres += after.postgres - before.postgres;
    redis += after.redis - before.redis;
    shipper += after.shipper - before.shipper;
    pages += more_pages;
  }
  void Print() const {
    if (pages == 0) return;
    const double k = 1000.0 / pages;
    std::printf(
        "%-28s CPU ms per page beside the workers: driver %.1f, nginx %.1f, "
        "PostgreSQL %.1f, Redis %.1f, log shipper %.1f\n",
        "", driver * k, nginx * k, postgres * k, redis * k, shipper * k);
  }
};

// Runs `one(image_index, worker)` over every image `passes` times with `clients` threads.
// `cpu` tells the CPU seconds used so far by whatever recognises the pages.
Result Drive(int images, int passes, int clients,
             const std::function<bool(int image, int thread)>& one,
             const std::function<double()>& cpu = ProcessCpuSeconds) {
  std::atomic<int> next{0};
  std::mutex mu;
  std::vector<double> latencies;
  std::vector<int> latency_images;
  std::atomic<int> failed{0};
  const int total = images * passes;
  const double cpu_start = cpu();
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      for (int i = next++; i < total; i = next++) {
        const auto s = Clock::now();
        if (!one(i % images, t)) ++failed;
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - s).count();
        std::lock_guard<std::mutex> lock(mu);
        latencies.push_back(ms);
        latency_images.push_back(i % images);
      }
    });
  }
  for (auto& t : threads) t.join();
  Result r;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.cpu_seconds = cpu() - cpu_start;
  r.latencies = std::move(latencies);
  r.images = std::move(latency_images);
  r.pages = total;
  r.failed = failed;
  return r;
}

void Print(const char* name, const Result& r, int images, const Result* limit = nullptr) {
  std::printf("%-28s %8.2f %9.0f %9.0f %9.0f %6d", name, r.pages_per_s(), r.Latency(0.5),
              r.Latency(0.9), r.cpu_ms(), r.failed);
  if (limit) {
    std::printf("   %.2fx of (c), p50 %+.0f ms, per image %+.1f ms",
                r.pages_per_s() / limit->pages_per_s(), r.Latency(0.5) - limit->Latency(0.5),
                PairedMedianDifference(r, *limit, images));
    if (r.runs.size() >= 2) {
      const RoundFigures f = ByRound(r, *limit, images);
      const auto [p50, p50_ci] = MeanAndInterval(f.p50);
      const auto [image, image_ci] = MeanAndInterval(f.per_image);
      const auto [low, high] = BootstrapP50Interval(r, *limit);
      std::printf("; p50 difference 95 %% interval %+.0f to %+.0f ms", low, high);
      std::printf("; by round p50 %+.1f ± %.1f ms, per image %+.1f ± %.1f ms", p50, p50_ci, image,
                  image_ci);
    }
  }
  std::printf("\n");
  std::fflush(stdout);
}

// One request through the service, as the client saw it.
struct ServiceSample {
  std::string request_id;
  double client_ms = 0;  // from sending the request to reading the whole answer
  double total_ms = 0;   // the worker's "total" stage: decode and recognition
};

// A logged request, from the request log: the worker's own time, from accepting the request
// to finishing its answer, and of that its signature checks (the `auth` stage).
struct WorkerTimes {
  double latency_ms = 0;
  double auth_ms = 0;
};

// Each logged request's times by request id. The log reaches PostgreSQL in batches: this
// waits until two reads a second apart find the same number of rows.
std::map<std::string, WorkerTimes> WorkerLatencies(Service& service) {
  std::string rows;
  for (int attempt = 0; attempt < 10; ++attempt) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    std::string again = service.postgres().Query(
        "SELECT request_id || ' ' || latency_ms || ' ' || coalesce(stage_timings->>'auth', '0') "
        "FROM ocr_request_logs WHERE endpoint = '/v1/ocr' AND status = 200");
    if (!again.empty() && again.size() == rows.size()) break;
    rows = std::move(again);
  }
  std::map<std::string, WorkerTimes> times;
  std::istringstream in(rows);
  std::string id;
  WorkerTimes t;
  while (in >> id >> t.latency_ms >> t.auth_ms) times[id] = t;
  return times;
}

// kB of a /proc/PID/smaps_rollup field.
long SmapsField(int pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  scanline::PrepareTesseractProcess();
  // OpenCV's thread pool off, as in a worker (LprEngines turns it off in every worker): (d)
  // then runs on its own thread what a worker runs, without helpers on the other core.
  cv::setNumThreads(0);
  int images = 20, clients = 2, passes = 2, rounds = 1, log_flush_ms = 0;
  const std::vector<std::string> names = {"c", "a", "h1", "nice", "d", "c0", "b", "auto"};
  std::set<std::string> chosen(names.begin(), names.end());
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (a == "--only") {
      chosen = {"c"};
      std::stringstream list(argv[i + 1]);
      for (std::string name; std::getline(list, name, ',');) {
        if (std::find(names.begin(), names.end(), name) == names.end()) {
          std::string known;
          for (const std::string& n : names) known += (known.empty() ? "" : ",") + n;
          std::fprintf(stderr, "ocr_load: --only: no configuration '%s' (%s)\n", name.c_str(),
                       known.c_str());
          return 2;
        }
        chosen.insert(name);
      }
    } else if (a == "--images")
      images = v;
    else if (a == "--clients")
      clients = v;
    else if (a == "--passes")
      passes = v;
    else if (a == "--rounds")
      rounds = std::max(1, v);
    else if (a == "--log-flush-ms")
      log_flush_ms = std::max(0, v);
  }
  const std::string dir = std::string(SCANLINE_SOURCE_DIR) + "/../shared/data/receipts/img";
  std::vector<std::string> paths;
  for (const auto& e : std::filesystem::directory_iterator(dir)) paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  paths.resize(std::min<size_t>(paths.size(), static_cast<size_t>(images)));
  images = static_cast<int>(paths.size());
  std::vector<std::string> bytes;
  for (const auto& p : paths) bytes.push_back(ReadFile(p));
  const std::string tessdata = scanline::TessdataDir("");

  // (c) one warm TessBaseAPI per thread.
  std::vector<std::unique_ptr<tesseract::TessBaseAPI>> apis;
  for (int t = 0; t < clients; ++t) {
    apis.push_back(std::make_unique<tesseract::TessBaseAPI>());
    apis.back()->Init(tessdata.c_str(), "eng", tesseract::OEM_DEFAULT);
    apis.back()->SetVariable("debug_file", "/dev/null");
  }
  auto bare = [&](int i, int t) {
    tesseract::TessBaseAPI& api = *apis[static_cast<size_t>(t)];
    const std::string& b = bytes[static_cast<size_t>(i)];
    Pix* pix = pixReadMem(reinterpret_cast<const l_uint8*>(b.data()), b.size());
    if (!pix) return false;
    api.SetPageSegMode(tesseract::PSM_SINGLE_BLOCK);
    api.SetImage(pix);
    scanline::PrepareTesseractThread();  // one OpenMP thread, as in a worker
    const bool ok = api.Recognize(nullptr) == 0;
    char* text = api.GetUTF8Text();
    delete[] text;
    api.Clear();
    pixDestroy(&pix);
    return ok;
  };

  // (d) scanline's own code in-process: decode, checks, Recognize with its word iteration.
  std::vector<std::unique_ptr<scanline::OcrEngines>> engines;
  for (int t = 0; t < clients; ++t) {
    engines.push_back(std::make_unique<scanline::OcrEngines>(tessdata));
    engines.back()->Preload("eng");
  }
  scanline::OcrOptions own_options;
  own_options.psm = 6;
  own_options.preprocess = scanline::ParsePreprocess("none");
  const scanline::ImageLimits limits;
  auto own = [&](int i, int t) {
    const scanline::OcrDocument document = scanline::RecognizeDocument(
        *engines[static_cast<size_t>(t)], bytes[static_cast<size_t>(i)], limits, own_options);
    return !document.pages.empty();
  };

  // (b) a process per image.
  auto spawn = [&](int i, int) {
    const std::string cmd = "OMP_THREAD_LIMIT=1 tesseract '" + paths[static_cast<size_t>(i)] +
                            "' stdout --psm 6 >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
  };

  // (a) through nginx and the pool.
  ServiceOptions options;
  options.workers = clients;
  options.ip_rate = options.key_rate = 100000;
  options.ip_burst = options.key_burst = 100000;
  options.log_flush_interval_ms = log_flush_ms;
  Service service(options);
  const ApiKey key = service.CreateKey("ocr", "--rpm 1000000 --daily 10000000");
  std::atomic<int> sequence{0};
  // Per request: its id, the client's latency and the worker's own "total" timing (decode and
  // recognition). The client's latency less that total is what TLS, nginx, FastCGI, the
  // signature checks, the log and the JSON add around recognition; the request log's
  // latency_ms (the worker's time from accepting the connection to finishing the response)
  // splits it into the part in the worker and the part outside it.
  std::mutex outside_mu;
  std::vector<ServiceSample>* samples = nullptr;
  auto via_service = [&](const std::string& preprocess, bool http11 = false) {
    return [&, preprocess, http11](int i, int) {
      // Each request signs anew (a signature is accepted once): the deadline differs.
      const std::string url = service.base_url() + "/v1/ocr?psm=6&preprocess=" + preprocess +
                              "&deadline_ms=" + std::to_string(60000 - ++sequence);
      KeepConnectionsInThisThread(true);  // as an API client would
      UseHttp11InThisThread(http11);
      const auto start = Clock::now();
      HttpResponse r =
          SignedHttp("POST", url, key, bytes[static_cast<size_t>(i)], {"Content-Type: image/jpeg"});
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      if (r.status != 200) {
        std::fprintf(stderr, "%ld %s\n", r.status, r.body.c_str());
        return false;
      }
      rapidjson::Document result;
      result.Parse(r.body.c_str());
      if (samples != nullptr && result.IsObject() && result.HasMember("timings_ms")) {
        std::lock_guard<std::mutex> lock(outside_mu);
        samples->push_back(
            {r.headers["x-request-id"], ms, result["timings_ms"]["total"].GetDouble()});
      }
      return true;
    };
  };
  // One page per engine and per worker first: no configuration pays for a first use.
  Drive(1, clients, clients, bare);
  Drive(1, clients, clients, own);
  Drive(1, clients, clients, via_service("none"));
  std::vector<int> workers;
  HttpResponse status = Http("GET", service.base_url() + "/status");
  rapidjson::Document doc;
  doc.Parse(status.body.c_str());
  if (doc.IsObject() && doc.HasMember("workers")) {
    for (const auto& w : doc["workers"].GetArray()) workers.push_back(w["pid"].GetInt());
  }
  const int shipper = service.ShipperPid();
  // (a) with server.worker_nice = 10, set here on the running workers (what the setting
  // does in each worker) and taken back after: that needs root or CAP_SYS_NICE.
  auto set_workers_nice = [&workers](int nice) {
    bool ok = true;
    for (const int pid : workers) ok &= setpriority(PRIO_PROCESS, pid, nice) == 0;
    return ok;
  };
  const bool renice = set_workers_nice(10) && set_workers_nice(0);
  if (!renice) set_workers_nice(0);
  auto workers_cpu = [&workers] {
    double seconds = 0;
    for (const int pid : workers) seconds += PidCpuSeconds(pid);
    return seconds;
  };

  // Every configuration once per round (the order below), so that a change in the machine's speed
  // (its host's load) reaches them all alike.
  std::printf("machine: %u cores; %d receipts x %d passes x %d rounds, %d at a time; eng, psm 6",
              std::thread::hardware_concurrency(), images, passes, rounds, clients);
  if (log_flush_ms > 0) std::printf("; log.flush_interval_ms %d", log_flush_ms);
  std::printf("\n");
  Result limit, installed, scanline_own, spawned;
  // A configuration through the service: its pages, the time around the worker's stages, and
  // what the service's other processes spent meanwhile.
  struct ServiceRow {
    Result result;
    std::vector<ServiceSample> samples;
    Neighbours beside;
  };
  ServiceRow none, http11, niced, autop;
  auto through_service = [&](ServiceRow& row, const std::string& preprocess, bool h1 = false) {
    samples = &row.samples;
    const Neighbours before = Neighbours::Now(service, shipper);
    row.result.Add(Drive(images, passes, clients, via_service(preprocess, h1), workers_cpu));
    row.beside.Add(before, Neighbours::Now(service, shipper), images * passes);
    samples = nullptr;
  };
  // A round's steps: (c) first, then the service without preprocessing beside it, the rest
  // further off. Odd rounds run them backwards, so every configuration is as often before (c)
  // as after it, at the same distance: a steady drift in the host's speed then cancels in the
  // round-by-round means instead of favouring whichever runs first. `names` names them, in
  // the same order.
  const std::vector<std::function<void()>> steps = {
      [&] { limit.Add(Drive(images, passes, clients, bare)); },
      [&] { through_service(none, "none"); },
      [&] { through_service(http11, "none", true); },
      [&] {
        if (!renice) return;
        set_workers_nice(10);
        through_service(niced, "none");
        set_workers_nice(0);
      },
      [&] { scanline_own.Add(Drive(images, passes, clients, own)); },
      [&] {
        scanline::StoreTesseractImagesUncompressed(false);  // Tesseract as installed
        scanline::RunOpenMpRegionsInline(false);
        installed.Add(Drive(images, passes, clients, bare));
        scanline::StoreTesseractImagesUncompressed(true);
        scanline::RunOpenMpRegionsInline(true);
      },
      [&] { spawned.Add(Drive(images, passes, clients, spawn)); },
      [&] { through_service(autop, "auto"); },
  };
  for (int round = 0; round < rounds; ++round) {
    for (size_t k = 0; k < steps.size(); ++k) {
      const size_t step = round % 2 == 0 ? k : steps.size() - 1 - k;  // names[step] is its name
      if (chosen.count(names[step]) > 0) steps[step]();
    }
  }
  for (auto& api : apis) api->End();

  const std::map<std::string, WorkerTimes> worker_ms = WorkerLatencies(service);
  std::printf("%-28s %8s %9s %9s %9s %6s\n", "", "pages/s", "p50 ms", "p90 ms", "CPU ms", "failed");
  auto print_service = [&](const char* name, ServiceRow& row) {
    Print(name, row.result, images, &limit);
    std::vector<double> around, in_worker, auth, outside;
    for (const ServiceSample& s : row.samples) {
      around.push_back(s.client_ms - s.total_ms);
      const auto logged = worker_ms.find(s.request_id);
      if (logged == worker_ms.end()) continue;
      in_worker.push_back(logged->second.latency_ms - s.total_ms);
      auth.push_back(logged->second.auth_ms);
      outside.push_back(s.client_ms - logged->second.latency_ms);
    }
    if (!around.empty()) {
      std::printf("%-28s p50 %.1f ms, p90 %.1f ms around the worker's own stages", "",
                  Quantile(around, 0.5), Quantile(around, 0.9));
      if (!in_worker.empty()) {
        std::printf(
            " (%zu logged: p50 %.1f ms in the worker, of which %.2f ms (p90 %.2f) checking the "
            "signature, %.1f ms outside it)",
            in_worker.size(), Quantile(in_worker, 0.5), Quantile(auth, 0.5), Quantile(auth, 0.9),
            Quantile(outside, 0.5));
      }
      std::printf("\n");
    }
    row.beside.Print();
  };
  Print("(c) in-process, warm API", limit, images);
  if (chosen.count("c0") > 0) Print("(c0) the same, as installed", installed, images, &limit);
  if (chosen.count("d") > 0) Print("(d) scanline in-process", scanline_own, images, &limit);
  if (chosen.count("b") > 0) Print("(b) tesseract per image", spawned, images, &limit);
  if (chosen.count("a") > 0) print_service("(a) service, preprocess=none", none);
  if (chosen.count("h1") > 0) print_service("(a) the same, over HTTP/1.1", http11);
  if (chosen.count("nice") > 0) {
    if (renice) {
      print_service("(a) the same, workers nice 10", niced);
    } else {
      std::printf("(a) with workers at nice 10: skipped (taking the nice value back needs root)\n");
    }
  }
  if (chosen.count("auto") > 0) print_service("(a) service, preprocess=auto", autop);

  for (const int pid : workers) {
    std::printf("worker %d: RSS %ld MiB, PSS %ld MiB\n", pid, SmapsField(pid, "Rss") / 1024,
                SmapsField(pid, "Pss") / 1024);
  }
  return 0;
}
