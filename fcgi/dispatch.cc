// Request phases (see fcgi/dispatch.h).
#include "fcgi/dispatch.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <exception>

#include "core/api_keys.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/quota.h"
#include "core/replay.h"
#include "core/sigv4.h"

namespace scanline {
namespace {

// What the phases leave for the response besides the error itself.
struct PhaseNotes {
  bool auth_phase = false;        // the error came from phases 3-6: count it
  int retry_after_s = 0;          // for a 429
  std::string canonical_request;  // for a signature_mismatch, when the operator wants it
};

constexpr size_t kMaxLoggedKeyId = 64;  // a made-up key id is logged, but not at any length

// The phases before the handler. Each throws scanline::Error to stop the request.
void CheckAccess(const Route& route, const Request& request) {
  if (route.local_only && !IsLocalPeer(request.peer)) {
    throw Error(ErrorCode::kForbidden, "this page is served to local addresses only",
                "peer " + request.peer);
  }
}

bool NeedsSignature(const Route& route, const Request& request, const AuthConfig& auth) {
  if (request.Header("authorization")) return true;
  if (route.scope.empty()) return false;
  return auth.required || route.scope == kAnyScope;
}

// Phase 3: the signature. Returns what the replay phase needs; fills the caller.
VerifiedSignature CheckSignature(const Request& request, RequestContext& context, int64_t now_s,
                                 ActiveKey& key, PhaseNotes& notes) {
  const AuthConfig& auth = context.services.config->auth;
  ApiKeyStore* store = context.services.api_keys;
  SigV4Params params;
  params.region = auth.region;
  params.service = auth.service;
  params.max_skew_s = auth.max_skew_s;
  SigV4Diagnostics diagnostics;
  try {
    return VerifySignature(
        request, now_s, params,
        [&](const std::string& key_id) {
          if (!store) {
            throw Error(ErrorCode::kServiceUnavailable, "signed requests cannot be checked now",
                        "no API key store in this worker (master key missing?)");
          }
          key = store->Lookup(key_id);
          return key.secrets;
        },
        &diagnostics);
  } catch (const Error& error) {
    context.log.client_key_id = diagnostics.key_id.substr(0, kMaxLoggedKeyId);
    if (error.code() == ErrorCode::kSignatureMismatch && auth.debug_signature_header) {
      notes.canonical_request = diagnostics.canonical_request;
    }
    throw;
  }
}

// Phases 3-6 for one request.
void Authenticate(const Route& route, const Request& request, RequestContext& context,
                  PhaseNotes& notes) {
  int64_t now_s = static_cast<int64_t>(std::time(nullptr));
  ActiveKey key;
  VerifiedSignature verified = CheckSignature(request, context, now_s, key, notes);
  RequestLogRecord& log = context.log;
  log.client_key_id = verified.key_id;

  if (!context.services.replay) {
    throw Error(ErrorCode::kServiceUnavailable, "signed requests cannot be checked now",
                "no replay guard in this worker");
  }
  context.services.replay->AcceptOnce(verified.signature, now_s);
  if (!context.services.api_keys->NoteUsed(verified.key_id)) {
    LogDebug("last_used_at of " + verified.key_id + " not written: PostgreSQL is down");
  }

  if (!route.scope.empty() && route.scope != kAnyScope && !key.HasScope(route.scope)) {
    throw Error(ErrorCode::kMissingScope, "this key lacks the scope '" + route.scope + "'",
                "key " + key.key_id);
  }

  Caller& caller = context.caller;
  caller.key_id = key.key_id;
  caller.name = key.name;
  caller.scopes = key.scopes;
  caller.limits = QuotaLimits{key.rate_per_minute, key.daily_quota};
  if (context.services.redis) {
    caller.quota = CountRequest(*context.services.redis, key.key_id, caller.limits, now_s);
  } else {
    caller.quota.counted = false;
  }
  if (!caller.quota.counted) {
    // Redis holds counters only: without it requests go through uncounted (nginx's per-key
    // rate limit still holds), and /v1/health reports Redis down.
    LogDebug("quota of " + key.key_id + " not counted: Redis is unavailable");
  }
  if (!caller.quota.allowed) {
    notes.retry_after_s = caller.quota.retry_after_s;
    bool per_minute =
        caller.limits.per_minute > 0 && caller.quota.minute_count > caller.limits.per_minute;
    if (per_minute) {
      throw Error(ErrorCode::kRateLimited,
                  "more than " + std::to_string(caller.limits.per_minute) +
                      " requests this minute; retry in " + std::to_string(notes.retry_after_s) +
                      " s",
                  "key " + key.key_id);
    }
    throw Error(ErrorCode::kQuotaExceeded,
                "the daily quota of " + std::to_string(caller.limits.per_day) +
                    " requests is used up; retry in " + std::to_string(notes.retry_after_s) + " s",
                "key " + key.key_id);
  }
}

}  // namespace

bool IsLocalPeer(std::string_view peer) {
  return peer.empty() || peer.starts_with("unix:") || peer.starts_with("127.") || peer == "::1" ||
         peer.starts_with("::ffff:127.");
}

std::string EscapeForHeader(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20 || u >= 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02X", u);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Response Dispatch(const Router& router, const Request& request, RequestContext& context) {
  RequestLogRecord& log = context.log;
  log.method = request.method;
  Response response;
  PhaseNotes notes;
  try {
    Router::Match match = router.Find(request.method, request.path);
    if (!match.route) {
      log.endpoint = "unmatched";
      if (match.allow.empty()) {
        throw Error(ErrorCode::kNotFound, "no such resource: " + request.path);
      }
      Error error(ErrorCode::kMethodNotAllowed,
                  request.method + " is not allowed here; use " + match.allow);
      response = ProblemResponse(error, request.request_id);
      response.SetHeader("Allow", match.allow);
      log.error_code = std::string(CodeName(error.code()));
    } else {
      const Route& route = *match.route;
      log.endpoint =
          route.path.ends_with('*') ? route.path.substr(0, route.path.size() - 1) : route.path;
      CheckAccess(route, request);
      if (NeedsSignature(route, request, context.services.config->auth)) {
        // The `auth` stage: how long the checks took, refused or not.
        notes.auth_phase = true;
        auto started = std::chrono::steady_clock::now();
        auto record_stage = [&] {
          log.stages.push_back({"auth", std::chrono::duration<double, std::milli>(
                                            std::chrono::steady_clock::now() - started)
                                            .count()});
        };
        try {
          Authenticate(route, request, context, notes);
        } catch (...) {
          record_stage();
          throw;
        }
        record_stage();
        notes.auth_phase = false;
      }
      response = route.handler(request, context);
    }
  } catch (const Error& error) {
    response = ProblemResponse(error, request.request_id);
    log.error_code = std::string(CodeName(error.code()));
    if (notes.auth_phase) CountAuthFailure(error.code());
    if (response.status == 401) response.SetHeader("WWW-Authenticate", "AWS4-HMAC-SHA256");
    if (response.status == 429 && notes.retry_after_s > 0) {
      response.SetHeader("Retry-After", std::to_string(notes.retry_after_s));
    }
    if (!notes.canonical_request.empty()) {
      response.SetHeader("X-Scanline-Canonical-Request", EscapeForHeader(notes.canonical_request));
    }
    if (error.code() == ErrorCode::kInternal) {
      LogError("request " + request.request_id + " " + request.method + " " + request.path + ": " +
               std::string(error.detail()) + " " + error.internal());
    } else if (!error.internal().empty()) {
      LogDebug("request " + request.request_id + ": " + std::string(CodeName(error.code())) + ": " +
               error.internal());
    }
  } catch (const std::exception& e) {
    Error error(ErrorCode::kInternal, "internal error");
    response = ProblemResponse(error, request.request_id);
    log.error_code = std::string(CodeName(error.code()));
    LogError("request " + request.request_id + " " + request.method + " " + request.path +
             ": unhandled exception: " + e.what());
  }
  response.SetHeader("X-Request-Id", request.request_id);
  log.status = response.status;
  return response;
}

}  // namespace scanline
