// The image and form fields of a request body, in the three shapes the API accepts:
//
//   raw        Content-Type image/png, image/jpeg, image/tiff, image/webp, image/bmp,
//              application/pdf (or application/octet-stream): the body is the image.
//   multipart  multipart/form-data (RFC 7578, boundaries per RFC 2046 section 5.1.1): the part
//              named `file` (or `image`) is the image; other parts are fields.
//   JSON       application/json: an object whose `image` member is the image in base64
//              (RFC 4648, standard or URL-safe alphabet, padding optional, whitespace
//              ignored, a `data:...;base64,` prefix allowed); other members are fields.
//
// The image's format is never taken from a Content-Type: core/image.h sniffs the bytes.
// The parsers are plain functions over (content_type, body) so a fuzzer can call them; on
// bad input they throw Error(kBadRequest) or Error(kUnsupportedMediaType) with a detail that
// says what is wrong, and never read outside the body.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/http.h"

namespace scanline {

struct RequestBody {
  std::string image;       // the image bytes; empty when the body carries none
  std::string image_type;  // the media type declared for the image ("" when none)
  std::string filename;    // multipart filename of the image part ("" when none)
  bool raw = false;        // the image is the whole body
  // The image's SHA-256 in lower-case hex when already known, else empty: ExtractRequestBody
  // passes on a raw body's Request::body_sha256.
  std::string image_sha256;
  // Fields in order. Multipart: each non-image part's content. JSON: string members as their
  // value; numbers, booleans, objects and arrays as their JSON text (e.g. a profile object).
  std::vector<std::pair<std::string, std::string>> fields;

  // The last field with this name.
  std::optional<std::string> Field(std::string_view name) const;
};

inline constexpr int kMaxMultipartParts = 64;

// Dispatches on the media type of `content_type` (parameters allowed). `require_image`: throw
// Error(kBadRequest) when no image is found. An unknown media type is
// Error(kUnsupportedMediaType) naming the accepted ones. A body that is an image sent with
// curl's default application/x-www-form-urlencoded, or with no Content-Type, is taken raw.
RequestBody ParseRequestBody(std::string_view content_type, std::string_view body,
                             bool require_image = true);

// multipart/form-data. `content_type` must carry the boundary parameter. At most
// kMaxMultipartParts parts.
RequestBody ParseMultipart(std::string_view content_type, std::string_view body);

// application/json: the body must be one JSON object.
RequestBody ParseJsonBody(std::string_view body);

// RFC 4648 base64, standard or URL-safe, padding optional, ASCII whitespace skipped. Returns
// nullopt on any other character or an impossible length.
std::optional<std::string> DecodeBase64(std::string_view text);

// The request's body, by its Content-Type header.
RequestBody ExtractRequestBody(const Request& request, bool require_image = true);

}  // namespace scanline
