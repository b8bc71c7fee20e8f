// One request's log record: what the pool writes to ocr_request_logs for every request,
// served, refused or failed. Never the image, never a secret.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scanline {

struct StageTiming {
  std::string stage;  // "decode", "preprocess", "recognise", "detect", "extract", ...
  double ms = 0;
};

struct RequestLogRecord {
  std::string request_id;     // unique: the key that makes replays of the spool idempotent
  int64_t created_at_us = 0;  // unix time, microseconds
  std::string client_key_id;  // SigV4 access key id; "" when unsigned
  std::string method;
  std::string endpoint;  // route path, e.g. "/v1/ocr"
  int status = 0;
  std::string error_code;  // problem+json code; "" on success
  std::string document_type;
  int template_version = 0;  // 0 = none
  double latency_ms = 0;
  std::vector<StageTiming> stages;
  std::optional<double> confidence;  // mean recognition confidence, 0..100
  std::string image_sha256;
  int64_t image_bytes = 0;
  int image_width = 0;
  int image_height = 0;
  std::string peer;
};

// One record as one line of JSON (no newline inside, none at the end).
std::string SerializeRecord(const RequestLogRecord& record);
// Parses a line written by SerializeRecord. Returns false on anything else (a torn or
// foreign line), leaving `out` unspecified.
bool ParseRecord(std::string_view line, RequestLogRecord* out);

// Whether requests to this endpoint are logged. Monitoring endpoints (health, status,
// metrics) are not: they are polled many times a second and are no client's usage.
bool IsLoggedEndpoint(std::string_view endpoint);

}  // namespace scanline
