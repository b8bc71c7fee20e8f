// Request body parsing (see core/request_body.h).
//
// The multipart reader is deliberately strict where leniency would be ambiguous (a missing
// closing delimiter, a part without Content-Disposition, a missing boundary parameter) and
// lenient where real clients differ harmlessly (transport padding after a delimiter, LF-only
// line ends in part headers, header name case, quoted or bare parameter values).
#include "core/request_body.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "core/error.h"

namespace scanline {
namespace {

[[noreturn]] void BadBody(const std::string& detail) {
  throw Error(ErrorCode::kBadRequest, detail);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A header value of the shape `token; name=value; name="quoted \" value"` (RFC 9110 section
// 5.6.6 parameters): the leading token lower-cased, then the parameters with lower-cased
// names. Malformed parameters are skipped, never read past the end.
struct HeaderValue {
  std::string token;
  std::vector<std::pair<std::string, std::string>> params;

  std::optional<std::string> Param(std::string_view name) const {
    for (const auto& [n, v] : params) {
      if (n == name) return v;
    }
    return std::nullopt;
  }
};

HeaderValue ParseHeaderValue(std::string_view v) {
  HeaderValue out;
  size_t i = v.find(';');
  out.token = Lower(Trim(v.substr(0, i)));
  while (i != std::string_view::npos && i < v.size()) {
    ++i;  // past ';'
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
    const size_t name_start = i;
    while (i < v.size() && v[i] != '=' && v[i] != ';') ++i;
    std::string name = Lower(Trim(v.substr(name_start, i - name_start)));
    std::string value;
    if (i < v.size() && v[i] == '=') {
      ++i;
      while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
      if (i < v.size() && v[i] == '"') {
        ++i;
        while (i < v.size() && v[i] != '"') {
          if (v[i] == '\\' && i + 1 < v.size()) ++i;
          value.push_back(v[i++]);
        }
        if (i < v.size()) ++i;  // closing quote
        while (i < v.size() && v[i] != ';') ++i;
      } else {
        const size_t value_start = i;
        while (i < v.size() && v[i] != ';') ++i;
        value = std::string(Trim(v.substr(value_start, i - value_start)));
      }
    } else if (i >= v.size()) {
      if (!name.empty()) out.params.emplace_back(std::move(name), "");
      break;
    }
    if (!name.empty()) out.params.emplace_back(std::move(name), std::move(value));
    if (i >= v.size() || v[i] != ';') break;
  }
  return out;
}

bool IsImageField(std::string_view name) { return name == "file" || name == "image"; }

bool IsRawMediaType(std::string_view type) {
  return type.starts_with("image/") || type == "application/pdf" ||
         type == "application/octet-stream";
}

// Whether the bytes start like one of the formats core/image.h reads.
bool LooksLikeImage(std::string_view b) {
  using namespace std::string_view_literals;
  return b.starts_with("\x89PNG"sv) || b.starts_with("\xff\xd8\xff"sv) ||
         b.starts_with("II*\0"sv) || b.starts_with("MM\0*"sv) || b.starts_with("II+\0"sv) ||
         b.starts_with("MM\0+"sv) || (b.starts_with("RIFF"sv) && b.substr(8, 4) == "WEBP"sv) ||
         b.starts_with("BM"sv) || b.starts_with("%PDF-"sv);
}

constexpr std::string_view kAccepted =
    "send the image as the body (image/png, image/jpeg, image/tiff, image/webp, image/bmp, "
    "application/pdf), as multipart/form-data with a `file` part, or as application/json "
    "with a base64 `image` member";

}  // namespace

std::optional<std::string> RequestBody::Field(std::string_view name) const {
  std::optional<std::string> out;
  for (const auto& [n, v] : fields) {
    if (n == name) out = v;
  }
  return out;
}

std::optional<std::string> DecodeBase64(std::string_view text) {
  static const std::array<int8_t, 256> kValue = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i)
      t[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
    t['-'] = 62;  // URL-safe alphabet (RFC 4648 section 5)
    t['_'] = 63;
    return t;
  }();
  std::string out;
  out.reserve(text.size() / 4 * 3 + 3);
  uint32_t acc = 0;
  int bits = 0;
  int symbols = 0;
  size_t padding = 0;
  for (unsigned char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) return std::nullopt;  // data after padding
    const int8_t v = kValue[c];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    ++symbols;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (symbols % 4 == 1 || padding > 2) return std::nullopt;
  if (padding > 0 && (symbols + padding) % 4 != 0) return std::nullopt;
  return out;
}

RequestBody ParseMultipart(std::string_view content_type, std::string_view body) {
  const HeaderValue type = ParseHeaderValue(content_type);
  const auto boundary = type.Param("boundary");
  if (!boundary || boundary->empty()) {
    BadBody("multipart/form-data needs a boundary parameter in Content-Type");
  }
  if (boundary->size() > 70) BadBody("multipart boundary longer than 70 characters");
  const std::string delimiter = "--" + *boundary;

  // The first delimiter opens the body or follows a preamble line.
  size_t pos;
  if (body.starts_with(delimiter)) {
    pos = 0;
  } else {
    pos = body.find("\n" + delimiter);
    if (pos == std::string_view::npos) BadBody("multipart body has no boundary line");
    ++pos;
  }

  RequestBody out;
  bool have_image = false;
  int parts = 0;
  while (true) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") return out;  // closing delimiter
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) == "\r\n") {
      pos += 2;
    } else if (body.substr(pos, 1) == "\n") {
      pos += 1;
    } else {
      BadBody("multipart boundary line not followed by a line break");
    }
    if (++parts > kMaxMultipartParts) {
      BadBody("multipart body has more than " + std::to_string(kMaxMultipartParts) + " parts");
    }

