// Config parsing: one table binds each key path to its field, its type and its check, so the
// file, the environment, the validation messages and the example file never drift apart.
#include "core/config.h"

#include <toml++/toml.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <thread>
#include <variant>

extern char** environ;

namespace scanline {
namespace {

using IntRef = std::function<int&(Config&)>;
using Int64Ref = std::function<int64_t&(Config&)>;
using BoolRef = std::function<bool&(Config&)>;
using StringRef = std::function<std::string&(Config&)>;

struct Binding {
  std::string path;  // "server.workers"
  std::variant<IntRef, Int64Ref, BoolRef, StringRef> ref;
  int64_t min = 0;  // numeric range, inclusive
  int64_t max = 0;
  std::string doc;  // one line for the example file
};

// The arguments are member names, which cannot be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define SCANLINE_FIELD(section, key) \
  [](Config & c) -> auto& { return c.section.key; }
// NOLINTEND(bugprone-macro-parentheses)

std::vector<Binding> Bindings() {
  return {
      {"server.listen", StringRef(SCANLINE_FIELD(server, listen)), 0, 0,
       "unix:PATH, tcp:HOST:PORT, or systemd (socket activation)"},
      {"server.socket_mode", IntRef(SCANLINE_FIELD(server, socket_mode)), 0, 0777,
       "permissions of the unix socket (octal in TOML: 0o660)"},
      {"server.backlog", IntRef(SCANLINE_FIELD(server, backlog)), 1, 65535,
       "listen backlog: requests waiting for a worker before nginx answers 503"},
      {"server.workers", IntRef(SCANLINE_FIELD(server, workers)), 0, 256,
       "worker processes; 0 = number of CPUs"},
      {"server.max_requests", IntRef(SCANLINE_FIELD(server, max_requests)), 0, 100000000,
       "recycle a worker after this many requests; 0 = never"},
      {"server.max_memory_mb", IntRef(SCANLINE_FIELD(server, max_memory_mb)), 0, 1 << 20,
       "recycle a worker above this resident memory (MiB); 0 = never"},
      {"server.request_timeout_s", IntRef(SCANLINE_FIELD(server, request_timeout_s)), 1, 3600,
       "hard limit per request; the master kills a worker stuck longer"},
      {"server.slow_request_ms", IntRef(SCANLINE_FIELD(server, slow_request_ms)), 1, 3600000,
       "requests slower than this are logged and counted as slow"},
      {"server.respawn_backoff_max_ms", IntRef(SCANLINE_FIELD(server, respawn_backoff_max_ms)), 0,
       600000, "longest wait before respawning a worker that keeps crashing"},
      {"server.graceful_timeout_s", IntRef(SCANLINE_FIELD(server, graceful_timeout_s)), 1, 3600,
       "how long old workers may finish their request on reload or stop"},
      {"server.worker_nice", IntRef(SCANLINE_FIELD(server, worker_nice)), 0, 19,
       "added to the workers' nice value: nginx, Redis and PostgreSQL then run first"},
      {"server.watchdog_interval_s", IntRef(SCANLINE_FIELD(server, watchdog_interval_s)), 0, 3600,
       "0 = from systemd's WatchdogSec"},
      {"server.status_path", StringRef(SCANLINE_FIELD(server, status_path)), 0, 0,
       "path of the pool status page"},
      {"server.metrics_path", StringRef(SCANLINE_FIELD(server, metrics_path)), 0, 0,
       "path of the Prometheus metrics page"},
      {"limits.max_body_bytes", Int64Ref(SCANLINE_FIELD(limits, max_body_bytes)), 1,
       int64_t{1} << 32, "largest request body (bytes); keep nginx's client_max_body_size equal"},
      {"limits.max_pixels", Int64Ref(SCANLINE_FIELD(limits, max_pixels)), 1, int64_t{1} << 34,
       "largest page (width * height) decoded"},
      {"limits.max_pages", IntRef(SCANLINE_FIELD(limits, max_pages)), 1, 1000,
       "pages of a TIFF or PDF read per request"},
      {"limits.pdf_dpi", IntRef(SCANLINE_FIELD(limits, pdf_dpi)), 36, 1200,
       "dots per inch when rendering PDF pages"},
      {"ocr.tessdata_dir", StringRef(SCANLINE_FIELD(ocr, tessdata_dir)), 0, 0,
       "Tesseract language data; empty = Tesseract's default"},
      {"ocr.default_lang", StringRef(SCANLINE_FIELD(ocr, default_lang)), 0, 0,
       "language set when a request names none"},
      {"ocr.default_psm", IntRef(SCANLINE_FIELD(ocr, default_psm)), 1, 13,
       "page segmentation mode when a request names none"},
      {"ocr.max_engines", IntRef(SCANLINE_FIELD(ocr, max_engines)), 1, 64,
       "warm Tesseract engines (language sets) kept per worker"},
      {"ocr.max_deadline_ms", IntRef(SCANLINE_FIELD(ocr, max_deadline_ms)), 100, 3600000,
       "cap on a request's deadline_ms"},
      {"ocr.preload_langs", StringRef(SCANLINE_FIELD(ocr, preload_langs)), 0, 0,
       "language sets warmed at worker start, comma separated (eng,eng+deu)"},
      {"lpr.default_region", StringRef(SCANLINE_FIELD(lpr, default_region)), 0, 0,
       "plate region when a request names none"},
      {"lpr.cascade_files", StringRef(SCANLINE_FIELD(lpr, cascade_files)), 0, 0,
       "extra OpenCV cascade files for plate detection, ':' separated"},
      {"lpr.onnx_model", StringRef(SCANLINE_FIELD(lpr, onnx_model)), 0, 0,
       "optional ONNX plate detector (OpenCV DNN)"},
      {"lpr.data_dir", StringRef(SCANLINE_FIELD(lpr, data_dir)), 0, 0,
       "region pattern files; empty = built in"},
      {"postgres.conninfo", StringRef(SCANLINE_FIELD(postgres, conninfo)), 0, 0,
       "libpq connection string"},
      {"postgres.connect_timeout_s", IntRef(SCANLINE_FIELD(postgres, connect_timeout_s)), 1, 60,
       "seconds"},
      {"redis.address", StringRef(SCANLINE_FIELD(redis, address)), 0, 0,
       "unix:PATH or tcp:HOST:PORT"},
      {"redis.timeout_ms", IntRef(SCANLINE_FIELD(redis, timeout_ms)), 1, 60000,
       "connect and command timeout"},
      {"redis.key_prefix", StringRef(SCANLINE_FIELD(redis, key_prefix)), 0, 0,
       "prefix of every key scanline writes"},
      {"auth.required", BoolRef(SCANLINE_FIELD(auth, required)), 0, 0,
       "refuse unsigned requests to recognition endpoints"},
      {"auth.region", StringRef(SCANLINE_FIELD(auth, region)), 0, 0,
       "SigV4 region of the credential scope"},
      {"auth.service", StringRef(SCANLINE_FIELD(auth, service)), 0, 0,
       "SigV4 service of the credential scope"},
      {"auth.max_skew_s", IntRef(SCANLINE_FIELD(auth, max_skew_s)), 1, 86400,
       "allowed clock difference of x-amz-date, each way (seconds)"},
      {"auth.master_key_file", StringRef(SCANLINE_FIELD(auth, master_key_file)), 0, 0,
       "AES-256 key sealing API secrets; empty = $CREDENTIALS_DIRECTORY/master.key"},
      {"auth.debug_signature_header", BoolRef(SCANLINE_FIELD(auth, debug_signature_header)), 0, 0,
       "return the canonical request we computed on a signature mismatch"},
      {"auth.key_cache_ms", IntRef(SCANLINE_FIELD(auth, key_cache_ms)), 0, 5000,
       "how long a worker trusts a key lookup (bounds revocation lag)"},
      {"auth.key_grace_s", IntRef(SCANLINE_FIELD(auth, key_grace_s)), 0, 86400,
       "how long a worker keeps using a key lookup while PostgreSQL is unreachable"},
      {"log.spool_dir", StringRef(SCANLINE_FIELD(log, spool_dir)), 0, 0,
       "request-log spool directory"},
      {"log.spool_max_bytes", Int64Ref(SCANLINE_FIELD(log, spool_max_bytes)), 1 << 20,
       int64_t{1} << 40, "largest the spool may grow while PostgreSQL is away"},
      {"log.batch_rows", IntRef(SCANLINE_FIELD(log, batch_rows)), 1, 100000, "rows per COPY batch"},
      {"log.flush_interval_ms", IntRef(SCANLINE_FIELD(log, flush_interval_ms)), 10, 60000,
       "how often the shipper ships new records; each pass costs PostgreSQL a transaction"},
      {"log.level", StringRef(SCANLINE_FIELD(log, level)), 0, 0, "debug, info, warning or error"},
      {"llm.endpoint", StringRef(SCANLINE_FIELD(llm, endpoint)), 0, 0,
       "OpenAI-compatible base URL; empty = LLM engine off"},
      {"llm.api_key_file", StringRef(SCANLINE_FIELD(llm, api_key_file)), 0, 0,
       "file holding the bearer token"},
      {"llm.model", StringRef(SCANLINE_FIELD(llm, model)), 0, 0,
       "model when the template names none"},
      {"llm.timeout_ms", IntRef(SCANLINE_FIELD(llm, timeout_ms)), 100, 600000, "per attempt"},
      {"llm.max_retries", IntRef(SCANLINE_FIELD(llm, max_retries)), 0, 10,
       "retries on 429 and 5xx, with back-off"},
      {"forms.templates_dir", StringRef(SCANLINE_FIELD(forms, templates_dir)), 0, 0,
       "built-in templates; empty = built in"},
      {"forms.template_cache_ttl_s", IntRef(SCANLINE_FIELD(forms, template_cache_ttl_s)), 1, 86400,
       "Redis TTL of a cached template"},
  };
}

#undef SCANLINE_FIELD

[[noreturn]] void Fail(const std::string& path, const std::string& why) {
  throw ConfigError(path + ": " + why);
}

void CheckRange(const Binding& b, int64_t v) {
  if (v < b.min || v > b.max) {
    Fail(b.path, "must be between " + std::to_string(b.min) + " and " + std::to_string(b.max) +
                     ", got " + std::to_string(v));
  }
}

void ApplyToml(Config& config, const Binding& b, const toml::node& node) {
  std::visit(
      [&](auto& ref) {
        using Ref = std::decay_t<decltype(ref)>;
        if constexpr (std::is_same_v<Ref, StringRef>) {
          auto v = node.value<std::string>();
          if (!node.is_string() || !v) Fail(b.path, "must be a string");
          ref(config) = *v;
        } else if constexpr (std::is_same_v<Ref, BoolRef>) {
          if (!node.is_boolean()) Fail(b.path, "must be true or false");
          ref(config) = *node.value<bool>();
        } else {
          if (!node.is_integer()) Fail(b.path, "must be an integer");
          int64_t v = *node.value<int64_t>();
          CheckRange(b, v);
          ref(config) = static_cast<std::remove_reference_t<decltype(ref(config))>>(v);
        }
      },
      b.ref);
}

void ApplyString(Config& config, const Binding& b, const std::string& text,
                 const std::string& origin) {
  std::visit(
      [&](auto& ref) {
        using Ref = std::decay_t<decltype(ref)>;
        if constexpr (std::is_same_v<Ref, StringRef>) {
          ref(config) = text;
        } else if constexpr (std::is_same_v<Ref, BoolRef>) {
          if (text == "true" || text == "1" || text == "yes") {
            ref(config) = true;
          } else if (text == "false" || text == "0" || text == "no") {
            ref(config) = false;
          } else {
            Fail(b.path + " (" + origin + ")", "must be true or false, got '" + text + "'");
          }
        } else {
          int64_t v = 0;
          int base = (b.path == "server.socket_mode") ? 8 : 10;
          auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
          if (ec != std::errc() || end != text.data() + text.size()) {
            Fail(b.path + " (" + origin + ")", "must be an integer, got '" + text + "'");
          }
          CheckRange(b, v);
          ref(config) = static_cast<std::remove_reference_t<decltype(ref(config))>>(v);
        }
      },
      b.ref);
}

std::string EnvName(const std::string& path) {
  std::string name = "SCANLINE_";
  for (char c : path) name.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(c)));
  return name;
}

