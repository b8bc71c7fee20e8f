// AWS Signature Version 4 (AWS4-HMAC-SHA256) as a server verifies it.
//
// Clients sign with any SigV4 implementation (curl --aws-sigv4, botocore, the npm aws4
// package); nothing of ours is needed on their side. The steps follow the AWS guide "Create a
// signed AWS API request" (canonical request, string to sign, signing key, signature), with
// the canonical URI of non-S3 services: the path normalised (dot segments and empty segments
// removed) and each segment URI-encoded once more as the server receives it (the path on the
// wire is already encoded once by the client, so a '%' becomes "%25").
//
// Policy on top of the protocol (each is an ErrorCode the client sees):
//   - host and x-amz-date must be signed, and so must content-type and every x-amz-* header
//     the request carries (a header that changes the meaning of the request cannot ride
//     along unsigned);
//   - the credential scope's date is x-amz-date's date, its region and service are ours;
//   - x-amz-date is within max_skew_s of our clock, both ways;
//   - the payload hash is always computed over the body received; a sent
//     x-amz-content-sha256 must equal it and UNSIGNED-PAYLOAD (or a streaming mode) is
//     refused;
//   - the signature is compared in constant time against each active secret of the key.
//
// curl 7.88 (Debian 12) signs the query string exactly as it sends it, neither sorted nor
// re-encoded (fixed in later curl). When SigV4Params::accept_query_as_sent is on (the
// default) and the strict form does not match, the request is also checked against a
// canonical request that uses the path and query exactly as received. This accepts nothing
// weaker: that form binds the very bytes that arrived.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/http.h"

namespace scanline {

inline constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";

// The parts of an Authorization header:
//   AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request,
//   SignedHeaders=host;x-amz-date, Signature=<64 lower-case hex>
struct SigV4Authorization {
  std::string key_id;  // access key id
  std::string date;    // YYYYMMDD of the credential scope
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;  // lower-case, strictly ascending, no duplicates
  std::string signature;                    // 64 lower-case hex characters

  // "date/region/service/aws4_request"
  std::string Scope() const;
  // "host;x-amz-date"
  std::string SignedHeadersText() const;
};

// Parses an Authorization header value. Components are separated by "," with optional spaces
// after it (curl 7.88 and the AWS examples use ", "), in any order, each exactly once.
// Throws Error with:
//   kMissingAuthorization    the value is empty;
//   kUnsupportedAlgorithm    the scheme is not AWS4-HMAC-SHA256;
//   kMalformedAuthorization  anything else: unknown or repeated component, a credential that
//                            is not KEY/YYYYMMDD/REGION/SERVICE/aws4_request, signed headers
//                            not lower-case, sorted and unique, a signature that is not 64
//                            lower-case hex digits.
SigV4Authorization ParseAuthorization(std::string_view header);

// RFC 3986 percent-encoding of every byte except the unreserved A-Z a-z 0-9 - . _ ~, with
// upper-case hex digits; '/' is kept when keep_slash.
std::string UriEncode(std::string_view in, bool keep_slash);

// The canonical URI of a raw (percent-encoded, as received) path: dot segments and empty
// segments removed, a trailing '/' kept, each segment URI-encoded. "" becomes "/".
std::string CanonicalUri(std::string_view raw_path);

// The canonical query of a raw query string (without '?'): every name and value
// percent-decoded ('+' is a literal plus) and URI-encoded again, pairs sorted by encoded name
// then encoded value, "name=" for a missing or empty value, empty pieces ("a=1&&b=2")
// dropped. A malformed escape is encoded as literal text ("%zz" -> "%25zz"). Never throws.
std::string CanonicalQuery(std::string_view raw_query);

// The canonical headers block: for each name in `signed_headers` (lower-case, sorted),
// "name:value\n", where value joins every value of that header in `headers` (in order) with
// ",", each trimmed and with runs of spaces collapsed to one. Throws
// Error(kMissingSignedHeader) when a signed header is absent from `headers`.
std::string CanonicalHeaders(const HeaderList& headers,
                             const std::vector<std::string>& signed_headers);

// METHOD\nURI\nQUERY\nHEADERS\nSIGNED_HEADERS\nPAYLOAD_HASH (canonical_headers already ends
// with a newline, so a blank line separates it from the signed headers list).
std::string CanonicalRequest(std::string_view method, std::string_view canonical_uri,
                             std::string_view canonical_query, std::string_view canonical_headers,
                             std::string_view signed_headers, std::string_view payload_hash);

// AWS4-HMAC-SHA256\nAMZ_DATE\nSCOPE\nhex(SHA256(canonical_request))
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);

