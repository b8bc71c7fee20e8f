// Worker process (see fcgi/worker.h).
//
// Waiting: the listening socket is non-blocking and sits in an epoll set (EPOLLEXCLUSIVE, so
// one connection wakes one idle worker) beside an eventfd that the SIGTERM handler writes.
// A stop therefore never waits on accept(), and libfcgi is only asked to accept when a
// connection is there; a worker that loses the race gets EAGAIN and waits again.
//
// Closing: libfcgi 2.4.2 shuts down writing after each response and polls up to 2 s for the
// web server to close first (LIBFCGI_OS_CLOSE_POLL_TIMEOUT). The poll guards against
// resetting a peer that still sends; we always read the request body to its end before
// answering, so nothing is left in flight and the poll is set to 0.
#include "fcgi/worker.h"

#include <fcgiapp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>

#include "core/api_keys.h"
#include "core/crypto.h"
#include "core/database.h"
#include "core/llm_client.h"
#include "core/log.h"
#include "core/log_spool.h"
#include "core/lpr.h"
#include "core/metrics.h"
#include "core/ocr.h"
#include "core/redis.h"
#include "core/replay.h"
#include "core/template_store.h"
#include "core/tessdata.h"
#include "fcgi/dispatch.h"
#include "fcgi/router.h"
#include "fcgi/scoreboard.h"

namespace scanline {
namespace {

volatile sig_atomic_t g_stop = 0;
int g_wake_fd = -1;

// What the hard-timeout handler needs, kept current by the request loop.
volatile sig_atomic_t g_in_request = 0;
volatile sig_atomic_t g_response_started = 0;
int g_ipc_fd = -1;
char g_timeout_reply[1024];
size_t g_timeout_reply_len = 0;

void OnStop(int) {
  g_stop = 1;
  uint64_t one = 1;
  ssize_t ignored = write(g_wake_fd, &one, sizeof one);
  (void)ignored;
}

void OnHardTimeout(int) {
  if (g_in_request && !g_response_started && g_ipc_fd >= 0 && g_timeout_reply_len > 0) {
    ssize_t ignored = write(g_ipc_fd, g_timeout_reply, g_timeout_reply_len);
    (void)ignored;
  }
  _exit(kExitTimeout);
}

void InstallSignals() {
  struct sigaction sa {};
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sa.sa_handler = OnStop;
  sigaction(SIGTERM, &sa, nullptr);
  sa.sa_handler = OnHardTimeout;
  sigaction(SIGUSR2, &sa, nullptr);
  sa.sa_handler = SIG_IGN;
  // SIGINT reaches the whole process group on Ctrl-C; the master turns it into a graceful
  // stop, so the worker finishes its request instead of dying with it.
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  sigaction(SIGPIPE, &sa, nullptr);
  sigaction(SIGUSR1, &sa, nullptr);  // libfcgi would install its own otherwise
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
}

// FastCGI record header (FastCGI 1.0 specification, section 3.3).
void AppendRecordHeader(std::string& out, unsigned char type, int request_id, size_t length) {
  out.push_back(1);  // FCGI_VERSION_1
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>((request_id >> 8) & 0xff));
  out.push_back(static_cast<char>(request_id & 0xff));
  out.push_back(static_cast<char>((length >> 8) & 0xff));
  out.push_back(static_cast<char>(length & 0xff));
  out.push_back(0);  // padding
  out.push_back(0);  // reserved
}

// Pre-renders the bytes the hard-timeout handler writes: a 504 problem+json on FCGI_STDOUT,
// the end of the stream, and FCGI_END_REQUEST. Built per request because it carries the
// request id; the handler itself may only call write().
void PrepareTimeoutReply(int fcgi_request_id, const std::string& request_id) {
  // The same body ProblemResponse renders for kDeadlineExceeded, written out by hand: this
  // runs for every request, so it must cost next to nothing. An id with characters JSON or
  // a header would need escaped is left out.
  bool plain =
      request_id.size() <= 64 && std::all_of(request_id.begin(), request_id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      });
  std::string id = plain ? request_id : "";
  std::string body =
      "{\"type\":\"https://scanline.dev/problems/deadline_exceeded\",\"title\":\"Deadline "
      "exceeded\",\"status\":504,\"code\":\"deadline_exceeded\",\"detail\":\"the request ran "
      "past the server's hard time limit and was stopped\",\"request_id\":\"" +
      id + "\"}";
  std::string payload =
      "Status: 504 Gateway Timeout\r\nContent-Type: application/problem+json\r\nX-Request-Id: " +
      id + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  std::string out;
  out.reserve(payload.size() + 32);
  AppendRecordHeader(out, 6, fcgi_request_id, payload.size());  // FCGI_STDOUT
  out += payload;
  AppendRecordHeader(out, 6, fcgi_request_id, 0);  // end of FCGI_STDOUT
  AppendRecordHeader(out, 3, fcgi_request_id, 8);  // FCGI_END_REQUEST
  out.append("\0\0\0\0\0\0\0\0", 8);               // app status 0, FCGI_REQUEST_COMPLETE
  if (out.size() > sizeof g_timeout_reply) {
    g_timeout_reply_len = 0;
    return;
  }
  std::copy_n(out.data(), out.size(), g_timeout_reply);
  g_timeout_reply_len = out.size();
}

