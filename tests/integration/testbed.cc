// Throwaway servers for tests (see tests/integration/testbed.h).
#include "tests/integration/testbed.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "core/http.h"
#include "core/sigv4.h"

namespace scanline::testing {
namespace {

constexpr char kPgBin[] = "/usr/lib/postgresql/15/bin";

bool IsRoot() { return geteuid() == 0; }

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a command as the postgres user when we are root (PostgreSQL refuses root).
std::string AsPostgres(const std::string& command) {
  return IsRoot() ? "runuser -u postgres -- " + command : command;
}

void ChownToPostgres(const std::string& path) {
  if (!IsRoot()) return;
  passwd* pw = getpwnam("postgres");
  if (!pw) throw std::runtime_error("no postgres user: install postgresql");
  if (chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    throw std::runtime_error("chown " + path + ": " + std::strerror(errno));
  }
}

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t WriteHeader(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(c));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*headers)[name] = value;
  }
  return size * n;
}

}  // namespace

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/scanline-test-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
  chmod(path_.c_str(), 0755);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Process::~Process() {
  if (pid_ > 0) Stop(SIGKILL, 5000);
}

void Process::Start(const std::vector<std::string>& argv, const std::string& log_path,
                    const std::map<std::string, std::string>& env) {
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    setpgid(0, 0);  // its own group: a stop signal reaches its children too
    // A test binary that is killed takes its servers with it: they are asked to stop as
    // they would be by their service manager (nginx, Redis and the pool end their own
    // children on SIGTERM). Started from the main thread only (the signal follows the
    // thread that forked).
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);  // the test died before the line above
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  pid_ = pid;
}

bool Process::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

