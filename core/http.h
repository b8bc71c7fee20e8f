// The plain HTTP request and response that handlers see.
//
// The FastCGI layer fills a Request from CGI parameters and writes a Response back; nothing
// here knows FastCGI, so handlers and their tests run without a server. Header names are
// stored lower-case (HTTP field names are case-insensitive, RFC 9110 section 5.1).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace scanline {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;      // "GET", "POST", ...
  std::string path;        // decoded? no: the raw path as sent, without the query
  std::string query;       // raw query string, without '?'
  HeaderList headers;      // lower-case names, values as received
  std::string body;        // the whole body (nginx buffers it before the pool sees it)
  std::string peer;        // client address as nginx saw it
  std::string request_id;  // nginx's $request_id, or one the pool made
  std::string scheme = "https";
  // The body's SHA-256 in lower-case hex when whoever read the body hashed it on the way in
  // (a pool worker does, while nginx is still sending), else empty. Read it through
  // BodySha256Hex, which hashes the body when it is empty.
  std::string body_sha256;

  // The first header with this lower-case name, if any.
  std::optional<std::string_view> Header(std::string_view lower_name) const;
  // Content-Type without parameters, lower-case ("image/png").
  std::string MediaType() const;
};

// The SHA-256 of `request.body`, lower-case hex: `request.body_sha256` when set, else
// computed now. SigV4 signs it, and a raw image's sha256 in a result is the same digest.
std::string BodySha256Hex(const Request& request);

struct Response {
  int status = 200;
  HeaderList headers;  // Content-Type is set through content_type
  std::string content_type = "application/json";
  std::string body;

  void SetHeader(std::string name, std::string value);
};

// A decoded query parameter list, in order, repeated names kept. '+' is a space
// (application/x-www-form-urlencoded, as browsers and curl send it).
using QueryParams = std::vector<std::pair<std::string, std::string>>;
// Throws Error(kBadRequest) on a malformed percent escape.
QueryParams ParseQuery(std::string_view raw);
// The value of the last parameter with this name.
std::optional<std::string> QueryValue(const QueryParams& params, std::string_view name);
// Whether a query parameter belongs to a presigned SigV4 URL (X-Amz-Algorithm,
// X-Amz-Signature, ...): handlers skip these when they check their options.
bool IsSigningParameter(std::string_view name);

// Percent-decodes `in`; '+' becomes a space only when plus_is_space. Returns nullopt on a bad
// escape.
std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space);

// RFC 9457 problem+json response for an error, with `code` and `request_id` members.
Response ProblemResponse(const Error& error, std::string_view request_id);

// Escapes a string for inclusion in JSON (without the quotes).
std::string JsonEscape(std::string_view in);

}  // namespace scanline