constexpr std::chrono::milliseconds kRssEvery{100};

int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return static_cast<int64_t>(pages_resident) * sysconf(_SC_PAGESIZE);
}

std::string MakeRequestId() {
  static uint64_t counter = 0;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x%08x%016llx", static_cast<unsigned>(getpid()),
                static_cast<unsigned>(NowUs() & 0xffffffff),
                static_cast<unsigned long long>(++counter));
  return buf;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

// CGI/1.1 (RFC 3875) parameters into a Request. HTTP_FOO_BAR becomes header "foo-bar";
// CONTENT_TYPE and CONTENT_LENGTH are headers too (SigV4 may sign them).
Request ReadRequestHead(FCGX_Request& fcgi) {
  Request request;
  auto param = [&](const char* name) -> std::string {
    const char* v = FCGX_GetParam(name, fcgi.envp);
    return v ? v : "";
  };
  request.method = param("REQUEST_METHOD");
  std::string uri = param("REQUEST_URI");
  size_t q = uri.find('?');
  request.path = uri.substr(0, q);
  request.query = q == std::string::npos ? param("QUERY_STRING") : uri.substr(q + 1);
  request.peer = param("REMOTE_ADDR");
  request.request_id = param("REQUEST_ID");
  if (request.request_id.empty()) request.request_id = MakeRequestId();
  request.scheme = param("HTTPS").empty() ? "http" : "https";
  for (char** e = fcgi.envp; e && *e; ++e) {
    std::string_view entry(*e);
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = entry.substr(0, eq);
    std::string_view value = entry.substr(eq + 1);
    std::string header;
    if (name.starts_with("HTTP_")) {
      // nginx passes every request header as HTTP_*, Content-Type and Content-Length too,
      // beside the CGI variables: taking both would double them (and break a signature
      // over content-type).
      if (name == "HTTP_CONTENT_TYPE" || name == "HTTP_CONTENT_LENGTH") continue;
      name.remove_prefix(5);
    } else if (name != "CONTENT_TYPE" && name != "CONTENT_LENGTH") {
      continue;
    }
    if (value.empty() && name == "CONTENT_LENGTH") continue;
    if (value.empty() && name == "CONTENT_TYPE") continue;
    header.reserve(name.size());
    for (char c : name) {
      header.push_back(c == '_' ? '-' : static_cast<char>(std::tolower(c)));
    }
    request.headers.emplace_back(std::move(header), std::string(value));
  }
  return request;
}

// Reads the body to its end, hashing it (SHA-256) piece by piece while nginx sends the rest:
// the signature check and a raw image's sha256 then need no pass of their own. Returns false
// when it is larger than `limit` (the rest is still read and dropped, so nothing is left in
// flight when the connection closes).
bool ReadBody(FCGX_Request& fcgi, Request& request, int64_t limit) {
  const char* length_param = FCGX_GetParam("CONTENT_LENGTH", fcgi.envp);
  int64_t declared = length_param ? std::atoll(length_param) : 0;
  if (declared > 0 && declared <= limit) request.body.reserve(static_cast<size_t>(declared));
  std::array<char, 65536> chunk;
  std::optional<Sha256Stream> digest;  // made at the first byte: most GETs have no body
  bool fits = true;
  while (true) {
    int n = FCGX_GetStr(chunk.data(), static_cast<int>(chunk.size()), fcgi.in);
    if (n <= 0) break;
    if (fits && static_cast<int64_t>(request.body.size()) + n <= limit) {
      request.body.append(chunk.data(), static_cast<size_t>(n));
      if (!digest) digest.emplace();
      digest->Update({chunk.data(), static_cast<size_t>(n)});
    } else {
      fits = false;
      request.body.clear();
    }
  }
  if (fits && digest) request.body_sha256 = LowerHex(digest->Finish());
  return fits;
}

