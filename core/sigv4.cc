// AWS Signature Version 4 verification (see core/sigv4.h for the policy). The steps and their
// names follow the AWS guide "Create a signed AWS API request"; the canonical URI follows
// the non-S3 rules (normalised path, segments encoded once more as received).
#include "core/sigv4.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <utility>

#include "core/crypto.h"
#include "core/detail/text.h"
#include "core/error.h"

namespace scanline {
namespace {

constexpr std::string_view kTerminator = "aws4_request";
constexpr std::string_view kUnsignedPayloadValue = "UNSIGNED-PAYLOAD";
constexpr size_t kSignatureHexLength = 64;
constexpr size_t kMaxKeyIdLength = 128;
constexpr size_t kMaxScopePartLength = 64;

[[noreturn]] void Malformed(const std::string& detail) {
  throw Error(ErrorCode::kMalformedAuthorization, detail);
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLowerHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }

// RFC 9110 token characters, lower-case letters only.
bool IsLowerTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || IsDigit(c)) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Key ids, regions and services: what nginx's key-id map (nginx/scanline.conf) captures too.
bool IsIdChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || IsDigit(c) || c == '-' || c == '_';
}

bool AllOf(std::string_view s, bool (*pred)(char)) { return std::all_of(s.begin(), s.end(), pred); }

bool IsHeaderSpace(char c) { return c == ' ' || c == '\t'; }

// Header value as SigV4 canonicalises it: trimmed, runs of spaces collapsed to one.
void AppendCanonicalValue(std::string& out, std::string_view value) {
  while (!value.empty() && IsHeaderSpace(value.front())) value.remove_prefix(1);
  while (!value.empty() && IsHeaderSpace(value.back())) value.remove_suffix(1);
  bool previous_space = false;
  for (char c : value) {
    if (c == ' ') {
      if (previous_space) continue;
      previous_space = true;
    } else {
      previous_space = false;
    }
    out.push_back(c);
  }
}

// Decodes one query component; a malformed escape leaves it as literal text.
std::string EncodeQueryComponent(std::string_view raw) {
  std::optional<std::string> decoded = PercentDecode(raw, /*plus_is_space=*/false);
  return UriEncode(decoded ? std::string_view(*decoded) : raw, /*keep_slash=*/false);
}

bool Contains(const std::vector<std::string>& list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

// content-type and content-md5 change how the body is read; x-amz-* are protocol headers.
bool MustBeSignedWhenPresent(std::string_view name) {
  return name == "content-type" || name == "content-md5" || name.starts_with("x-amz-");
}

void SetHeader(HeaderList& headers, std::string name, std::string value) {
  std::erase_if(headers, [&](const auto& header) { return header.first == name; });
  headers.emplace_back(std::move(name), std::move(value));
}

}  // namespace

std::string SigV4Authorization::Scope() const {
  std::string scope;
  scope.reserve(date.size() + region.size() + service.size() + kTerminator.size() + 3);
  scope.append(date).append("/").append(region).append("/").append(service).append("/");
  scope.append(kTerminator);
  return scope;
}

std::string SigV4Authorization::SignedHeadersText() const {
  std::string text;
  for (const std::string& name : signed_headers) {
    if (!text.empty()) text.push_back(';');
    text += name;
  }
  return text;
}

