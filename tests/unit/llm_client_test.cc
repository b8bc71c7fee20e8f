// The LLM client against a small HTTP server in this test that speaks the OpenAI chat
// completions protocol: good JSON, bad JSON, 429 then success, 5xx exhausting the retries,
// and a timeout. The server records each request so the tests check what was sent.
#include "core/llm_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "core/forms.h"
#include "core/template.h"
#include "tests/error_code.h"

namespace scanline {
namespace {

struct Scripted {
  int status = 200;
  std::string body;
  int delay_ms = 0;
  std::string extra_headers;
};

// One connection at a time; answers from a script, then 500 when it runs out.
class FakeOpenAi {
 public:
  FakeOpenAi() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(fd_, 8), 0);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeOpenAi() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }

  void Push(Scripted s) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.push_back(std::move(s));
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  void Serve() {
    while (!stop_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string in;
      char buf[4096];
      size_t header_end = std::string::npos;
      size_t want = 0;
      while (true) {
        ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
        if (header_end == std::string::npos) {
          header_end = in.find("\r\n\r\n");
          if (header_end != std::string::npos) {
            size_t cl = in.find("Content-Length: ");
            want = cl == std::string::npos ? 0 : std::stoul(in.substr(cl + 16));
          }
        }
        if (header_end != std::string::npos && in.size() >= header_end + 4 + want) break;
      }
      Scripted s{500, "{}", 0, ""};
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(in);
        if (!script_.empty()) {
          s = script_.front();
          script_.pop_front();
        }
      }
      if (s.delay_ms) std::this_thread::sleep_for(std::chrono::milliseconds(s.delay_ms));
      std::string out = "HTTP/1.1 " + std::to_string(s.status) +
                        " X\r\nContent-Type: application/json\r\nConnection: close\r\n" +
                        s.extra_headers + "Content-Length: " + std::to_string(s.body.size()) +
                        "\r\n\r\n" + s.body;
      ssize_t ignored = write(c, out.data(), out.size());
      (void)ignored;
      close(c);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::deque<Scripted> script_;
  std::vector<std::string> requests_;
};

std::string Completion(const std::string& content) {
  std::string escaped;
  for (char c : content) {
    if (c == '"' || c == '\\') escaped.push_back('\\');
    escaped.push_back(c);
  }
  return R"({"id":"x","object":"chat.completion","model":"test-model","choices":[{"index":0,)"
         R"("message":{"role":"assistant","content":")" +
         escaped + R"("},"finish_reason":"stop"}]})";
}

Template Receipt() {
  return ParseTemplate(R"({"document_type":"receipt","prompt":"Read the receipt.",
    "model":"receipt-model","fields":[
      {"name":"total","type":"money","required":true,
       "rules":{"locate":"label","labels":{"en":["TOTAL"]}}},
      {"name":"date","type":"date","required":true,
       "rules":{"locate":"pattern","labels":{"en":["DATE"]}}}]})");
}

LlmOptions Options(const FakeOpenAi& server) {
  LlmOptions o;
  o.endpoint = server.endpoint();
  o.api_key = "sk-test";
  o.timeout_ms = 1000;
  o.max_retries = 2;
  o.backoff_ms = 10;
  return o;
}

TEST(LlmClientTest, ReadsFieldsFromAGoodAnswerAndSendsTheTemplatesModelAndPrompt) {
  FakeOpenAi server;
  server.Push({200, Completion(R"({"total":"33.90","date":"12-01-19","extra":1})")});
  LlmClient client(Options(server));
  LlmAnswer a = client.ExtractFields(Receipt(), "TOTAL 33.90\nDATE 12-01-19\n", {});
  ASSERT_EQ(a.values.count("total"), 1u);
  EXPECT_EQ(a.values["total"], "33.90");
  EXPECT_EQ(a.values["date"], "12-01-19");
  EXPECT_EQ(a.values.count("extra"), 0u);
  EXPECT_EQ(a.attempts, 1);
  ASSERT_EQ(server.requests().size(), 1u);
  const std::string req = server.requests()[0];
  EXPECT_NE(req.find("POST /v1/chat/completions"), std::string::npos);
  EXPECT_NE(req.find("Authorization: Bearer sk-test"), std::string::npos);
  rapidjson::Document body;
  body.Parse(req.substr(req.find("\r\n\r\n") + 4).c_str());
  ASSERT_FALSE(body.HasParseError());
  EXPECT_STREQ(body["model"].GetString(), "receipt-model");
  EXPECT_STREQ(body["response_format"]["type"].GetString(), "json_object");
  EXPECT_NE(std::string(body["messages"][0]["content"].GetString()).find("Read the receipt."),
            std::string::npos);
  EXPECT_NE(std::string(body["messages"][1]["content"].GetString()).find("TOTAL 33.90"),
            std::string::npos);
}