    // Part headers, up to an empty line.
    std::string name, filename, part_type;
    bool disposition = false;
    while (true) {
      const size_t eol = body.find('\n', pos);
      if (eol == std::string_view::npos) BadBody("multipart part headers cut short");
      std::string_view line = body.substr(pos, eol - pos);
      pos = eol + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) break;
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) BadBody("multipart part header without a colon");
      const std::string header = Lower(Trim(line.substr(0, colon)));
      const std::string_view value = Trim(line.substr(colon + 1));
      if (header == "content-disposition") {
        const HeaderValue v = ParseHeaderValue(value);
        if (v.token != "form-data") BadBody("multipart part is not form-data");
        const auto n = v.Param("name");
        if (!n) BadBody("multipart part has no name");
        name = *n;
        filename = v.Param("filename").value_or("");
        disposition = true;
      } else if (header == "content-type") {
        part_type = ParseHeaderValue(value).token;
      }
    }
    if (!disposition) BadBody("multipart part without Content-Disposition");

    // Content, up to the line break before the next delimiter.
    const std::string next = "\r\n" + delimiter;
    size_t end = body.find(next, pos);
    size_t skip = 2;
    if (end == std::string_view::npos) {
      end = body.find("\n" + delimiter, pos);  // LF-only clients
      skip = 1;
    }
    if (end == std::string_view::npos) {
      BadBody("multipart body ends without the closing boundary");
    }
    std::string content(body.substr(pos, end - pos));
    pos = end + skip;

    if (IsImageField(name) && !have_image) {
      out.image = std::move(content);
      out.image_type = part_type;
      out.filename = filename;
      have_image = true;
    } else if (IsImageField(name)) {
      BadBody("multipart body has more than one image part");
    } else {
      out.fields.emplace_back(std::move(name), std::move(content));
    }
  }
}

RequestBody ParseJsonBody(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError()) {
    BadBody(std::string("JSON body does not parse: ") +
            rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
            std::to_string(doc.GetErrorOffset()));
  }
  if (!doc.IsObject()) BadBody("JSON body must be an object");
  RequestBody out;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    std::string name(it->name.GetString(), it->name.GetStringLength());
    const auto& value = it->value;
    if (name == "image") {
      if (!value.IsString()) BadBody("JSON member `image` must be a base64 string");
      std::string_view text(value.GetString(), value.GetStringLength());
      if (text.starts_with("data:")) {
        const size_t comma = text.find(',');
        if (comma == std::string_view::npos ||
            text.substr(0, comma).find(";base64") == std::string_view::npos) {
          BadBody("JSON member `image` is a data URL without ;base64,");
        }
        out.image_type = Lower(text.substr(5, text.substr(0, comma).find(';') - 5));
        text.remove_prefix(comma + 1);
      }
      auto bytes = DecodeBase64(text);
      if (!bytes) BadBody("JSON member `image` is not valid base64");
      out.image = std::move(*bytes);
    } else if (value.IsString()) {
      out.fields.emplace_back(std::move(name),
                              std::string(value.GetString(), value.GetStringLength()));
    } else {
      rapidjson::StringBuffer buffer;
      rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
      value.Accept(writer);
      out.fields.emplace_back(std::move(name), std::string(buffer.GetString(), buffer.GetSize()));
    }
  }
  return out;
}

RequestBody ParseRequestBody(std::string_view content_type, std::string_view body,
                             bool require_image) {
  const std::string type = ParseHeaderValue(content_type).token;
  RequestBody out;
  if (type == "multipart/form-data") {
    out = ParseMultipart(content_type, body);
  } else if (type == "application/json" || type.ends_with("+json")) {
    out = ParseJsonBody(body);
  } else if (IsRawMediaType(type) || type.empty() ||
             (type == "application/x-www-form-urlencoded" && LooksLikeImage(body))) {
    out.image = std::string(body);
    out.image_type = type;
    out.raw = true;
  } else {
    throw Error(ErrorCode::kUnsupportedMediaType,
                "Content-Type " + (type.empty() ? std::string("(none)") : type) +
                    " is not accepted: " + std::string(kAccepted));
  }
  if (require_image && out.image.empty()) {
    BadBody("the request carries no image: " + std::string(kAccepted));
  }
  return out;
}

RequestBody ExtractRequestBody(const Request& request, bool require_image) {
  RequestBody out =
      ParseRequestBody(request.Header("content-type").value_or(""), request.body, require_image);
  if (out.raw) out.image_sha256 = request.body_sha256;
  return out;
}

}  // namespace scanline