SigV4Authorization ParseAuthorization(std::string_view header) {
  while (!header.empty() && IsHeaderSpace(header.front())) header.remove_prefix(1);
  while (!header.empty() && IsHeaderSpace(header.back())) header.remove_suffix(1);
  if (header.empty()) {
    throw Error(ErrorCode::kMissingAuthorization, "the Authorization header is empty");
  }
  size_t space = header.find(' ');
  std::string_view scheme = header.substr(0, space);
  if (scheme != kSigV4Algorithm) {
    throw Error(ErrorCode::kUnsupportedAlgorithm,
                "only AWS4-HMAC-SHA256 (AWS Signature Version 4) is accepted");
  }
  if (space == std::string_view::npos) Malformed("the Authorization header has no components");
  std::string_view rest = header.substr(space);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);

  std::string_view credential, signed_headers, signature;
  bool have_credential = false, have_signed_headers = false, have_signature = false;
  for (std::string_view piece : detail::SplitOn(rest, ',')) {
    while (!piece.empty() && piece.front() == ' ') piece.remove_prefix(1);
    size_t eq = piece.find('=');
    if (eq == std::string_view::npos) {
      Malformed("Authorization components must be Name=Value separated by commas");
    }
    std::string_view name = piece.substr(0, eq);
    std::string_view value = piece.substr(eq + 1);
    auto take = [&](bool& seen, std::string_view& slot) {
      if (seen) Malformed("Authorization component " + std::string(name) + " appears twice");
      seen = true;
      slot = value;
    };
    if (name == "Credential") {
      take(have_credential, credential);
    } else if (name == "SignedHeaders") {
      take(have_signed_headers, signed_headers);
    } else if (name == "Signature") {
      take(have_signature, signature);
    } else {
      Malformed("unknown Authorization component; expected Credential, SignedHeaders, Signature");
    }
  }
  if (!have_credential || !have_signed_headers || !have_signature) {
    Malformed("the Authorization header needs Credential, SignedHeaders and Signature");
  }

  SigV4Authorization auth;
  std::vector<std::string_view> parts = detail::SplitOn(credential, '/');
  if (parts.size() != 5 || parts[4] != kTerminator) {
    Malformed("Credential must be KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request");
  }
  if (parts[0].empty() || parts[0].size() > kMaxKeyIdLength || !AllOf(parts[0], IsIdChar)) {
    Malformed("the key id in Credential is empty or has characters other than A-Z a-z 0-9 - _");
  }
  if (parts[1].size() != 8 || !AllOf(parts[1], IsDigit)) {
    Malformed("the date in Credential must be YYYYMMDD");
  }
  for (int i : {2, 3}) {
    if (parts[i].empty() || parts[i].size() > kMaxScopePartLength || !AllOf(parts[i], IsIdChar)) {
      Malformed("the region and service in Credential must be short identifiers");
    }
  }
  auth.key_id = parts[0];
  auth.date = parts[1];
  auth.region = parts[2];
  auth.service = parts[3];

  for (std::string_view name : detail::SplitOn(signed_headers, ';')) {
    if (name.empty() || !AllOf(name, IsLowerTokenChar)) {
      Malformed("SignedHeaders must be lower-case header names separated by ';'");
    }
    if (!auth.signed_headers.empty() && !(auth.signed_headers.back() < name)) {
      Malformed("SignedHeaders must be sorted and without duplicates");
    }
    auth.signed_headers.emplace_back(name);
  }

  if (signature.size() != kSignatureHexLength || !AllOf(signature, IsLowerHex)) {
    Malformed("Signature must be 64 lower-case hexadecimal digits");
  }
  auth.signature = signature;
  return auth;
}

std::string UriEncode(std::string_view in, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size() + in.size() / 2);
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 15]);
    }
  }
  return out;
}

std::string CanonicalUri(std::string_view raw_path) {
  std::vector<std::string_view> segments;
  for (std::string_view segment : detail::SplitOn(raw_path, '/')) {
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(segment);
  }
  std::string uri = "/";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) uri.push_back('/');
    uri += UriEncode(segments[i], /*keep_slash=*/false);
  }
  if (!segments.empty() && raw_path.ends_with('/')) uri.push_back('/');
  return uri;
}

std::string CanonicalQuery(std::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (std::string_view piece : detail::SplitOn(raw_query, '&')) {
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string_view name = piece.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
    pairs.emplace_back(EncodeQueryComponent(name), EncodeQueryComponent(value));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) out.push_back('&');
    out.append(name).append("=").append(value);
  }
  return out;
}

std::string CanonicalHeaders(const HeaderList& headers,
                             const std::vector<std::string>& signed_headers) {
  std::string out;
  for (const std::string& name : signed_headers) {
    out += name;
    out.push_back(':');
    bool found = false;
    for (const auto& [header_name, value] : headers) {
      if (header_name != name) continue;
      if (found) out.push_back(',');
      found = true;
      AppendCanonicalValue(out, value);
    }
    if (!found) {
      throw Error(ErrorCode::kMissingSignedHeader,
                  "signed header '" + name + "' is not in the request");
    }
    out.push_back('\n');
  }
  return out;
}

std::string CanonicalRequest(std::string_view method, std::string_view canonical_uri,
                             std::string_view canonical_query, std::string_view canonical_headers,
                             std::string_view signed_headers, std::string_view payload_hash) {
  std::string out;
  out.reserve(method.size() + canonical_uri.size() + canonical_query.size() +
              canonical_headers.size() + signed_headers.size() + payload_hash.size() + 5);
  out.append(method).append("\n");
  out.append(canonical_uri).append("\n");
  out.append(canonical_query).append("\n");
  out.append(canonical_headers).append("\n");
  out.append(signed_headers).append("\n");
  out.append(payload_hash);
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string out(kSigV4Algorithm);
  out.append("\n").append(amz_date).append("\n").append(scope).append("\n");
  out += LowerHex(Sha256(canonical_request));
  return out;
}

