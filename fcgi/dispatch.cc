// Request phases (see fcgi/dispatch.h).
#include "fcgi/dispatch.h"

#include <exception>

#include "core/log.h"

namespace scanline {
namespace {

// The phases before the handler. Each throws scanline::Error to stop the request.
void CheckAccess(const Route& route, const Request& request) {
  if (route.local_only && !IsLocalPeer(request.peer)) {
    throw Error(ErrorCode::kForbidden, "this page is served to local addresses only",
                "peer " + request.peer);
  }
}

}  // namespace

bool IsLocalPeer(std::string_view peer) {
  return peer.empty() || peer.starts_with("unix:") || peer.starts_with("127.") ||
         peer == "::1" || peer.starts_with("::ffff:127.");
}

Response Dispatch(const Router& router, const Request& request, RequestContext& context) {
  RequestLogRecord& log = context.log;
  log.method = request.method;
  Response response;
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
      log.endpoint = route.path.ends_with('*') ? route.path.substr(0, route.path.size() - 1)
                                               : route.path;
      CheckAccess(route, request);
      response = route.handler(request, context);
    }
  } catch (const Error& error) {
    response = ProblemResponse(error, request.request_id);
    log.error_code = std::string(CodeName(error.code()));
    if (error.code() == ErrorCode::kInternal) {
      LogError("request " + request.request_id + " " + request.method + " " + request.path +
               ": " + std::string(error.detail()) + " " + error.internal());
    } else if (!error.internal().empty()) {
      LogDebug("request " + request.request_id + ": " + std::string(CodeName(error.code())) +
               ": " + error.internal());
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