bool IsAddress(const std::string& s) {
  return s == "systemd" || (s.starts_with("unix:") && s.size() > 5) ||
         (s.starts_with("tcp:") && s.rfind(':') > 4);
}

void Validate(const Config& c) {
  if (!IsAddress(c.server.listen)) {
    Fail("server.listen",
         "must be unix:PATH, tcp:HOST:PORT or systemd, got '" + c.server.listen + "'");
  }
  if (!c.redis.address.starts_with("unix:") && !c.redis.address.starts_with("tcp:")) {
    Fail("redis.address", "must be unix:PATH or tcp:HOST:PORT, got '" + c.redis.address + "'");
  }
  static const std::vector<std::string> kLevels = {"debug", "info", "warning", "error"};
  if (std::find(kLevels.begin(), kLevels.end(), c.log.level) == kLevels.end()) {
    Fail("log.level", "must be debug, info, warning or error, got '" + c.log.level + "'");
  }
  if (!c.server.status_path.starts_with("/")) Fail("server.status_path", "must start with /");
  if (!c.server.metrics_path.starts_with("/")) Fail("server.metrics_path", "must start with /");
  if (c.ocr.default_lang.empty()) Fail("ocr.default_lang", "must not be empty");
  if (c.auth.region.empty()) Fail("auth.region", "must not be empty");
  if (!c.llm.endpoint.empty() && !c.llm.endpoint.starts_with("http://") &&
      !c.llm.endpoint.starts_with("https://")) {
    Fail("llm.endpoint", "must be an http:// or https:// URL");
  }
}

}  // namespace

