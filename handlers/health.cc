// GET /v1/health (see handlers/health.h). Checks are cheap (a ping each) because load
// balancers call this often; each says how long it took.
#include "handlers/health.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "core/build_info.h"
#include "core/database.h"
#include "core/redis.h"
#include "core/tessdata.h"

namespace scanline {
namespace {

struct Check {
  std::string name;
  std::string error;  // "" = ok
  double ms = 0;
};

template <typename Fn>
Check Run(std::string name, Fn&& fn) {
  auto start = std::chrono::steady_clock::now();
  Check check{std::move(name), fn(), 0};
  check.ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return check;
}

std::string CheckTessdata(const Config& config) {
  std::string dir = TessdataDir(config.ocr.tessdata_dir);
  std::vector<std::string> installed = InstalledLanguages(dir);
  std::string missing;
  std::stringstream langs(config.ocr.default_lang);
  std::string lang;
  while (std::getline(langs, lang, '+')) {
    if (std::find(installed.begin(), installed.end(), lang) == installed.end()) {
      missing += (missing.empty() ? "" : ", ") + lang;
    }
  }
  if (!missing.empty()) return "no traineddata for " + missing + " in " + dir;
  return {};
}

// Load balancers and monitors call health often, and under load a ping to PostgreSQL and
// Redis per call would cost more than the rest of the request. Each worker keeps its last
// results for kFreshFor, so a dependency that goes away shows within that time.
constexpr std::chrono::milliseconds kFreshFor{250};

struct CachedChecks {
  std::vector<Check> checks;
  std::chrono::steady_clock::time_point at{};
};

const std::vector<Check>& CurrentChecks(Services& services) {
  static CachedChecks cache;  // one per worker process; workers are single-threaded
  auto now = std::chrono::steady_clock::now();
  if (cache.checks.empty() || now - cache.at > kFreshFor) {
    std::vector<Check> checks;
    checks.push_back(Run("postgres", [&] { return services.database->Check(); }));
    checks.push_back(Run("redis", [&] { return services.redis->Check(); }));
    checks.push_back(Run("tessdata", [&] { return CheckTessdata(*services.config); }));
    cache.checks = std::move(checks);
    cache.at = now;
  }
  return cache.checks;
}

}  // namespace

Response HandleHealth(const Request&, RequestContext& context) {
  Services& services = context.services;
  const std::vector<Check>& checks = CurrentChecks(services);

  bool ok =
      std::all_of(checks.begin(), checks.end(), [](const Check& c) { return c.error.empty(); });
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() -
                                                                 services.started)
                    .count();

  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("status");
  w.String(ok ? "ok" : "unavailable");
  w.Key("version");
  w.String(kVersion);
  w.Key("uptime_s");
  w.Int64(uptime);
  w.Key("checks");
  w.StartObject();
  for (const Check& c : checks) {
    w.Key(c.name.c_str());
    w.StartObject();
    w.Key("ok");
    w.Bool(c.error.empty());
    w.Key("ms");
    w.Double(static_cast<double>(static_cast<int64_t>(c.ms * 100)) / 100);
    if (!c.error.empty()) {
      w.Key("error");
      w.String(c.error.c_str());
    }
    w.EndObject();
  }
  w.EndObject();
  if (!ok) {
    w.Key("failed");
    w.StartArray();
    for (const Check& c : checks) {
      if (!c.error.empty()) w.String(c.name.c_str());
    }
    w.EndArray();
  }
  w.EndObject();

  Response response;
  response.status = ok ? 200 : 503;
  response.body.assign(buffer.GetString(), buffer.GetSize());
  response.SetHeader("Cache-Control", "no-store");
  return response;
}

}  // namespace scanline
