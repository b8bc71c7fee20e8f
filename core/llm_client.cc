// OpenAI-compatible chat completions client (see core/llm_client.h).
#include "core/llm_client.h"

#include <curl/curl.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "core/config.h"
#include "core/error.h"
#include "core/log.h"

namespace scanline {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t Header(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  const std::string name = "retry-after:";
  if (line.size() > name.size()) {
    std::string lower = line.substr(0, name.size());
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == name) {
      try {
        *static_cast<int*>(out) = std::stoi(line.substr(name.size()));
      } catch (...) {
      }
    }
  }
  return size * n;
}

std::string CompletionsUrl(std::string endpoint) {
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  if (endpoint.size() >= 3 && endpoint.compare(endpoint.size() - 3, 3, "/v1") == 0) {
    return endpoint + "/chat/completions";
  }
  return endpoint + "/v1/chat/completions";
}

struct Attempt {
  long status = 0;  // HTTP status; 0 = transport error
  bool timed_out = false;
  std::string body;
  std::string error;  // transport error text
  int retry_after_s = -1;
};

Attempt Post(const LlmOptions& o, const std::string& url, const std::string& body) {
  Attempt a;
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) {
    a.error = "curl_easy_init failed";
    return a;
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  curl_slist* h = curl_slist_append(nullptr, "Content-Type: application/json");
  h = curl_slist_append(h, "Accept: application/json");
  if (!o.api_key.empty()) h = curl_slist_append(h, ("Authorization: Bearer " + o.api_key).c_str());
  headers.reset(h);
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(o.timeout_ms));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min(o.timeout_ms, 5000)));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM in a worker
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &a.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, Header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &a.retry_after_s);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    a.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    a.error = curl_easy_strerror(rc);
    return a;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a.status);
  return a;
}

std::string FieldList(const Template& t, const std::vector<std::string>& fields) {
  std::string out;
  for (const FieldSpec& f : t.fields) {
    if (!fields.empty() && std::find(fields.begin(), fields.end(), f.name) == fields.end()) {
      continue;
    }
    out += "- " + f.name + " (" + std::string(FieldTypeName(f.rules.type)) + ")";
    if (!f.description.empty()) out += ": " + f.description;
    out += "\n";
  }
  return out;
}

std::vector<std::string> Wanted(const Template& t, const std::vector<std::string>& fields) {
  if (!fields.empty()) return fields;
  std::vector<std::string> all;
  for (const FieldSpec& f : t.fields) all.push_back(f.name);
  return all;
}

}  // namespace

LlmOptions LlmOptionsFrom(const LlmConfig& config) {
  LlmOptions o;
  o.endpoint = config.endpoint;
  o.model = config.model;
  o.timeout_ms = config.timeout_ms;
  o.max_retries = config.max_retries;
  if (!config.api_key_file.empty()) {
    std::ifstream in(config.api_key_file);
    if (!in) throw Error(ErrorCode::kInternal, "llm.api_key_file unreadable", config.api_key_file);
    std::getline(in, o.api_key);
    while (!o.api_key.empty() && std::isspace(static_cast<unsigned char>(o.api_key.back()))) {
      o.api_key.pop_back();
    }
  }
  return o;
}

LlmClient::LlmClient(LlmOptions options) : options_(std::move(options)) {
  static const bool initialised = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)initialised;
}

LlmClient::~LlmClient() = default;