// The signing key: HMAC chain over "AWS4"+secret, date, region, service, "aws4_request".
// 32 raw bytes.
std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service);

// Lower-case hex HMAC-SHA256(signing_key, string_to_sign).
std::string SignatureHex(std::string_view signing_key, std::string_view string_to_sign);

// Parses a basic ISO 8601 UTC time "YYYYMMDDTHHMMSSZ" into unix seconds. Returns false on
// any other shape or an impossible date.
bool ParseAmzDate(std::string_view text, int64_t& unix_seconds);
// Formats unix seconds as "YYYYMMDDTHHMMSSZ".
std::string FormatAmzDate(int64_t unix_seconds);

struct SigV4Params {
  std::string region = "us-east-1";
  std::string service = "scanline";
  int64_t max_skew_s = 300;  // seconds each way
  // Also accept a signature over the path and query exactly as received (curl 7.88).
  bool accept_query_as_sent = true;
};

// The active secrets of a key: one, or two during a rotation. Throws Error(kUnknownKey) or
// Error(kRevokedKey) (or kServiceUnavailable when the key store is down).
using SecretLookup = std::function<std::vector<std::string>(const std::string& key_id)>;

// What a successful check established.
struct VerifiedSignature {
  std::string key_id;
  std::string signature;       // lower-case hex: the replay-cache key
  int secret_index = 0;        // which active secret matched (0 or 1)
  int64_t signed_at = 0;       // x-amz-date, unix seconds
  bool query_as_sent = false;  // matched only in the as-received form (curl 7.88)
};

// Filled as far as the check got, also when it throws: for the log and, when the operator
// turns auth.debug_signature_header on, for a debug header on kSignatureMismatch.
struct SigV4Diagnostics {
  std::string key_id;             // from the Authorization header, once parsed
  std::string canonical_request;  // the strict form we computed
  std::string string_to_sign;
};

// Verifies the SigV4 signature of `request` (lower-case header names, raw path and query as
// received, the whole body) at time `now_unix_s`. Calls `lookup` once, after every check
// that needs no key has passed. Throws Error with the codes of ParseAuthorization, and:
//   kMissingAuthorization     no Authorization header;
//   kMalformedAuthorization   x-amz-date absent, repeated or not YYYYMMDDTHHMMSSZ;
//   kMissingSignedHeader      host or x-amz-date not signed; content-type or an x-amz-*
//                             header present but not signed; a signed header absent;
//   kCredentialScopeMismatch  scope date is not x-amz-date's date, or region/service differ;
//   kRequestExpired           x-amz-date more than max_skew_s from now (either way);
//   kUnsignedPayload          x-amz-content-sha256 is UNSIGNED-PAYLOAD or STREAMING-*;
//   kBodyHashMismatch         x-amz-content-sha256 differs from the hash of the body;
//   kUnknownKey, kRevokedKey  from `lookup`;
//   kSignatureMismatch        no active secret gives the signature.
// The signature is not remembered here: the caller passes VerifiedSignature::signature to
// the replay check (core/replay.h).
VerifiedSignature VerifySignature(const Request& request, int64_t now_unix_s,
                                  const SigV4Params& params, const SecretLookup& lookup,
                                  SigV4Diagnostics* diagnostics = nullptr);

// Signs `request` as a SigV4 client would (for tests, benchmarks and the CLI): sets
// x-amz-date (from now_unix_s), x-amz-content-sha256 when with_content_sha256, and
// Authorization, replacing earlier values. Signs host (which must be present), x-amz-*,
// content-type and content-md5 when present. Uses the strict canonical form.
void SignRequest(Request& request, std::string_view key_id, std::string_view secret,
                 int64_t now_unix_s, const SigV4Params& params, bool with_content_sha256 = false);

}  // namespace scanline
