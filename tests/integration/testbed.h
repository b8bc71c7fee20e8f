// Throwaway servers for tests: PostgreSQL, Redis, nginx and the scanline pool, each started
// from the Debian packages into a temporary directory (unix sockets, one loopback TCP port
// for nginx), stopped and removed when the object goes away.
//
// PostgreSQL refuses to run as root, so when the tests run as root the cluster runs as the
// `postgres` user, with its directories owned by it. Every server can be stopped and started
// again mid-test, to see how scanline behaves while a dependency is away.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace scanline::testing {

// A directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
// World-traversable (0755), so servers running as other users reach their sockets.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A child process with its output in a log file. Killed (SIGKILL) on destruction if running.
class Process {
 public:
  Process() = default;
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Starts argv[0] (searched in PATH) with `env` added to the environment; stdout and stderr
  // go to `log_path`. `user`, when set, is the account it runs as (via runuser).
  void Start(const std::vector<std::string>& argv, const std::string& log_path,
             const std::map<std::string, std::string>& env = {});
  // Sends `signal` and waits up to timeout_ms for the exit. Returns the wait status, or -1
  // when it did not exit in time (then it is killed).
  int Stop(int signal, int timeout_ms = 10000);
  bool Running();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

class Postgres {
 public:
  // initdb (once) and start a cluster under `dir`/pg, creating database `scanline`.
  explicit Postgres(const std::string& dir);
  ~Postgres();
  void Start();
  void Stop();  // fast shutdown; data kept
  // libpq connection string for the scanline database.
  std::string conninfo() const;
  std::string socket_dir() const { return socket_dir_; }
  // Runs SQL with psql and returns its unaligned, tuples-only output.
  std::string Query(const std::string& sql, const std::string& database = "scanline") const;
  pid_t pid() const { return server_.pid(); }  // the postmaster's

 private:
  std::string data_dir_;
  std::string socket_dir_;
  std::string log_path_;
  Process server_;  // the postmaster
  bool running_ = false;
};

class Redis {
 public:
  explicit Redis(const std::string& dir);
  ~Redis();
  void Start();
  void Stop();
  std::string address() const { return "unix:" + socket_; }
  std::string socket() const { return socket_; }
  pid_t pid() const { return process_.pid(); }

 private:
  std::string dir_;
  std::string socket_;
  Process process_;
};

// Reads a file into a string; throws on failure.
std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& content);
// The fields of /proc/PID/stat numbered as proc(5) numbers them: [1] the pid, [2] the command
// name (spaces and all), [3] the state, ... ([0] is empty). Empty when the process is gone.
std::vector<std::string> ProcStat(int pid);
// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();
// Runs a shell command, returns its exit status; output appended to `log`, if given.
int Shell(const std::string& command, std::string* output = nullptr);

// The whole service as scripts/run starts it: PostgreSQL, Redis, the pool (2 workers by
// default) and nginx over TLS with the project's own nginx/ configuration.
struct ServiceOptions {
  int workers = 2;
  int worker_nice = 0;     // server.worker_nice
  std::string extra_toml;  // appended to the generated scanline.toml
  // Rate limits written into the nginx site (requests per second and burst).
  int ip_rate = 50;
  int ip_burst = 100;
  int key_rate = 50;
  int key_burst = 100;
  std::string client_max_body_size = "20m";
  int fastcgi_read_timeout_s = 130;
  std::string http2_preread;      // nginx http2_body_preread_size; "" keeps the site's (1m)
  int log_flush_interval_ms = 0;  // log.flush_interval_ms; 0 keeps the default
  // nginx configuration added inside `http {}` (extra server blocks for benchmarks). The
  // text "@DIR@" becomes the service directory (where tls/cert.pem and tls/key.pem are).
  std::string extra_nginx;
};

// An API key made for a test: its id and secret.
struct ApiKey {
  std::string id;
  std::string secret;
};

class Service {
 public:
  explicit Service(const ServiceOptions& options = {});
  ~Service();