TEST(LlmClientTest, RefusesAnAnswerThatIsNotAJsonObjectOfScalars) {
  FakeOpenAi server;
  server.Push({200, Completion("the total is 33.90")});
  server.Push({200, Completion(R"({"total":{"amount":33.9}})")});
  server.Push({200, "not json at all"});
  LlmClient client(Options(server));
  for (int i = 0; i < 3; ++i) {
    try {
      client.ExtractFields(Receipt(), "TOTAL 33.90", {});
      ADD_FAILURE() << "accepted bad answer " << i;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kUpstreamFailed);
    }
  }
  EXPECT_EQ(server.requests().size(), 3u);  // a bad answer is not retried
}

TEST(LlmClientTest, RetriesAfter429AndSucceeds) {
  FakeOpenAi server;
  server.Push({429, R"({"error":{"message":"slow down"}})", 0, "Retry-After: 0\r\n"});
  server.Push({503, "{}"});
  server.Push({200, Completion(R"({"total":"9.00","date":null})")});
  LlmClient client(Options(server));
  LlmAnswer a = client.ExtractFields(Receipt(), "TOTAL 9.00", {});
  EXPECT_EQ(a.attempts, 3);
  EXPECT_EQ(a.values["total"], "9.00");
  ASSERT_EQ(a.values.count("date"), 1u);
  EXPECT_FALSE(a.values["date"].has_value());
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(LlmClientTest, GivesUpAfterMaxRetriesOn5xx) {
  FakeOpenAi server;
  for (int i = 0; i < 3; ++i) server.Push({502, "{}"});
  LlmClient client(Options(server));
  try {
    client.ExtractFields(Receipt(), "x", {});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUpstreamFailed);
    EXPECT_NE(std::string(e.detail()).find("HTTP 502"), std::string::npos);
  }
  EXPECT_EQ(server.requests().size(), 3u);  // one try and two retries
}

TEST(LlmClientTest, TimesOutWithinTheConfiguredBudget) {
  FakeOpenAi server;
  server.Push({200, Completion(R"({"total":"1.00"})"), 1500});
  LlmOptions o = Options(server);
  o.timeout_ms = 200;
  o.max_retries = 0;
  LlmClient client(o);
  const auto start = std::chrono::steady_clock::now();
  try {
    client.ExtractFields(Receipt(), "x", {});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUpstreamFailed);
    EXPECT_NE(std::string(e.detail()).find("timed out"), std::string::npos);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1200));
}

TEST(LlmClientTest, StopsAtTheDeadlineWhateverTheTimeoutAndRetries) {
  FakeOpenAi server;
  server.Push({200, Completion(R"({"total":"1.00"})"), 1500});
  server.Push({503, "{}"});
  server.Push({503, "{}"});
  LlmOptions o = Options(server);
  o.timeout_ms = 20000;
  o.max_retries = 5;
  LlmClient client(o);
  LlmAsk ask;
  ask.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  try {
    client.ExtractFields(Receipt(), "x", {}, ask);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUpstreamFailed);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
  EXPECT_EQ(server.requests().size(), 1u);  // no retry started past the deadline
}

TEST(LlmClientTest, AsksForAndReadsKeyValuePairsForAnLlmOnlyForm) {
  const Template form = ParseTemplate(R"({"document_type":"generic_form","key_values":true,
    "prompt":"Read the form.","fields":[]})");
  FakeOpenAi server;
  server.Push({200, Completion(R"({"key_values":[{"key":"Name","value":"Ann Lee"},)"
                               R"({"key":"Date","value":"1 May 2024"}]})")});
  server.Push({200, Completion(R"({"key_values":[{"key":"Name","value":3}]})")});
  LlmClient client(Options(server));
  OcrPage page;
  OcrBlock block;
  OcrLine line;
  line.text = "Name: Ann Lee";
  line.box = {10, 10, 200, 20};
  line.words = {{"Name:", 90, {10, 10, 60, 20}},
                {"Ann", 90, {80, 10, 40, 20}},
                {"Lee", 90, {130, 10, 40, 20}}};
  block.lines.push_back(line);
  page.blocks.push_back(block);
  FormExtraction r = ExtractForm(form, {page}, ExtractEngine::kLlm, &client);
  ASSERT_EQ(r.key_values.size(), 2u);
  EXPECT_EQ(r.key_values[0].key, "Name");
  EXPECT_EQ(r.key_values[0].value, "Ann Lee");
  EXPECT_EQ(r.key_values[1].value, "1 May 2024");
  const std::string req = server.requests().at(0);
  EXPECT_NE(req.find("key_values"), std::string::npos);
  // A pair that is not two strings is a bad answer.
  EXPECT_EQ(CodeOf([&] { ExtractForm(form, {page}, ExtractEngine::kLlm, &client); }),
            ErrorCode::kUpstreamFailed);
}