void WriteResponse(FCGX_Request& fcgi, const Response& response) {
  std::string head;
  head.reserve(256);
  head += "Status: " + std::to_string(response.status) + " ";
  head += ReasonPhrase(response.status);
  head += "\r\nContent-Type: " + response.content_type;
  head += "\r\nContent-Length: " + std::to_string(response.body.size()) + "\r\n";
  for (const auto& [name, value] : response.headers) {
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  head += "\r\n";
  g_response_started = 1;
  FCGX_PutStr(head.data(), static_cast<int>(head.size()), fcgi.out);
  if (!response.body.empty()) {
    FCGX_PutStr(response.body.data(), static_cast<int>(response.body.size()), fcgi.out);
  }
}

Response RefuseUnlogged(const Request& request, RequestLogRecord& log, const char* why) {
  Error error(ErrorCode::kServiceUnavailable, why);
  Response response = ProblemResponse(error, request.request_id);
  response.SetHeader("X-Request-Id", request.request_id);
  response.SetHeader("Retry-After", "5");
  log.method = request.method;
  log.endpoint = request.path;
  log.status = response.status;
  log.error_code = std::string(CodeName(error.code()));
  return response;
}

// Raises the worker's nice value by `by` (server.worker_nice), up to 19. Recognising a page
// holds a core for hundreds of milliseconds; at a higher nice value the short steps that
// nginx, Redis and PostgreSQL take for the other requests in flight get the core first when
// they wake, instead of waiting for the worker's time slice to end.
void LowerCpuPriority(int by) {
  if (by <= 0) return;
  errno = 0;
  const int now = getpriority(PRIO_PROCESS, 0);
  if ((now == -1 && errno != 0) || setpriority(PRIO_PROCESS, 0, std::min(19, now + by)) != 0) {
    LogWarning("server.worker_nice: cannot change the nice value: " +
               std::string(std::strerror(errno)));
  }
}

// True when a connection waits in the backlog of listening socket `fd`.
bool ListenerHasConnection(int fd) {
  pollfd pfd{fd, POLLIN, 0};
  return poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN) != 0;
}

}  // namespace

