#include "handlers/whoami.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace scanline {
namespace {

// {"limit": N, "used": N, "remaining": N}, or null for no limit; "used" and "remaining" are
// null when Redis could not count.
void WriteWindow(rapidjson::Writer<rapidjson::StringBuffer>& w, int64_t limit, int64_t used,
                 bool counted) {
  if (limit <= 0) {
    w.Null();
    return;
  }
  w.StartObject();
  w.Key("limit");
  w.Int64(limit);
  w.Key("used");
  if (counted) {
    w.Int64(used);
  } else {
    w.Null();
  }
  w.Key("remaining");
  if (counted) {
    w.Int64(used >= limit ? 0 : limit - used);
  } else {
    w.Null();
  }
  w.EndObject();
}

}  // namespace

Response HandleWhoami(const Request& request, RequestContext& context) {
  const Caller& caller = context.caller;
  if (caller.key_id.empty()) {
    throw Error(ErrorCode::kMissingAuthorization, "sign the request to learn who you are");
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("key_id");
  w.String(caller.key_id.c_str());
  w.Key("name");
  w.String(caller.name.c_str());
  w.Key("scopes");
  w.StartArray();
  for (const std::string& scope : caller.scopes) w.String(scope.c_str());
  w.EndArray();
  w.Key("quota");
  w.StartObject();
  w.Key("per_minute");
  WriteWindow(w, caller.limits.per_minute, caller.quota.minute_count, caller.quota.counted);
  w.Key("per_day");
  WriteWindow(w, caller.limits.per_day, caller.quota.day_count, caller.quota.counted);
  w.EndObject();
  if (request.method == "POST") {
    w.Key("body_bytes");
    w.Uint64(request.body.size());
    w.Key("body_sha256");
    w.String(BodySha256Hex(request).c_str());
  }
  w.EndObject();
  Response response;
  response.body = buffer.GetString();
  return response;
}

}  // namespace scanline
