// Request log records as JSON lines, the spool's format (see core/log_spool.h).
#include "core/request_log.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace scanline {

std::string SerializeRecord(const RequestLogRecord& r) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto str = [&w](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  str("id", r.request_id);
  w.Key("t");
  w.Int64(r.created_at_us);
  str("key", r.client_key_id);
  str("m", r.method);
  str("ep", r.endpoint);
  w.Key("st");
  w.Int(r.status);
  str("err", r.error_code);
  str("doc", r.document_type);
  w.Key("tv");
  w.Int(r.template_version);
  w.Key("ms");
  w.Double(r.latency_ms);
  w.Key("stages");
  w.StartObject();
  for (const StageTiming& s : r.stages) {
    w.Key(s.stage.c_str(), static_cast<rapidjson::SizeType>(s.stage.size()));
    w.Double(s.ms);
  }
  w.EndObject();
  if (r.confidence) {
    w.Key("conf");
    w.Double(*r.confidence);
  }
  str("sha", r.image_sha256);
  w.Key("bytes");
  w.Int64(r.image_bytes);
  w.Key("w");
  w.Int(r.image_width);
  w.Key("h");
  w.Int(r.image_height);
  str("peer", r.peer);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

bool ParseRecord(std::string_view line, RequestLogRecord* out) {
  rapidjson::Document d;
  d.Parse(line.data(), line.size());
  if (d.HasParseError() || !d.IsObject()) return false;
  auto get_str = [&d](const char* key, std::string& into) {
    auto it = d.FindMember(key);
    if (it == d.MemberEnd() || !it->value.IsString()) return false;
    into.assign(it->value.GetString(), it->value.GetStringLength());
    return true;
  };
  auto get_int64 = [&d](const char* key, int64_t& into) {
    auto it = d.FindMember(key);
    if (it == d.MemberEnd() || !it->value.IsInt64()) return false;
    into = it->value.GetInt64();
    return true;
  };
  RequestLogRecord r;
  int64_t status = 0, tv = 0, w = 0, h = 0;
  if (!get_str("id", r.request_id) || !get_int64("t", r.created_at_us) ||
      !get_str("key", r.client_key_id) || !get_str("m", r.method) || !get_str("ep", r.endpoint) ||
      !get_int64("st", status) || !get_str("err", r.error_code) ||
      !get_str("doc", r.document_type) || !get_int64("tv", tv) || !get_str("sha", r.image_sha256) ||
      !get_int64("bytes", r.image_bytes) || !get_int64("w", w) || !get_int64("h", h) ||
      !get_str("peer", r.peer)) {
    return false;
  }
  if (r.request_id.empty()) return false;
  auto ms = d.FindMember("ms");
  if (ms == d.MemberEnd() || !ms->value.IsNumber()) return false;
  r.latency_ms = ms->value.GetDouble();
  r.status = static_cast<int>(status);
  r.template_version = static_cast<int>(tv);
  r.image_width = static_cast<int>(w);
  r.image_height = static_cast<int>(h);
  auto stages = d.FindMember("stages");
  if (stages != d.MemberEnd() && stages->value.IsObject()) {
    for (const auto& m : stages->value.GetObject()) {
      if (m.value.IsNumber()) r.stages.push_back({m.name.GetString(), m.value.GetDouble()});
    }
  }
  auto conf = d.FindMember("conf");
  if (conf != d.MemberEnd() && conf->value.IsNumber()) r.confidence = conf->value.GetDouble();
  *out = std::move(r);
  return true;
}

bool IsLoggedEndpoint(std::string_view endpoint) {
  return endpoint != "/v1/health" && endpoint != "/status" && endpoint != "/metrics";
}

}  // namespace scanline
