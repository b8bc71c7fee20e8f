// The service configuration: one struct, a default beside every field, one function that
// parses and validates it.
//
// Sources, later wins: the defaults below, the TOML file (/etc/scanline/scanline.toml in
// production), then environment variables named SCANLINE_<SECTION>_<KEY> in upper case
// (SCANLINE_SERVER_WORKERS=4). An unknown key, a wrong type or a bad value is an error that
// names the key path ("server.workers: must be between 1 and 256"). docs/configuration.md
// and scanline.toml.example list every key.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace scanline {

struct ServerConfig {
  // "unix:/run/scanline/scanline.sock", "tcp:127.0.0.1:9000", or "systemd" to take the
  // socket handed over by socket activation (LISTEN_FDS).
  std::string listen = "unix:/run/scanline/scanline.sock";
  int socket_mode = 0660;             // permissions of a unix socket the pool creates
  int backlog = 256;                  // listen(2) backlog: the admission queue
  int workers = 0;                    // worker processes; 0 = number of CPUs
  int max_requests = 10000;           // recycle a worker after this many requests; 0 = never
  int max_memory_mb = 1536;           // recycle a worker whose RSS is above this; 0 = never
  int request_timeout_s = 120;        // hard limit: the master kills a worker stuck longer
  int slow_request_ms = 5000;         // requests longer than this are logged as slow
  int respawn_backoff_max_ms = 5000;  // ceiling of the back-off when workers crash in a loop
  int graceful_timeout_s = 60;        // how long old workers may finish on reload/stop
  int worker_nice = 0;                // added to the workers' nice value (0-19)
  int watchdog_interval_s = 0;        // 0: taken from WATCHDOG_USEC under systemd
  std::string status_path = "/status";
  std::string metrics_path = "/metrics";
};

struct LimitsConfig {
  int64_t max_body_bytes = 20ll << 20;  // bytes; nginx's client_max_body_size should match
  int64_t max_pixels = 40'000'000;      // per page: width * height
  int max_pages = 20;                   // TIFF and PDF pages per request
  int pdf_dpi = 300;                    // dots per inch when rendering PDF pages
};

struct OcrConfig {
  std::string tessdata_dir;  // "" = Tesseract's compiled-in default
  std::string default_lang = "eng";
  int default_psm = 4;                // Tesseract page segmentation mode (4: one column, any size)
  int max_engines = 4;                // warm engines (language sets) kept per worker
  int max_deadline_ms = 60000;        // server cap on a request's deadline_ms
  std::string preload_langs = "eng";  // "+"-joined sets initialised at worker start, "," apart
};

struct LprConfig {
  std::string default_region = "us";
  std::string cascade_files;  // extra cascade XML files, ":" separated
  std::string onnx_model;     // optional ONNX plate detector run with OpenCV DNN
  std::string data_dir;       // region pattern files; "" = the built-in location
};

struct PostgresConfig {
  std::string conninfo = "dbname=scanline";  // libpq connection string
  int connect_timeout_s = 3;
};

struct RedisConfig {
  std::string address = "unix:/run/redis/redis-server.sock";  // "unix:PATH" or "tcp:HOST:PORT"
  int timeout_ms = 200;
  std::string key_prefix = "scanline:";
};

struct AuthConfig {
  bool required = true;              // false only for local experiments
  std::string region = "us-east-1";  // SigV4 credential scope region
  std::string service = "scanline";  // SigV4 credential scope service
  int max_skew_s = 300;              // allowed clock difference, each way
  std::string master_key_file;  // 32 bytes (hex or raw); "" = $CREDENTIALS_DIRECTORY/master.key
  bool debug_signature_header = false;  // send our canonical request back on a mismatch
  int key_cache_ms = 2000;              // how long a worker trusts a key lookup (revocation lag)
  int key_grace_s = 600;                // ... and how long while PostgreSQL is unreachable
};

struct LogConfig {
  std::string spool_dir = "/var/lib/scanline/spool";  // request-log spool
  int64_t spool_max_bytes = 1ll << 30;                // refuse to grow past this
  int batch_rows = 500;                               // rows per COPY
  // How often the shipper looks for new records. Each pass that finds any costs PostgreSQL a
  // transaction, a COPY and an INSERT ... SELECT whatever the row count, so a short interval
  // spends CPU that recognition needs (figures in docs/operations.md).
  int flush_interval_ms = 1000;
  std::string level = "info";  // debug, info, warning, error
};

struct LlmConfig {
  std::string endpoint;      // base URL of an OpenAI-compatible API; "" = LLM engine off
  std::string api_key_file;  // bearer token file; "" = none
  std::string model = "gpt-4o-mini";
  int timeout_ms = 20000;
  int max_retries = 2;
};

struct FormsConfig {
  std::string templates_dir;  // built-in template JSON; "" = the built-in location
  int template_cache_ttl_s = 3600;
};

struct Config {
  ServerConfig server;
  LimitsConfig limits;
  OcrConfig ocr;
  LprConfig lpr;
  PostgresConfig postgres;
  RedisConfig redis;
  AuthConfig auth;
  LogConfig log;
  LlmConfig llm;
  FormsConfig forms;
  std::string source;  // where it was read from, for messages
};

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads `path` (empty: defaults only) and the SCANLINE_* variables in `env`, validates, and
// returns the result. Throws ConfigError naming the key path on the first problem.
Config LoadConfig(const std::string& path, const std::map<std::string, std::string>& env);

// The SCANLINE_* variables of this process's environment.
std::map<std::string, std::string> ScanlineEnvironment();

// The resolved number of workers (server.workers, or the CPU count).
int EffectiveWorkers(const Config& config);

// Every key with its default, as TOML: the body of scanline.toml.example.
std::string DefaultConfigToml();

}  // namespace scanline
