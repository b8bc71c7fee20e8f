// Request helpers and RFC 9457 problem rendering.
#include "core/http.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>

#include "core/crypto.h"

namespace scanline {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string_view> Request::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return std::string_view(value);
  }
  return std::nullopt;
}

std::string BodySha256Hex(const Request& request) {
  return request.body_sha256.empty() ? LowerHex(Sha256(request.body)) : request.body_sha256;
}

std::string Request::MediaType() const {
  auto value = Header("content-type");
  if (!value) return {};
  std::string_view v = *value;
  v = v.substr(0, v.find(';'));
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
  std::string out(v);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

void Response::SetHeader(std::string name, std::string value) {
  for (auto& [n, v] : headers) {
    if (n == name) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool IsSigningParameter(std::string_view name) {
  return name.size() > 6 && (name.substr(0, 6) == "X-Amz-" || name.substr(0, 6) == "x-amz-");
}

QueryParams ParseQuery(std::string_view raw) {
  QueryParams params;
  while (!raw.empty()) {
    size_t amp = raw.find('&');
    std::string_view pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto name = PercentDecode(pair.substr(0, eq), true);
    auto value = PercentDecode(
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!name || !value) {
      throw Error(ErrorCode::kBadRequest, "malformed percent-escape in the query string");
    }
    params.emplace_back(std::move(*name), std::move(*value));
  }
  return params;
}

std::optional<std::string> QueryValue(const QueryParams& params, std::string_view name) {
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  return std::nullopt;
}

std::string JsonEscape(std::string_view in) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(in.data(), static_cast<rapidjson::SizeType>(in.size()));
  std::string quoted(buffer.GetString(), buffer.GetSize());
  return quoted.substr(1, quoted.size() - 2);
}

Response ProblemResponse(const Error& error, std::string_view request_id) {
  Response response;
  response.status = HttpStatusFor(error.code());
  response.content_type = "application/problem+json";
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto str = [&w](std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartObject();
  w.Key("type");
  str("https://scanline.dev/problems/" + std::string(CodeName(error.code())));
  w.Key("title");
  str(TitleFor(error.code()));
  w.Key("status");
  w.Int(response.status);
  w.Key("code");
  str(CodeName(error.code()));
  // An internal error never shows its message: it may name files, queries or memory.
  w.Key("detail");
  str(error.code() == ErrorCode::kInternal ? "the server failed to handle this request"
                                           : error.detail());
  w.Key("request_id");
  str(request_id);
  for (const auto& [name, value] : error.extensions()) {
    w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
    str(value);
  }
  w.EndObject();
  response.body.assign(buffer.GetString(), buffer.GetSize());
  return response;
}

}  // namespace scanline