TEST(LlmClientTest, AutoAsksOnlyForFieldsTheRulesMissedAndKeepsTheirValues) {
  FakeOpenAi server;
  server.Push({200, Completion(R"({"date":"25/12/2018"})")});
  LlmClient client(Options(server));
  OcrPage page;
  page.width = 400;
  page.height = 200;
  OcrBlock block;
  OcrLine line;
  line.text = "TOTAL 9.00";
  line.box = {10, 10, 200, 20};
  line.confidence = 90;
  line.words = {{"TOTAL", 90, {10, 10, 80, 20}}, {"9.00", 90, {120, 10, 60, 20}}};
  block.lines.push_back(line);
  page.blocks.push_back(block);
  FormExtraction r = ExtractForm(Receipt(), {page}, ExtractEngine::kAuto, &client);
  ASSERT_EQ(r.fields.size(), 2u);
  EXPECT_EQ(r.fields[0].value.raw, "9.00");
  EXPECT_EQ(r.fields[0].engine, "rules");
  EXPECT_EQ(r.fields[1].value.normalised, "2018-12-25");
  EXPECT_EQ(r.fields[1].engine, "llm");
  EXPECT_TRUE(r.missing_required.empty());
  const std::string req = server.requests().at(0);
  EXPECT_EQ(req.find("- total"), std::string::npos);  // only the missing field was asked for
  EXPECT_NE(req.find("- date"), std::string::npos);
}

OcrPage PageOfLines(const std::vector<std::vector<std::string>>& lines) {
  OcrPage page;
  page.width = 400;
  page.height = 40 * static_cast<int>(lines.size()) + 20;
  OcrBlock block;
  int y = 10;
  for (const auto& words : lines) {
    OcrLine line;
    int x = 10;
    for (const std::string& w : words) {
      line.words.push_back({w, 90, {x, y, 12 * static_cast<int>(w.size()), 20}});
      line.text += (line.text.empty() ? "" : " ") + w;
      x += 12 * static_cast<int>(w.size()) + 20;
    }
    line.box = {10, y, x - 30, 20};
    line.confidence = 90;
    block.lines.push_back(line);
    y += 40;
  }
  page.blocks.push_back(block);
  return page;
}

TEST(LlmClientTest, AutoAsksAgainForAFieldTheRulesFoundInvalid) {
  FakeOpenAi server;
  server.Push({200, Completion(R"({"date":"12/11/2019"})")});
  LlmClient client(Options(server));
  const OcrPage page = PageOfLines({{"TOTAL", "9.00"}, {"DATE", "45/13/2019"}});
  FormExtraction rules = ExtractForm(Receipt(), {page}, ExtractEngine::kRules, nullptr);
  ASSERT_TRUE(rules.fields[1].found) << FormExtractionToJson(rules, Receipt(), false);
  ASSERT_FALSE(rules.fields[1].value.valid);
  FormExtraction r = ExtractForm(Receipt(), {page}, ExtractEngine::kAuto, &client);
  EXPECT_EQ(r.fields[1].engine, "llm");
  EXPECT_TRUE(r.fields[1].value.valid);
  EXPECT_EQ(r.fields[1].value.normalised, "2019-11-12");
  EXPECT_EQ(r.fields[0].engine, "rules");
  const std::string req = server.requests().at(0);
  EXPECT_EQ(req.find("- total"), std::string::npos);
  EXPECT_NE(req.find("- date"), std::string::npos);
}

TEST(LlmClientTest, AutoKeepsTheRulesResultWhenTheModelFails) {
  FakeOpenAi server;
  for (int i = 0; i < 3; ++i) server.Push({503, "{}"});
  LlmClient client(Options(server));
  const OcrPage page = PageOfLines({{"TOTAL", "9.00"}});
  FormExtraction r = ExtractForm(Receipt(), {page}, ExtractEngine::kAuto, &client);
  EXPECT_EQ(r.fields[0].value.raw, "9.00");
  EXPECT_EQ(r.fields[0].engine, "rules");
  EXPECT_FALSE(r.fields[1].found);
  EXPECT_EQ(r.missing_required, std::vector<std::string>{"date"});
  EXPECT_EQ(server.requests().size(), 3u);
  // engine=llm has no rules to fall back on: the failure is the answer.
  for (int i = 0; i < 3; ++i) server.Push({503, "{}"});
  EXPECT_EQ(CodeOf([&] { ExtractForm(Receipt(), {page}, ExtractEngine::kLlm, &client); }),
            ErrorCode::kUpstreamFailed);
}

TEST(LlmClientTest, WaitsAsRetryAfterAsksAndBacksOffExponentially) {
  FakeOpenAi server;
  server.Push({429, "{}", 0, "Retry-After: 1\r\n"});
  server.Push({503, "{}"});
  server.Push({200, Completion(R"({"total":"1.00"})")});
  LlmOptions o = Options(server);
  o.backoff_ms = 100;
  LlmClient client(o);
  const auto start = std::chrono::steady_clock::now();
  LlmAnswer a = client.ExtractFields(Receipt(), "x", {});
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(a.attempts, 3);
  // 1 s asked by Retry-After (over the 100 ms back-off), then 200 ms (doubled).
  EXPECT_GE(waited, std::chrono::milliseconds(1200));
  EXPECT_LT(waited, std::chrono::milliseconds(2500));
}

}  // namespace
}  // namespace scanline