Config LoadConfig(const std::string& path, const std::map<std::string, std::string>& env) {
  Config config;
  std::vector<Binding> bindings = Bindings();
  if (!path.empty()) {
    config.source = path;
    toml::table root;
    try {
      root = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
      std::ostringstream msg;
      msg << path << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
          << e.description();
      throw ConfigError(msg.str());
    }
    for (const auto& [section, node] : root) {
      std::string section_name(section.str());
      const toml::table* table = node.as_table();
      if (!table) Fail(section_name, "must be a table ([" + section_name + "])");
      for (const auto& [key, value] : *table) {
        std::string key_path = section_name + "." + std::string(key.str());
        auto it = std::find_if(bindings.begin(), bindings.end(),
                               [&](const Binding& b) { return b.path == key_path; });
        if (it == bindings.end()) Fail(key_path, "unknown key");
        ApplyToml(config, *it, value);
      }
    }
  }
  for (const auto& variable : env) {
    const std::string& name = variable.first;
    if (!name.starts_with("SCANLINE_")) continue;
    auto it = std::find_if(bindings.begin(), bindings.end(),
                           [&](const Binding& b) { return EnvName(b.path) == name; });
    if (it == bindings.end()) continue;  // other SCANLINE_* variables (SCANLINE_CONFIG, ...)
    ApplyString(config, *it, variable.second, name);
  }
  Validate(config);
  return config;
}

