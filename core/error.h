// The one error type of scanline and its stable codes.
//
// Every failure a client can see is an ErrorCode: it becomes the `code` member of an RFC 9457
// problem+json body and decides the HTTP status (HttpStatusFor). An Error carries two texts:
// `detail`, safe to show the client, and `internal`, for the log only (key ids, expected vs
// got, SQL states). Core code throws Error where the caller cannot recover; handlers let it
// propagate to the one catch site in the pool, which renders it.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scanline {

enum class ErrorCode {
  // Request shape.
  kBadRequest,            // 400 malformed request (body, JSON, multipart)
  kInvalidOption,         // 400 a query option has a bad value; `option` names it
  kNotFound,              // 404 no such route or resource
  kMethodNotAllowed,      // 405 route exists with other methods; `Allow` is set
  kConflict,              // 409 the resource exists already (e.g. template version)
  kPayloadTooLarge,       // 413 body larger than allowed
  kImageTooLarge,         // 413 pixel count or page count over the limit (bomb guard)
  kUnsupportedMediaType,  // 415 Content-Type or sniffed format not accepted
  kCorruptImage,          // 422 the image cannot be decoded
  kUnprocessable,         // 422 well-formed but semantically unusable input
  // Authentication and authorisation (SigV4).
  kMissingAuthorization,     // 401
  kMalformedAuthorization,   // 401
  kUnsupportedAlgorithm,     // 401 not AWS4-HMAC-SHA256
  kUnknownKey,               // 401
  kRevokedKey,               // 401
  kRequestExpired,           // 401 x-amz-date outside the allowed skew
  kCredentialScopeMismatch,  // 401 scope date/region/service disagree
  kMissingSignedHeader,      // 401 host or x-amz-date not signed
  kBodyHashMismatch,         // 401 x-amz-content-sha256 differs from the body received
  kUnsignedPayload,          // 401 UNSIGNED-PAYLOAD is refused
  kSignatureMismatch,        // 401
  kReplayedRequest,          // 401 this signature was accepted before
  kMissingScope,             // 403 key lacks the scope the route needs
  kForbidden,                // 403 e.g. /status from a non-local address
  // Load and limits.
  kRateLimited,         // 429 requests per minute
  kQuotaExceeded,       // 429 daily quota
  kDeadlineExceeded,    // 504 recognition did not finish within deadline_ms
  kOverloaded,          // 503 the pool's queue is full
  kServiceUnavailable,  // 503 a dependency needed for this request is down
  kUpstreamFailed,      // 502 a configured upstream (LLM endpoint) failed
  kInternal,            // 500 a bug: generic body, details only in the log
};

// The stable `code` string, e.g. "invalid_option".
std::string_view CodeName(ErrorCode code);
// The HTTP status for a code.
int HttpStatusFor(ErrorCode code);
// RFC 9457 `title`: a short human summary that never changes for a code.
std::string_view TitleFor(ErrorCode code);

class Error : public std::runtime_error {
 public:
  // `detail` is shown to the client; `internal` only goes to the log.
  Error(ErrorCode code, const std::string& detail, std::string internal = {})
      : std::runtime_error(detail), code_(code), internal_(std::move(internal)) {}

  // Adds an RFC 9457 extension member (string valued), e.g. {"option", "psm"}.
  Error& With(std::string name, std::string value) {
    extensions_.emplace_back(std::move(name), std::move(value));
    return *this;
  }

  ErrorCode code() const { return code_; }
  std::string_view detail() const { return what(); }
  const std::string& internal() const { return internal_; }
  const std::vector<std::pair<std::string, std::string>>& extensions() const { return extensions_; }

 private:
  ErrorCode code_;
  std::string internal_;
  std::vector<std::pair<std::string, std::string>> extensions_;
};

// Shorthand for the most common error: a query option with a bad value.
Error InvalidOption(std::string_view option, std::string_view why);

}  // namespace scanline