int RunWorker(const WorkerSetup& setup) {
  const Config& config = *setup.config;
  Scoreboard& scoreboard = *setup.scoreboard;
  ScoreboardSlot& slot = scoreboard.slot(setup.slot);

  LowerCpuPriority(config.server.worker_nice);
  g_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  InstallSignals();
  setenv("LIBFCGI_OS_CLOSE_POLL_TIMEOUT", "0", 1);
  if (FCGX_Init() != 0) {
    LogError("FCGX_Init failed");
    return 1;
  }
  SetProcessMetrics(&slot.metrics);

  Database database(config.postgres.conninfo, config.postgres.connect_timeout_s);
  RedisClient redis(config.redis.address, config.redis.timeout_ms, config.redis.key_prefix);
  Services services;
  services.config = &config;
  services.started = std::chrono::system_clock::time_point(
      std::chrono::microseconds(scoreboard.header().started_at_us));
  services.database = &database;
  services.redis = &redis;
  services.pool_status = [&scoreboard] { return scoreboard.Snapshot(); };
  services.pool_metrics = [&scoreboard] { return scoreboard.RenderMetrics(); };
  // Warm Tesseract engines for the worker's life (ocr.preload_langs initialised now). A
  // worker that cannot start them still serves the other endpoints; OCR then answers 503.
  std::unique_ptr<OcrEngines> ocr;
  try {
    ocr = MakeOcrEngines(config.ocr);
    services.ocr = ocr.get();
  } catch (const Error& e) {
    LogError("OCR engines: " + std::string(e.detail()) + " " + e.internal());
  }
  // Signed requests: keys sealed under the master key, signatures remembered for the whole
  // window in which they could be replayed (2 x the allowed skew).
  std::unique_ptr<MasterKey> master_key;
  std::unique_ptr<ApiKeyStore> api_keys;
  try {
    master_key = std::make_unique<MasterKey>(LoadMasterKey(MasterKeyPath(config.auth)));
    api_keys = std::make_unique<ApiKeyStore>(database, *master_key, config.auth.key_cache_ms,
                                             config.auth.key_grace_s * 1000);
  } catch (const Error& e) {
    LogError("API keys unavailable: " + std::string(e.detail()) + " " + e.internal() +
             "; signed requests will get 503");
  }
  ReplayGuard replay(redis, database, 2 * int64_t{config.auth.max_skew_s},
                     &scoreboard.header().replay_fallback_until);
  if (api_keys) {
    services.api_keys = api_keys.get();
    services.replay = &replay;
  }
  std::unique_ptr<LprEngines> lpr;
  try {
    lpr = std::make_unique<LprEngines>(config.lpr, TessdataDir(config.ocr.tessdata_dir));
    services.lpr = lpr.get();
  } catch (const Error& e) {
    LogError("plate recognition: " + e.internal() + "; /v1/lpr will answer 503");
  }
  // Forms: templates (the OCR engines above), and the LLM client when configured.
  TemplateStore templates(database, &redis, config.forms.template_cache_ttl_s);
  templates.set_installed_languages(InstalledLanguages(TessdataDir(config.ocr.tessdata_dir)));
  services.templates = &templates;
  std::unique_ptr<LlmClient> llm;
  if (!config.llm.endpoint.empty()) {
    try {
      llm = std::make_unique<LlmClient>(LlmOptionsFrom(config.llm));
      services.llm = llm.get();
    } catch (const Error& e) {
      LogError("LLM client: " + std::string(e.detail()) + " " + e.internal());
    }
  }
  Router router(BuildRoutes(config));
  std::unique_ptr<LogSpoolWriter> spool;
  try {
    spool = std::make_unique<LogSpoolWriter>(config.log.spool_dir);
  } catch (const Error& e) {
    LogError("request log spool: " + e.internal() + "; logged requests will get 503");
  }
  ScoreboardHeader& header = scoreboard.header();

  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  epoll_event listen_event{};
  listen_event.events = EPOLLIN | EPOLLEXCLUSIVE;
  listen_event.data.fd = setup.listen_fd;
  epoll_event wake_event{};
  wake_event.events = EPOLLIN;
  wake_event.data.fd = g_wake_fd;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, setup.listen_fd, &listen_event) != 0 ||
      epoll_ctl(epoll_fd, EPOLL_CTL_ADD, g_wake_fd, &wake_event) != 0) {
    LogError(std::string("epoll_ctl: ") + std::strerror(errno));
    return 1;
  }

  FCGX_Request fcgi;
  FCGX_InitRequest(&fcgi, setup.listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
  slot.state.store(static_cast<int32_t>(WorkerState::kIdle));

  const int64_t max_memory = int64_t{config.server.max_memory_mb} << 20;
  const int64_t slow_us = int64_t{config.server.slow_request_ms} * 1000;
  uint64_t served = 0;
  int exit_status = 0;
  int64_t rss = ResidentBytes();
  auto rss_read_at = std::chrono::steady_clock::now();

  while (!g_stop) {
    if (setup.master_pid != 0 && getppid() != setup.master_pid) {
      LogWarning("master is gone; exiting");
      break;
    }
    epoll_event events[2];
    int n = epoll_wait(epoll_fd, events, 2, 1000);
    if (g_stop) break;
    bool readable = false;
    for (int i = 0; i < n; ++i) readable |= events[i].data.fd == setup.listen_fd;
    // EPOLLEXCLUSIVE wakes one waiting worker per new connection. A worker that is stopping
    // (the old generation on a reload) may take that wake-up and exit, and no other worker is
    // woken for the connection it leaves in the backlog. So after each quiet second a worker
    // looks at the socket itself.
    if (n == 0) readable = ListenerHasConnection(setup.listen_fd);
    if (!readable) continue;

    int rc = FCGX_Accept_r(&fcgi);
    if (rc < 0) {
      if (rc != -EAGAIN && rc != -EWOULDBLOCK && rc != -EINTR) {
        LogWarning("accept failed: " + std::string(std::strerror(-rc)));
      }
      continue;
    }

    auto start = std::chrono::steady_clock::now();
    int64_t start_us = NowUs();
    Request request = ReadRequestHead(fcgi);
    g_ipc_fd = fcgi.ipcFd;
    g_response_started = 0;
    PrepareTimeoutReply(fcgi.requestId, request.request_id);
    g_in_request = 1;
    std::string uri = request.path + (request.query.empty() ? "" : "?" + request.query);
    scoreboard.MarkBusy(setup.slot, request.method, uri, request.request_id, start_us);

    RequestLogRecord log;
    log.request_id = request.request_id;
    log.created_at_us = start_us;
    log.peer = request.peer;
    RequestContext context{services, {}, log};
    Response response;
    bool unlogged = false;  // refused because the record could not be kept
    if (!ReadBody(fcgi, request, config.limits.max_body_bytes)) {
      log.method = request.method;
      log.endpoint = request.path;
      Error error(
          ErrorCode::kPayloadTooLarge,
          "the body is larger than " + std::to_string(config.limits.max_body_bytes) + " bytes");
      response = ProblemResponse(error, request.request_id);
      response.SetHeader("X-Request-Id", request.request_id);
      log.status = response.status;
      log.error_code = std::string(CodeName(error.code()));
    } else if (!spool && IsLoggedEndpoint(request.path)) {
      response = RefuseUnlogged(request, log, "the request log cannot be written");
      unlogged = true;
    } else if (header.spool_bytes.load(std::memory_order_relaxed) >= config.log.spool_max_bytes &&
               IsLoggedEndpoint(request.path)) {
      // Requests are logged or not served: with the spool full and PostgreSQL away, refuse
      // rather than lose the record.
      response = RefuseUnlogged(request, log, "the request log is full; retry later");
      unlogged = true;
    } else {
      response = Dispatch(router, request, context);
    }
    WriteResponse(fcgi, response);
    FCGX_Finish_r(&fcgi);
    g_in_request = 0;
    g_ipc_fd = -1;

    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    auto duration_us = static_cast<int64_t>(seconds * 1e6);
    log.latency_ms = seconds * 1000.0;
    RecordRequest(slot.metrics, log.endpoint, response.status, seconds, log.stages, log.confidence);
    if (spool && !unlogged && IsLoggedEndpoint(log.endpoint)) {
      try {
        header.spool_bytes.fetch_add(spool->Append(log), std::memory_order_relaxed);
      } catch (const Error& e) {
        LogError("request " + log.request_id + " not logged: " + e.internal());
      }
    }
    if (duration_us > slow_us) {
      scoreboard.header().slow_requests.fetch_add(1, std::memory_order_relaxed);
      LogWarning("slow request " + request.request_id + " " + request.method + " " + uri + ": " +
                 std::to_string(duration_us / 1000) + " ms");
    }
    // Reading /proc costs microseconds: the resident size is sampled every kRssEvery, or
    // after a request heavy enough to have grown it.
    auto now = std::chrono::steady_clock::now();
    if (now - rss_read_at > kRssEvery || duration_us > 20'000) {
      rss = ResidentBytes();
      rss_read_at = now;
    }
    scoreboard.MarkIdle(setup.slot, duration_us, rss);

    ++served;
    if (config.server.max_requests > 0 &&
        served >= static_cast<uint64_t>(config.server.max_requests)) {
      LogInfo("served " + std::to_string(served) + " requests; recycling");
      exit_status = kExitRecycle;
      break;
    }
    if (max_memory > 0 && rss > max_memory) {
      LogWarning("resident memory " + std::to_string(rss >> 20) + " MiB is above " +
                 std::to_string(config.server.max_memory_mb) + " MiB; recycling");
      exit_status = kExitRecycle;
      break;
    }
  }
  slot.state.store(static_cast<int32_t>(WorkerState::kExiting));
  close(epoll_fd);
  return exit_status;
}

}  // namespace scanline