std::string BuildChatRequest(const Template& t, const std::string& model,
                             const std::string& ocr_text, const std::vector<std::string>& fields,
                             bool key_values) {
  std::string system = t.prompt +
                       "\n\nAnswer with one JSON object and nothing else. Its members are these "
                       "fields (null when the document does not show one):\n" +
                       FieldList(t, fields);
  if (key_values) {
    system +=
        "- key_values: an array of {\"key\": \"...\", \"value\": \"...\"} objects, one per "
        "filled-in field of the document, key and value as printed\n";
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("model");
  w.String(model.c_str(), static_cast<rapidjson::SizeType>(model.size()));
  w.Key("temperature");
  w.Int(0);
  w.Key("response_format");
  w.StartObject();
  w.Key("type");
  w.String("json_object");
  w.EndObject();
  w.Key("messages");
  w.StartArray();
  w.StartObject();
  w.Key("role");
  w.String("system");
  w.Key("content");
  w.String(system.c_str(), static_cast<rapidjson::SizeType>(system.size()));
  w.EndObject();
  w.StartObject();
  w.Key("role");
  w.String("user");
  w.Key("content");
  const std::string user = "OCR text of the document:\n\n" + ocr_text;
  w.String(user.c_str(), static_cast<rapidjson::SizeType>(user.size()));
  w.EndObject();
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

LlmAnswer ParseChatResponse(const std::string& body, const std::vector<std::string>& fields,
                            bool key_values) {
  auto bad = [](const std::string& why) {
    return Error(ErrorCode::kUpstreamFailed, "the LLM endpoint gave an unusable answer: " + why);
  };
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) throw bad("the response is not JSON");
  if (!doc.HasMember("choices") || !doc["choices"].IsArray() || doc["choices"].Empty()) {
    throw bad("no choices");
  }
  const auto& choice = doc["choices"][0];
  if (!choice.IsObject() || !choice.HasMember("message") || !choice["message"].IsObject() ||
      !choice["message"].HasMember("content") || !choice["message"]["content"].IsString()) {
    throw bad("no message content");
  }
  std::string content = choice["message"]["content"].GetString();
  // Some servers wrap JSON mode output in a Markdown fence.
  if (size_t b = content.find('{'), e = content.rfind('}');
      b != std::string::npos && e != std::string::npos && e > b) {
    content = content.substr(b, e - b + 1);
  }
  rapidjson::Document values;
  values.Parse(content.data(), content.size());
  if (values.HasParseError() || !values.IsObject()) throw bad("the content is not a JSON object");
  LlmAnswer answer;
  if (doc.HasMember("model") && doc["model"].IsString()) answer.model = doc["model"].GetString();
  for (const std::string& name : fields) {
    if (!values.HasMember(name.c_str())) continue;
    const auto& v = values[name.c_str()];
    if (v.IsNull()) {
      answer.values[name] = std::nullopt;
    } else if (v.IsString()) {
      answer.values[name] = std::string(v.GetString(), v.GetStringLength());
    } else if (v.IsNumber()) {
      rapidjson::StringBuffer b;
      rapidjson::Writer<rapidjson::StringBuffer> w(b);
      v.Accept(w);
      answer.values[name] = std::string(b.GetString(), b.GetSize());
    } else {
      throw bad("field \"" + name + "\" is neither a string, a number nor null");
    }
  }
  if (key_values && values.HasMember("key_values") && !values["key_values"].IsNull()) {
    const auto& pairs = values["key_values"];
    if (!pairs.IsArray()) throw bad("key_values is not an array");
    for (const auto& pair : pairs.GetArray()) {
      if (!pair.IsObject() || !pair.HasMember("key") || !pair["key"].IsString() ||
          !pair.HasMember("value") || !pair["value"].IsString()) {
        throw bad("a key_values item is not a {\"key\", \"value\"} object of strings");
      }
      answer.key_values.emplace_back(
          std::string(pair["key"].GetString(), pair["key"].GetStringLength()),
          std::string(pair["value"].GetString(), pair["value"].GetStringLength()));
    }
  }
  return answer;
}

LlmAnswer LlmClient::ExtractFields(const Template& t, const std::string& ocr_text,
                                   const std::vector<std::string>& fields, const LlmAsk& ask) {
  if (options_.endpoint.empty()) {
    throw Error(ErrorCode::kUnprocessable, "no LLM endpoint is configured (llm.endpoint)");
  }
  const std::vector<std::string> wanted = Wanted(t, fields);
  const std::string model = t.model.empty() ? options_.model : t.model;
  const std::string url = CompletionsUrl(options_.endpoint);
  const std::string body = BuildChatRequest(t, model, ocr_text, wanted, ask.key_values);
  const auto start = std::chrono::steady_clock::now();
  auto ms_left = [&ask] {
    const auto left = ask.deadline - std::chrono::steady_clock::now();
    return std::max<int64_t>(0,
                             std::chrono::duration_cast<std::chrono::milliseconds>(left).count());
  };
  std::string last = "no time left for the request";
  int delay_ms = options_.backoff_ms;
  for (int attempt = 1; attempt <= options_.max_retries + 1; ++attempt) {
    LlmOptions bounded = options_;
    bounded.timeout_ms = static_cast<int>(std::min<int64_t>(options_.timeout_ms, ms_left()));
    if (bounded.timeout_ms <= 0) break;
    Attempt a = Post(bounded, url, body);
    if (a.status == 200) {
      LlmAnswer answer = ParseChatResponse(a.body, wanted, ask.key_values);
      if (answer.model.empty()) answer.model = model;
      answer.attempts = attempt;
      answer.latency_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      return answer;
    }
    const bool retryable = a.status == 0 || a.status == 429 || a.status >= 500;
    last = a.status == 0
               ? (a.timed_out ? "timed out after " + std::to_string(bounded.timeout_ms) + " ms"
                              : a.error)
               : "HTTP " + std::to_string(a.status);
    std::string warning = "llm " + url;
    warning += " attempt " + std::to_string(attempt) + ": ";
    warning += last;
    LogWarning(warning);
    if (!retryable || attempt > options_.max_retries) break;
    int wait = delay_ms;
    if (a.retry_after_s >= 0) wait = std::max(wait, std::min(a.retry_after_s, 10) * 1000);
    if (wait >= ms_left()) {
      last += "; no time left to retry";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    delay_ms *= 2;
  }
  throw Error(ErrorCode::kUpstreamFailed, "the LLM endpoint failed: " + last, url);
}

}  // namespace scanline