  std::string base_url() const { return "https://localhost:" + std::to_string(port_); }
  int port() const { return port_; }
  const std::string& dir() const { return dir_.path(); }
  std::string pool_socket() const { return dir_.path() + "/run/scanline.sock"; }
  std::string config_path() const { return dir_.path() + "/scanline.toml"; }
  Postgres& postgres() { return *postgres_; }
  Redis& redis() { return *redis_; }
  Process& pool() { return pool_; }
  Process& nginx() { return nginx_; }

  // Starts the pool again after a Stop (same config).
  void StartPool();
  // Waits until /v1/health answers (any status) through nginx.
  void WaitReady(int timeout_ms = 20000);
  // The pool's log so far.
  std::string PoolLog() const;
  // The pid of the pool's log shipper (the master's child that is not a worker, per
  // /status), or 0 when there is not exactly one such child or /status does not answer.
  int ShipperPid();
  // The master key file the pool and the CLI seal API-key secrets under (handed to both as
  // SCANLINE_AUTH_MASTER_KEY_FILE, so extra_toml may still have an [auth] section).
  std::string master_key_path() const { return dir_.path() + "/master.key"; }
  // `scanline --config <this service's config>` with the master key in its environment, to
  // run CLI commands against this service's database.
  std::string CliCommand() const;
  // Creates an API key with `scopes` ("ocr,lpr"; "" for none) through `scanline keys create`.
  // `extra_flags` go to that command ("--rpm 5"). Throws std::runtime_error on failure.
  ApiKey CreateKey(const std::string& scopes, const std::string& extra_flags = "");

 private:
  ServiceOptions options_;
  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<Postgres> postgres_;
  std::unique_ptr<Redis> redis_;
  Process pool_;
  Process nginx_;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string error;  // transport error, "" when a response arrived
};

// One HTTPS (or HTTP) request with libcurl; the self-signed certificate is accepted. Each
// request opens its own connection, unless KeepConnectionsInThisThread(true) was called.
HttpResponse Http(const std::string& method, const std::string& url, const std::string& body = "",
                  const std::vector<std::string>& headers = {}, long timeout_ms = 30000);

// The same request signed with AWS Signature Version 4 (service "scanline", `region`) by
// core/sigv4's client side, as a SigV4 library would: signs host (with the port), x-amz-date,
// x-amz-content-sha256 and those of `headers` SigV4 wants signed when present (content-type,
// content-md5, x-amz-*); the others are sent unsigned. A POST with a body and no Content-Type
// in `headers` is sent as application/octet-stream (signed), since curl would otherwise add
// an unsigned one. `now_unix_s` 0 = the current time.
HttpResponse SignedHttp(const std::string& method, const std::string& url, const ApiKey& key,
                        const std::string& body = "", const std::vector<std::string>& headers = {},
                        const std::string& region = "us-east-1", long timeout_ms = 30000,
                        int64_t now_unix_s = 0);

// From now on, requests made by this thread reuse one libcurl handle, hence its open
// connections and TLS sessions, as an API client with keep-alive does (load drivers).
void KeepConnectionsInThisThread(bool keep);

// From now on, requests made by this thread ask for HTTP/1.1 (true) instead of leaving the
// choice to libcurl, which speaks HTTP/2 over TLS (false): many API clients speak HTTP/1.1
// only, and load drivers compare the two.
void UseHttp11InThisThread(bool http11);

// A FastCGI client speaking to the pool's socket directly (FastCGI 1.0), for what nginx
// hides: a request whose body arrives slowly, or never.
class FastCgiConnection {
 public:
  explicit FastCgiConnection(const std::string& unix_path);
  ~FastCgiConnection();
  // BEGIN_REQUEST and the params (CGI variables), then an empty PARAMS record.
  void Begin(const std::map<std::string, std::string>& params);
  // A piece of the body (FCGI_STDIN); an empty string ends the body.
  void SendBody(const std::string& data);
  // Reads records until FCGI_END_REQUEST or timeout; returns the STDOUT bytes (CGI
  // response: headers, blank line, body). `complete` tells whether END_REQUEST arrived.
  std::string ReadResponse(int timeout_ms, bool* complete = nullptr);

 private:
  void Record(int type, const std::string& content);
  int fd_ = -1;
};

}  // namespace scanline::testing
