// Field extraction by a language model behind an OpenAI-compatible chat completions API
// (POST {endpoint}/v1/chat/completions), over libcurl.
//
// The request carries the template's prompt, the list of fields wanted (name, type,
// description) and the OCR text, asks for a JSON object (`response_format: json_object`) at
// temperature 0, and names the template's model or the configured default. The answer's
// message content must be one JSON object; each member naming a wanted field must be a
// string, a number or null. Everything else is refused as a bad answer.
//
// Failures: each attempt is bounded by timeout_ms. A 429, a 5xx or a transport error is
// retried up to max_retries times with exponential back-off (base backoff_ms, doubled each
// time, a Retry-After of at most 10 s honoured). When every attempt fails, or the answer is
// not what was asked for, ExtractFields throws Error(kUpstreamFailed); a timeout on the last
// attempt is Error(kUpstreamFailed) too, with "timed out" in the detail. No OCR text or field
// value is ever written to the log (they may be sensitive).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/template.h"

namespace scanline {

struct LlmConfig;  // core/config.h

struct LlmOptions {
  std::string endpoint;  // base URL: "http://127.0.0.1:8000" (with or without "/v1")
  std::string api_key;   // bearer token; "" = no Authorization header
  std::string model = "gpt-4o-mini";
  int timeout_ms = 20000;
  int max_retries = 2;
  int backoff_ms = 250;
};

// Options from the configuration; reads llm.api_key_file when set. Throws Error(kInternal)
// when that file cannot be read.
LlmOptions LlmOptionsFrom(const LlmConfig& config);

// What a request asks beyond field values, and by when it must be answered.
struct LlmAsk {
  // Also ask for every key -> value pair the page shows (templates with key_values).
  bool key_values = false;
  // No attempt runs, and no back-off waits, past this point; each attempt's timeout is cut
  // to the time left. The forms handler sets it from server.request_timeout_s.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

struct LlmAnswer {
  // Field name -> value as the model gave it (numbers as their JSON text); nullopt = null.
  std::map<std::string, std::optional<std::string>> values;
  // The page's key -> value pairs, when asked for (LlmAsk::key_values), as the model gave them.
  std::vector<std::pair<std::string, std::string>> key_values;
  std::string model;  // the model that answered (from the response, else the one asked)
  int attempts = 0;
  double latency_ms = 0;
};

class LlmClient {
 public:
  explicit LlmClient(LlmOptions options);
  ~LlmClient();
  LlmClient(const LlmClient&) = delete;
  LlmClient& operator=(const LlmClient&) = delete;

  // Asks for `fields` (names of fields of `t`; empty = all) in `ocr_text`. Throws
  // Error(kUpstreamFailed) also when `ask.deadline` passes first.
  LlmAnswer ExtractFields(const Template& t, const std::string& ocr_text,
                          const std::vector<std::string>& fields, const LlmAsk& ask = {});

  const LlmOptions& options() const { return options_; }

 private:
  LlmOptions options_;
};

// The chat completions request body for a template (exposed for tests).
std::string BuildChatRequest(const Template& t, const std::string& model,
                             const std::string& ocr_text, const std::vector<std::string>& fields,
                             bool key_values = false);

// Parses a chat completions response body into field values for `fields` (and, with
// key_values, the member key_values: an array of {"key", "value"} strings). Throws
// Error(kUpstreamFailed) when it is not a completion whose content is a JSON object of
// strings, numbers and nulls for those fields (and such an array, when present).
LlmAnswer ParseChatResponse(const std::string& body, const std::vector<std::string>& fields,
                            bool key_values = false);

}  // namespace scanline
