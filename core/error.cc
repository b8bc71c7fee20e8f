// Error codes, titles and statuses: one table, so the three never disagree.
#include "core/error.h"

#include <array>

namespace scanline {
namespace {

struct CodeInfo {
  ErrorCode code;
  std::string_view name;
  int status;
  std::string_view title;
};

constexpr std::array kCodes = {
    CodeInfo{ErrorCode::kBadRequest, "bad_request", 400, "Bad request"},
    CodeInfo{ErrorCode::kInvalidOption, "invalid_option", 400, "Invalid option"},
    CodeInfo{ErrorCode::kNotFound, "not_found", 404, "Not found"},
    CodeInfo{ErrorCode::kMethodNotAllowed, "method_not_allowed", 405, "Method not allowed"},
    CodeInfo{ErrorCode::kConflict, "conflict", 409, "Conflict"},
    CodeInfo{ErrorCode::kPayloadTooLarge, "payload_too_large", 413, "Payload too large"},
    CodeInfo{ErrorCode::kImageTooLarge, "image_too_large", 413, "Image too large"},
    CodeInfo{ErrorCode::kUnsupportedMediaType, "unsupported_media_type", 415,
             "Unsupported media type"},
    CodeInfo{ErrorCode::kCorruptImage, "corrupt_image", 422, "Corrupt image"},
    CodeInfo{ErrorCode::kUnprocessable, "unprocessable", 422, "Unprocessable input"},
    CodeInfo{ErrorCode::kMissingAuthorization, "missing_authorization", 401,
             "Missing authorization"},
    CodeInfo{ErrorCode::kMalformedAuthorization, "malformed_authorization", 401,
             "Malformed authorization"},
    CodeInfo{ErrorCode::kUnsupportedAlgorithm, "unsupported_algorithm", 401,
             "Unsupported signing algorithm"},
    CodeInfo{ErrorCode::kUnknownKey, "unknown_key", 401, "Unknown access key"},
    CodeInfo{ErrorCode::kRevokedKey, "revoked_key", 401, "Revoked access key"},
    CodeInfo{ErrorCode::kRequestExpired, "request_expired", 401,
             "Request time outside the allowed skew"},
    CodeInfo{ErrorCode::kCredentialScopeMismatch, "credential_scope_mismatch", 401,
             "Credential scope mismatch"},
    CodeInfo{ErrorCode::kMissingSignedHeader, "missing_signed_header", 401,
             "Required header not signed"},
    CodeInfo{ErrorCode::kBodyHashMismatch, "body_hash_mismatch", 401, "Body hash mismatch"},
    CodeInfo{ErrorCode::kUnsignedPayload, "unsigned_payload", 401, "Unsigned payload refused"},
    CodeInfo{ErrorCode::kSignatureMismatch, "signature_mismatch", 401, "Signature mismatch"},
    CodeInfo{ErrorCode::kReplayedRequest, "replayed_request", 401, "Replayed request"},
    CodeInfo{ErrorCode::kMissingScope, "missing_scope", 403, "Missing scope"},
    CodeInfo{ErrorCode::kForbidden, "forbidden", 403, "Forbidden"},
    CodeInfo{ErrorCode::kRateLimited, "rate_limited", 429, "Too many requests"},
    CodeInfo{ErrorCode::kQuotaExceeded, "quota_exceeded", 429, "Daily quota exceeded"},
    CodeInfo{ErrorCode::kDeadlineExceeded, "deadline_exceeded", 504, "Deadline exceeded"},
    CodeInfo{ErrorCode::kOverloaded, "overloaded", 503, "Service overloaded"},
    CodeInfo{ErrorCode::kServiceUnavailable, "service_unavailable", 503, "Service unavailable"},
    CodeInfo{ErrorCode::kUpstreamFailed, "upstream_failed", 502, "Upstream failed"},
    CodeInfo{ErrorCode::kInternal, "internal", 500, "Internal error"},
};

const CodeInfo& InfoFor(ErrorCode code) {
  for (const CodeInfo& info : kCodes) {
    if (info.code == code) return info;
  }
  return kCodes.back();  // kInternal: a code missing from the table is a bug, not a 200.
}

}  // namespace

std::string_view CodeName(ErrorCode code) { return InfoFor(code).name; }
int HttpStatusFor(ErrorCode code) { return InfoFor(code).status; }
std::string_view TitleFor(ErrorCode code) { return InfoFor(code).title; }

Error InvalidOption(std::string_view option, std::string_view why) {
  Error error(ErrorCode::kInvalidOption,
              "option '" + std::string(option) + "': " + std::string(why));
  error.With("option", std::string(option));
  return error;
}

}  // namespace scanline
