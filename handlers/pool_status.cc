#include "handlers/pool_status.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/build_info.h"

namespace scanline {

Response HandleStatus(const Request&, RequestContext& context) {
  PoolStatus p = context.services.pool_status();
  int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("pool");
  w.String("scanline");
  w.Key("version");
  w.String(kVersion);
  w.Key("start_time");
  w.Int64(p.started_at_us / 1000000);
  w.Key("start_since_s");
  w.Int64((now_us - p.started_at_us) / 1000000);
  w.Key("generation");
  w.Int(p.generation);
  w.Key("accepted_requests");
  w.Uint64(p.accepted);
  w.Key("listen_queue");
  w.Int64(p.listen_queue);
  w.Key("listen_queue_len");
  w.Int(p.listen_queue_len);
  w.Key("idle_workers");
  w.Int(p.idle);
  w.Key("active_workers");
  w.Int(p.active);
  w.Key("total_workers");
  w.Int(p.total);
  w.Key("max_active_workers");
  w.Int(p.max_active_reached);
  w.Key("slow_requests");
  w.Uint64(p.slow_requests);
  w.Key("restarts");
  w.Uint64(p.restarts);
  w.Key("recycles");
  w.Uint64(p.recycles);
  w.Key("timeouts");
  w.Uint64(p.timeouts);
  w.Key("workers");
  w.StartArray();
  for (const WorkerStatus& worker : p.workers) {
    w.StartObject();
    w.Key("pid");
    w.Int(worker.pid);
    w.Key("generation");
    w.Int(worker.generation);
    w.Key("state");
    std::string_view state = WorkerStateName(worker.state);
    w.String(state.data(), static_cast<rapidjson::SizeType>(state.size()));
    w.Key("requests");
    w.Uint64(worker.requests);
    w.Key("start_since_s");
    w.Int64((now_us - worker.started_at_us) / 1000000);
    w.Key("last_request_ms");
    w.Double(worker.last_duration_ms);
    w.Key("rss_bytes");
    w.Int64(worker.rss_bytes);
    if (worker.state == WorkerState::kBusy) {
      w.Key("request");
      w.StartObject();
      w.Key("method");
      w.String(worker.current_method.c_str());
      w.Key("uri");
      w.String(worker.current_uri.c_str());
      w.Key("request_id");
      w.String(worker.current_request_id.c_str());
      w.Key("elapsed_ms");
      w.Int64((now_us - worker.request_started_at_us) / 1000);
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  Response response;
  response.body.assign(buffer.GetString(), buffer.GetSize());
  response.SetHeader("Cache-Control", "no-store");
  return response;
}

Response HandleMetrics(const Request&, RequestContext& context) {
  Response response;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.body = context.services.pool_metrics();
  response.SetHeader("Cache-Control", "no-store");
  return response;
}

}  // namespace scanline