std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service) {
  std::string key = "AWS4";
  key.append(secret);
  std::string k_date = HmacSha256(key, date);
  std::fill(key.begin(), key.end(), '\0');
  std::string k_region = HmacSha256(k_date, region);
  std::string k_service = HmacSha256(k_region, service);
  return HmacSha256(k_service, kTerminator);
}

std::string SignatureHex(std::string_view signing_key, std::string_view string_to_sign) {
  return LowerHex(HmacSha256(signing_key, string_to_sign));
}

bool ParseAmzDate(std::string_view text, int64_t& unix_seconds) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return false;
  auto number = [&](size_t pos, size_t length, int& out) {
    out = 0;
    for (size_t i = pos; i < pos + length; ++i) {
      if (!IsDigit(text[i])) return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, s;
  if (!number(0, 4, y) || !number(4, 2, mo) || !number(6, 2, d) || !number(9, 2, h) ||
      !number(11, 2, mi) || !number(13, 2, s)) {
    return false;
  }
  using namespace std::chrono;
  year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!date.ok() || h > 23 || mi > 59 || s > 59) return false;
  seconds since_epoch = sys_days(date).time_since_epoch() + hours(h) + minutes(mi) + seconds(s);
  unix_seconds = since_epoch.count();
  return true;
}

std::string FormatAmzDate(int64_t unix_seconds) {
  using namespace std::chrono;
  sys_seconds t{seconds(unix_seconds)};
  sys_days days = floor<std::chrono::days>(t);
  year_month_day date(days);
  hh_mm_ss<seconds> time(t - days);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return buffer;
}