int Process::Stop(int signal, int timeout_ms) {
  if (pid_ <= 0) return 0;
  kill(pid_, signal);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return status;
    }
    SleepMs(10);
  }
  kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::vector<std::string> ProcStat(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t open = stat.find('(');
  const size_t close = stat.rfind(')');  // the command name may hold spaces and parentheses
  if (open == std::string::npos || close == std::string::npos || close < open) return {};
  std::vector<std::string> fields = {"", stat.substr(0, open - 1),
                                     stat.substr(open + 1, close - open - 1)};
  std::istringstream rest(stat.substr(close + 1));
  for (std::string field; rest >> field;) fields.push_back(field);
  return fields;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

int Shell(const std::string& command, std::string* output) {
  std::string full = command + " 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buf;
  std::string out;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  int status = pclose(pipe);
  if (output) *output += out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Postgres::Postgres(const std::string& dir)
    : data_dir_(dir + "/pg/data"), socket_dir_(dir + "/pg/run"), log_path_(dir + "/pg/log") {
  std::filesystem::create_directories(dir + "/pg");
  std::filesystem::create_directories(socket_dir_);
  ChownToPostgres(dir + "/pg");
  ChownToPostgres(socket_dir_);
  std::string out;
  int rc = Shell(AsPostgres(std::string(kPgBin) + "/initdb --no-sync -A trust -U postgres -D " +
                            Quote(data_dir_)),
                 &out);
  if (rc != 0) throw std::runtime_error("initdb failed: " + out);
  Start();
  out.clear();
  rc = Shell(AsPostgres(std::string(kPgBin) + "/psql -h " + Quote(socket_dir_) +
                        " -U postgres -d postgres -qc 'CREATE DATABASE scanline'"),
             &out);
  if (rc != 0) throw std::runtime_error("createdb failed: " + out);
}

Postgres::~Postgres() {
  if (running_) Stop();
}

void Postgres::Start() {
  // The postmaster is this process's child (not daemonised by pg_ctl), so that a test binary
  // that is killed takes it along: Process asks it to stop when its parent dies, and setpriv
  // keeps that request across the switch to the postgres user (which clears it).
  std::vector<std::string> argv;
  if (IsRoot()) {
    argv = {"setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups",
            "--pdeathsig=SIGINT"};  // SIGINT: a fast shutdown
  }
  argv.insert(argv.end(), {std::string(kPgBin) + "/postgres", "-D", data_dir_, "-k", socket_dir_,
                           "-c", "listen_addresses=", "-c", "fsync=off", "-c",
                           "full_page_writes=off", "-c", "synchronous_commit=off"});
  server_.Start(argv, log_path_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (true) {
    if (Shell(std::string(kPgBin) + "/pg_isready -q -U postgres -h " + Quote(socket_dir_)) == 0) {
      break;
    }
    if (!server_.Running() || std::chrono::steady_clock::now() > deadline) {
      server_.Stop(SIGQUIT, 5000);
      std::string log;
      try {
        log = ReadFile(log_path_);
      } catch (const std::exception&) {
      }
      throw std::runtime_error("PostgreSQL did not start: " + log);
    }
    SleepMs(20);
  }
  running_ = true;
}

void Postgres::Stop() {
  server_.Stop(SIGINT, 30000);  // fast shutdown: clients cut off, data kept
  running_ = false;
}

std::string Postgres::conninfo() const {
  return "host=" + socket_dir_ + " user=postgres dbname=scanline";
}

std::string Postgres::Query(const std::string& sql, const std::string& database) const {
  std::string out;
  int rc = Shell(AsPostgres(std::string(kPgBin) + "/psql -X -q -A -t -h " + Quote(socket_dir_) +
                            " -U postgres -d " + Quote(database) + " -c " + Quote(sql)),
                 &out);
  if (rc != 0) throw std::runtime_error("psql failed: " + out);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

Redis::Redis(const std::string& dir) : dir_(dir + "/redis"), socket_(dir + "/redis/redis.sock") {
  std::filesystem::create_directories(dir_);
  Start();
}

Redis::~Redis() { Stop(); }

void Redis::Start() {
  // --hz 1 as scripts/run starts it (docs/operations.md, Redis).
  process_.Start({"redis-server", "--port", "0", "--unixsocket", socket_, "--unixsocketperm", "777",
                  "--save", "", "--appendonly", "no", "--hz", "1", "--dir", dir_},
                 dir_ + "/log");
  for (int i = 0; i < 500; ++i) {
    if (std::filesystem::exists(socket_)) return;
    SleepMs(10);
  }
  throw std::runtime_error("redis did not start: " + ReadFile(dir_ + "/log"));
}

void Redis::Stop() {
  process_.Stop(SIGTERM);
  std::error_code ec;
  std::filesystem::remove(socket_, ec);
}

Service::Service(const ServiceOptions& options) : options_(options) {
  const std::string& d = dir_.path();
  std::filesystem::create_directories(d + "/run");
  std::filesystem::create_directories(d + "/spool");
  postgres_ = std::make_unique<Postgres>(d);
  redis_ = std::make_unique<Redis>(d);
  std::string source = SCANLINE_SOURCE_DIR;
  std::ostringstream toml;
  toml << "[server]\nlisten = \"unix:" << pool_socket() << "\"\nsocket_mode = 0o666\n"
       << "workers = " << options.workers << "\nworker_nice = " << options.worker_nice << "\n\n"
       << "[postgres]\nconninfo = \"" << postgres_->conninfo() << "\"\n\n"
       << "[redis]\naddress = \"" << redis_->address() << "\"\n\n"
       << "[log]\nspool_dir = \"" << d << "/spool\"\n"
       << (options.log_flush_interval_ms > 0
               ? "flush_interval_ms = " + std::to_string(options.log_flush_interval_ms) + "\n"
               : "")
       << "\n"
       << options.extra_toml << "\n";
  WriteFile(config_path(), toml.str());

  std::string out;
  if (Shell(source + "/scripts/make-cert " + Quote(d + "/tls"), &out) != 0) {
    throw std::runtime_error("make-cert failed: " + out);
  }
  port_ = FreePort();
  std::string cmd =
      source + "/scripts/nginx-conf --dir " + Quote(d) + " --port " + std::to_string(port_) +
      " --socket " + Quote(pool_socket()) + " --cert " + Quote(d + "/tls/cert.pem") + " --key " +
      Quote(d + "/tls/key.pem") + " --ip-rate " + std::to_string(options.ip_rate) + " --ip-burst " +
      std::to_string(options.ip_burst) + " --key-rate " + std::to_string(options.key_rate) +
      " --key-burst " + std::to_string(options.key_burst) + " --body-size " +
      options.client_max_body_size + " --read-timeout " +
      std::to_string(options.fastcgi_read_timeout_s);
  if (!options.http2_preread.empty()) cmd += " --preread " + Quote(options.http2_preread);
  if (!options.extra_nginx.empty()) {
    std::string extra = options.extra_nginx;
    for (size_t pos; (pos = extra.find("@DIR@")) != std::string::npos;) {
      extra.replace(pos, 5, d);
    }
    WriteFile(d + "/extra-nginx.conf", extra);
    cmd += " --extra " + Quote(d + "/extra-nginx.conf");
  }
  out.clear();
  if (Shell(cmd, &out) != 0) throw std::runtime_error("nginx-conf failed: " + out);
  out.clear();
  if (Shell(std::string(SCANLINE_BINARY_DIR) + "/scanline keys new-master-key " +
                Quote(master_key_path()),
            &out) != 0) {
    throw std::runtime_error("scanline keys new-master-key failed: " + out);
  }

  StartPool();
  nginx_.Start({"nginx", "-c", d + "/nginx.conf", "-g", "daemon off;"}, d + "/nginx.log");
  WaitReady();
}

Service::~Service() {
  nginx_.Stop(SIGQUIT);
  pool_.Stop(SIGTERM, 15000);
}

void Service::StartPool() {
  std::string binary = std::string(SCANLINE_BINARY_DIR) + "/scanline-fcgi";
  pool_.Start({binary, "--config", config_path()}, dir_.path() + "/pool.log",
              {{"SCANLINE_AUTH_MASTER_KEY_FILE", master_key_path()}});
}

int Service::ShipperPid() {
  std::set<int> children;
  const std::string pid = std::to_string(pool_.pid());
  std::ifstream in("/proc/" + pid + "/task/" + pid + "/children");
  for (int c; in >> c;) children.insert(c);
  rapidjson::Document doc;
  doc.Parse(Http("GET", base_url() + "/status").body.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("workers")) return 0;
  for (const auto& w : doc["workers"].GetArray()) children.erase(w["pid"].GetInt());
  return children.size() == 1 ? *children.begin() : 0;
}

std::string Service::CliCommand() const {
  return "SCANLINE_AUTH_MASTER_KEY_FILE=" + Quote(master_key_path()) + " " +
         std::string(SCANLINE_BINARY_DIR) + "/scanline --config " + Quote(config_path());
}

ApiKey Service::CreateKey(const std::string& scopes, const std::string& extra_flags) {
  std::string out;
  std::string cmd = CliCommand() + " keys create --name test --json";
  if (!scopes.empty()) cmd += " --scopes " + Quote(scopes);
  if (!extra_flags.empty()) cmd += " " + extra_flags;
  // stderr would mix into the JSON: keep only stdout.
  if (Shell(cmd + " 2>" + Quote(dir_.path() + "/keys-create.err"), &out) != 0) {
    throw std::runtime_error("scanline keys create failed: " + out +
                             ReadFile(dir_.path() + "/keys-create.err"));
  }
  rapidjson::Document doc;
  doc.Parse(out.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("key_id") ||
      !doc.HasMember("secret")) {
    throw std::runtime_error("scanline keys create printed no key: " + out);
  }
  return {doc["key_id"].GetString(), doc["secret"].GetString()};
}

void Service::WaitReady(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    HttpResponse r = Http("GET", base_url() + "/v1/health", "", {}, 2000);
    if (r.error.empty() && (r.status == 200 || r.status == 503) &&
        r.body.find("\"checks\"") != std::string::npos) {
      return;
    }
    last = r.error.empty() ? std::to_string(r.status) + " " + r.body : r.error;
    SleepMs(50);
  }
  throw std::runtime_error("service not ready: " + last + "\npool log:\n" + PoolLog());
}

std::string Service::PoolLog() const {
  try {
    return ReadFile(dir_.path() + "/pool.log");
  } catch (const std::exception&) {
    return "";
  }
}

namespace {

// The handle of a thread that keeps its connections (KeepConnectionsInThisThread), or null.
struct KeptHandle {
  CURL* curl = nullptr;
  ~KeptHandle() { curl_easy_cleanup(curl); }
};
thread_local KeptHandle kept;
thread_local bool use_http11 = false;

}  // namespace

void UseHttp11InThisThread(bool http11) { use_http11 = http11; }

void KeepConnectionsInThisThread(bool keep) {
  if (keep && !kept.curl) kept.curl = curl_easy_init();
  if (!keep) {
    curl_easy_cleanup(kept.curl);
    kept.curl = nullptr;
  }
}

HttpResponse Http(const std::string& method, const std::string& url, const std::string& body,
                  const std::vector<std::string>& headers, long timeout_ms) {
  HttpResponse response;
  CURL* curl = kept.curl;
  if (curl) {
    curl_easy_reset(curl);  // options only: the connection cache and TLS sessions stay
  } else {
    curl = curl_easy_init();
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (use_http11) curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  if (method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  if (!body.empty() || method == "POST" || method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_slist* list = nullptr;
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  if (list) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  CURLcode rc = curl_easy_perform(curl);
  if (rc != CURLE_OK) {
    response.error = curl_easy_strerror(rc);
  } else {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  }
  curl_slist_free_all(list);
  if (curl != kept.curl) curl_easy_cleanup(curl);
  return response;
}

HttpResponse SignedHttp(const std::string& method, const std::string& url, const ApiKey& key,
                        const std::string& body, const std::vector<std::string>& headers,
                        const std::string& region, long timeout_ms, int64_t now_unix_s) {
  // scheme://host[:port]/path[?query]
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) throw std::runtime_error("SignedHttp: bad url " + url);
  const size_t path_start = url.find('/', scheme_end + 3);
  Request request;
  request.method = method;
  std::string host =
      url.substr(scheme_end + 3,
                 path_start == std::string::npos ? std::string::npos : path_start - scheme_end - 3);
  std::string target = path_start == std::string::npos ? "/" : url.substr(path_start);
  const size_t q = target.find('?');
  request.path = target.substr(0, q);
  request.query = q == std::string::npos ? "" : target.substr(q + 1);
  request.body = body;
  request.headers.push_back({"host", host});
  bool has_content_type = false;
  for (const std::string& h : headers) {
    const size_t colon = h.find(':');
    if (colon == std::string::npos) continue;
    std::string name = h.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = h.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (name == "content-type") has_content_type = true;
    request.headers.push_back({name, value});
  }
  if (!has_content_type && (!body.empty() || method == "POST" || method == "PUT")) {
    request.headers.push_back({"content-type", "application/octet-stream"});
  }
  SigV4Params params;
  params.region = region;
  const int64_t now = now_unix_s != 0 ? now_unix_s
                                      : std::chrono::duration_cast<std::chrono::seconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count();
  SignRequest(request, key.id, key.secret, now, params, /*with_content_sha256=*/true);
  std::vector<std::string> sent;
  for (const auto& [name, value] : request.headers) {
    if (name == "host") continue;  // curl sends it from the URL, the same text
    sent.push_back(name + ": " + value);
  }
  return Http(method, url, body, sent, timeout_ms);
}

FastCgiConnection::FastCgiConnection(const std::string& unix_path) {
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, unix_path.c_str(), sizeof addr.sun_path - 1);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error("connect " + unix_path + ": " + std::strerror(errno));
  }
}

FastCgiConnection::~FastCgiConnection() {
  if (fd_ >= 0) close(fd_);
}

void FastCgiConnection::Record(int type, const std::string& content) {
  std::string out;
  out.push_back(1);
  out.push_back(static_cast<char>(type));
  out.push_back(0);
  out.push_back(1);  // request id 1
  out.push_back(static_cast<char>((content.size() >> 8) & 0xff));
  out.push_back(static_cast<char>(content.size() & 0xff));
  out.push_back(0);
  out.push_back(0);
  out += content;
  size_t off = 0;
  while (off < out.size()) {
    ssize_t n = write(fd_, out.data() + off, out.size() - off);
    if (n <= 0) throw std::runtime_error("fastcgi write failed");
    off += static_cast<size_t>(n);
  }
}

void FastCgiConnection::Begin(const std::map<std::string, std::string>& params) {
  Record(1, std::string("\0\1\0\0\0\0\0\0", 8));  // BEGIN_REQUEST, role RESPONDER
  std::string body;
  auto length = [&](size_t n) {
    if (n < 128) {
      body.push_back(static_cast<char>(n));
    } else {
      body.push_back(static_cast<char>(((n >> 24) & 0x7f) | 0x80));
      body.push_back(static_cast<char>((n >> 16) & 0xff));
      body.push_back(static_cast<char>((n >> 8) & 0xff));
      body.push_back(static_cast<char>(n & 0xff));
    }
  };
  for (const auto& [k, v] : params) {
    length(k.size());
    length(v.size());
    body += k + v;
  }
  Record(4, body);  // PARAMS
  Record(4, "");
}

void FastCgiConnection::SendBody(const std::string& data) { Record(5, data); }

std::string FastCgiConnection::ReadResponse(int timeout_ms, bool* complete) {
  std::string stdout_bytes;
  std::string buffer;
  if (complete) *complete = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{fd_, POLLIN, 0};
    if (poll(&pfd, 1, 50) <= 0) continue;
    char chunk[65536];
    ssize_t n = read(fd_, chunk, sizeof chunk);
    if (n <= 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
    while (buffer.size() >= 8) {
      auto len = static_cast<size_t>((static_cast<unsigned char>(buffer[4]) << 8) |
                                     static_cast<unsigned char>(buffer[5]));
      size_t pad = static_cast<unsigned char>(buffer[6]);
      if (buffer.size() < 8 + len + pad) break;
      int type = buffer[1];
      if (type == 6) stdout_bytes += buffer.substr(8, len);
      buffer.erase(0, 8 + len + pad);
      if (type == 3) {
        if (complete) *complete = true;
        return stdout_bytes;
      }
    }
  }
  return stdout_bytes;
}

}  // namespace scanline::testing
