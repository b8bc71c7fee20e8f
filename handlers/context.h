// What a handler gets besides the request: the worker's long-lived services and the request's
// own log record to fill.
//
// Services live as long as the worker process: warm engines, database and cache connections,
// a view of the pool's scoreboard. A handler never owns or closes them. Members are added
// here as endpoints need them; each is created once at worker start (fcgi/worker.cc).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/http.h"
#include "core/pool_stats.h"
#include "core/quota.h"
#include "core/request_log.h"

namespace scanline {

class Database;       // core/database.h
class RedisClient;    // core/redis.h
class OcrEngines;     // core/ocr.h
class ApiKeyStore;    // core/api_keys.h
class ReplayGuard;    // core/replay.h
class LprEngines;     // core/lpr.h
class TemplateStore;  // core/template_store.h
class LlmClient;      // core/llm_client.h

struct Services {
  const Config* config = nullptr;
  std::chrono::system_clock::time_point started;  // process (pool) start, for uptime
  Database* database = nullptr;                   // may be down; never null in the pool
  RedisClient* redis = nullptr;                   // may be down; never null in the pool
  std::function<PoolStatus()> pool_status;        // scoreboard snapshot
  std::function<std::string()> pool_metrics;      // Prometheus text for the whole pool
  OcrEngines* ocr = nullptr;                      // warm Tesseract engines of this worker
  ApiKeyStore* api_keys = nullptr;  // null when the master key is missing: signed requests get 503
  ReplayGuard* replay = nullptr;    // null likewise
  LprEngines* lpr = nullptr;        // warm plate detector and reader
  TemplateStore* templates = nullptr;  // prompt templates (PostgreSQL + Redis)
  LlmClient* llm = nullptr;            // null when no LLM endpoint is configured
};

// The authenticated caller, filled by the signature check before the handler runs.
struct Caller {
  std::string key_id;               // "" when the request was not signed
  std::string name;                 // the key's name, as its operator gave it
  std::vector<std::string> scopes;  // e.g. "ocr", "templates:admin"
  QuotaLimits limits;               // the key's per-minute and daily limits (0 = none)
  QuotaDecision quota;              // this request's count against them
};

struct RequestContext {
  Services& services;
  Caller caller;
  RequestLogRecord& log;  // handlers add document type, stages, confidence, image facts
};

using Handler = std::function<Response(const Request&, RequestContext&)>;

}  // namespace scanline