std::map<std::string, std::string> ScanlineEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    if (!entry.starts_with("SCANLINE_")) continue;
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

int EffectiveWorkers(const Config& config) {
  if (config.server.workers > 0) return config.server.workers;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

std::string DefaultConfigToml() {
  Config defaults;
  std::ostringstream out;
  out << "# scanline configuration. Every key is shown with its default.\n"
         "# Environment variables SCANLINE_<SECTION>_<KEY> override the file.\n";
  std::string section;
  for (const Binding& b : Bindings()) {
    std::string s = b.path.substr(0, b.path.find('.'));
    if (s != section) {
      section = s;
      out << "\n[" << section << "]\n";
    }
    out << "# " << b.doc << " (" << EnvName(b.path) << ")\n";
    std::string key = b.path.substr(b.path.find('.') + 1);
    std::visit(
        [&](auto& ref) {
          using Ref = std::decay_t<decltype(ref)>;
          auto& v = ref(defaults);
          if constexpr (std::is_same_v<Ref, StringRef>) {
            out << key << " = " << toml::value<std::string>(v) << "\n";
          } else if constexpr (std::is_same_v<Ref, BoolRef>) {
            out << key << " = " << (v ? "true" : "false") << "\n";
          } else if (b.path == "server.socket_mode") {
            std::ostringstream oct;
            oct << std::oct << v;
            out << key << " = 0o" << oct.str() << "\n";
          } else {
            out << key << " = " << v << "\n";
          }
        },
        b.ref);
  }
  return out.str();
}

}  // namespace scanline