VerifiedSignature VerifySignature(const Request& request, int64_t now_unix_s,
                                  const SigV4Params& params, const SecretLookup& lookup,
                                  SigV4Diagnostics* diagnostics) {
  std::optional<std::string_view> header = request.Header("authorization");
  if (!header) {
    throw Error(ErrorCode::kMissingAuthorization,
                "requests must be signed with AWS Signature Version 4 (Authorization header)");
  }
  SigV4Authorization auth = ParseAuthorization(*header);
  if (diagnostics) diagnostics->key_id = auth.key_id;

  for (std::string_view required : {"host", "x-amz-date"}) {
    if (!Contains(auth.signed_headers, required)) {
      throw Error(ErrorCode::kMissingSignedHeader,
                  "the '" + std::string(required) + "' header must be signed");
    }
  }
  for (const auto& [name, value] : request.headers) {
    if (MustBeSignedWhenPresent(name) && !Contains(auth.signed_headers, name)) {
      throw Error(ErrorCode::kMissingSignedHeader,
                  "the '" + name + "' header is present and must be signed");
    }
  }

  std::string_view amz_date;
  int date_headers = 0;
  for (const auto& [name, value] : request.headers) {
    if (name == "x-amz-date") {
      amz_date = value;
      ++date_headers;
    }
  }
  int64_t signed_at = 0;
  if (date_headers != 1 || !ParseAmzDate(amz_date, signed_at)) {
    Malformed("exactly one x-amz-date header is required, as YYYYMMDDTHHMMSSZ (UTC)");
  }
  if (auth.date != amz_date.substr(0, 8)) {
    throw Error(ErrorCode::kCredentialScopeMismatch,
                "the credential scope date must be the date of x-amz-date");
  }
  if (auth.region != params.region || auth.service != params.service) {
    throw Error(ErrorCode::kCredentialScopeMismatch, "the credential scope must name region '" +
                                                         params.region + "' and service '" +
                                                         params.service + "'");
  }
  if (signed_at < now_unix_s - params.max_skew_s) {
    throw Error(ErrorCode::kRequestExpired, "x-amz-date is too far in the past",
                "skew " + std::to_string(now_unix_s - signed_at) + " s");
  }
  if (signed_at > now_unix_s + params.max_skew_s) {
    throw Error(ErrorCode::kRequestExpired, "x-amz-date is too far in the future",
                "skew " + std::to_string(signed_at - now_unix_s) + " s");
  }

  const std::string payload_hash = BodySha256Hex(request);
  if (std::optional<std::string_view> sent = request.Header("x-amz-content-sha256")) {
    if (*sent == kUnsignedPayloadValue || sent->starts_with("STREAMING-")) {
      throw Error(ErrorCode::kUnsignedPayload,
                  "the body must be signed: UNSIGNED-PAYLOAD and streaming payloads are refused");
    }
    if (*sent != payload_hash) {
      throw Error(ErrorCode::kBodyHashMismatch,
                  "x-amz-content-sha256 is not the SHA-256 of the body received");
    }
  }

  const std::string canonical_headers = CanonicalHeaders(request.headers, auth.signed_headers);
  const std::string signed_headers = auth.SignedHeadersText();
  const std::string scope = auth.Scope();
  std::string canonical_request =
      CanonicalRequest(request.method, CanonicalUri(request.path), CanonicalQuery(request.query),
                       canonical_headers, signed_headers, payload_hash);
  std::string string_to_sign = StringToSign(amz_date, scope, canonical_request);
  if (diagnostics) {
    diagnostics->canonical_request = canonical_request;
    diagnostics->string_to_sign = string_to_sign;
  }

  std::vector<std::string> secrets = lookup(auth.key_id);
  if (secrets.empty()) {
    throw Error(ErrorCode::kUnknownKey, "unknown access key",
                "key " + auth.key_id + ": lookup returned no active secret");
  }
  std::vector<std::string> keys;
  keys.reserve(secrets.size());
  for (const std::string& secret : secrets) {
    keys.push_back(SigningKey(secret, auth.date, auth.region, auth.service));
  }

  VerifiedSignature result;
  result.key_id = auth.key_id;
  result.signature = auth.signature;
  result.signed_at = signed_at;
  auto match = [&](const std::string& sts) {
    for (size_t i = 0; i < keys.size(); ++i) {
      if (ConstantTimeEquals(SignatureHex(keys[i], sts), auth.signature)) {
        result.secret_index = static_cast<int>(i);
        return true;
      }
    }
    return false;
  };
  if (match(string_to_sign)) return result;

  if (params.accept_query_as_sent) {
    std::string as_sent =
        CanonicalRequest(request.method, request.path.empty() ? "/" : request.path, request.query,
                         canonical_headers, signed_headers, payload_hash);
    if (as_sent != canonical_request && match(StringToSign(amz_date, scope, as_sent))) {
      result.query_as_sent = true;
      return result;
    }
  }
  throw Error(
      ErrorCode::kSignatureMismatch,
      "the signature does not match: check the secret, the signed headers and the "
      "canonical request",
      "key " + auth.key_id + ", canonical request sha256 " + LowerHex(Sha256(canonical_request)));
}

void SignRequest(Request& request, std::string_view key_id, std::string_view secret,
                 int64_t now_unix_s, const SigV4Params& params, bool with_content_sha256) {
  if (!request.Header("host")) {
    throw Error(ErrorCode::kBadRequest, "a request to sign needs a host header");
  }
  std::string amz_date = FormatAmzDate(now_unix_s);
  std::string payload_hash = LowerHex(Sha256(request.body));
  std::erase_if(request.headers, [](const auto& h) { return h.first == "authorization"; });
  SetHeader(request.headers, "x-amz-date", amz_date);
  if (with_content_sha256) SetHeader(request.headers, "x-amz-content-sha256", payload_hash);

  SigV4Authorization auth;
  auth.key_id = key_id;
  auth.date = amz_date.substr(0, 8);
  auth.region = params.region;
  auth.service = params.service;
  for (const auto& [name, value] : request.headers) {
    if ((name == "host" || MustBeSignedWhenPresent(name)) && !Contains(auth.signed_headers, name)) {
      auth.signed_headers.push_back(name);
    }
  }
  std::sort(auth.signed_headers.begin(), auth.signed_headers.end());
  std::string signed_headers = auth.SignedHeadersText();
  std::string canonical_request = CanonicalRequest(
      request.method, CanonicalUri(request.path), CanonicalQuery(request.query),
      CanonicalHeaders(request.headers, auth.signed_headers), signed_headers, payload_hash);
  std::string signature = SignatureHex(SigningKey(secret, auth.date, auth.region, auth.service),
                                       StringToSign(amz_date, auth.Scope(), canonical_request));
  request.headers.emplace_back("authorization",
                               std::string(kSigV4Algorithm) + " Credential=" + auth.key_id + "/" +
                                   auth.Scope() + ", SignedHeaders=" + signed_headers +
                                   ", Signature=" + signature);
}

}  // namespace scanline
