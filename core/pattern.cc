// Bounded-time regular expressions over PCRE2 (see core/pattern.h).
#include "core/pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <unordered_map>
#include <utility>

#include "core/error.h"

namespace scanline {

struct Pattern::Impl {
  pcre2_code* code = nullptr;
  pcre2_match_context* context = nullptr;

  ~Impl() {
    pcre2_match_context_free(context);
    pcre2_code_free(code);
  }

  // pcre2_match's result: > 0 on a match (spans in `data`), <= 0 otherwise, a limit included.
  int Match(std::string_view text, size_t offset, uint32_t options, pcre2_match_data* data) const {
    if (text.size() > kMaxText) return PCRE2_ERROR_NOMATCH;
    return pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), offset,
                       options, data, context);
  }
};

namespace {

struct MatchData {
  explicit MatchData(const pcre2_code* code)
      : data(pcre2_match_data_create_from_pattern(code, nullptr)) {}
  ~MatchData() { pcre2_match_data_free(data); }
  MatchData(const MatchData&) = delete;
  MatchData& operator=(const MatchData&) = delete;
  pcre2_match_data* data;
};

}  // namespace

std::optional<Pattern> Pattern::Compile(std::string_view pattern, bool ignore_case,
                                        std::string* why) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  const uint32_t options = PCRE2_DOLLAR_ENDONLY | (ignore_case ? PCRE2_CASELESS : 0u);
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   options, &error, &offset, nullptr);
  if (code == nullptr) {
    if (why) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(error, message, sizeof message);
      *why = reinterpret_cast<const char*>(message);
      *why += " at offset " + std::to_string(offset);
    }
    return std::nullopt;
  }
  auto impl = std::make_unique<Impl>();
  impl->code = code;
  impl->context = pcre2_match_context_create(nullptr);
  if (impl->context == nullptr) throw std::bad_alloc();
  pcre2_set_match_limit(impl->context, kMatchLimit);
  pcre2_set_depth_limit(impl->context, kDepthLimit);
  return Pattern(std::move(impl));
}

Pattern::Pattern(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Pattern::Pattern(Pattern&&) noexcept = default;
Pattern& Pattern::operator=(Pattern&&) noexcept = default;
Pattern::~Pattern() = default;

bool Pattern::FullMatch(std::string_view text) const {
  MatchData md(impl_->code);
  return impl_->Match(text, 0, PCRE2_ANCHORED | PCRE2_ENDANCHORED, md.data) > 0;
}

bool Pattern::Search(std::string_view text) const { return Find(text).has_value(); }

std::optional<Pattern::Span> Pattern::Find(std::string_view text) const {
  MatchData md(impl_->code);
  if (impl_->Match(text, 0, 0, md.data) <= 0) return std::nullopt;
  const PCRE2_SIZE* span = pcre2_get_ovector_pointer(md.data);
  return Span{span[0], span[1]};
}

std::vector<Pattern::Span> Pattern::FindAll(std::string_view text) const {
  std::vector<Span> out;
  MatchData md(impl_->code);
  size_t offset = 0;
  while (offset <= text.size()) {
    // Empty matches are of no use to a caller and would not advance.
    if (impl_->Match(text, offset, PCRE2_NOTEMPTY, md.data) <= 0) break;
    const PCRE2_SIZE* span = pcre2_get_ovector_pointer(md.data);
    if (span[1] <= span[0]) break;
    out.push_back({span[0], span[1]});
    offset = span[1];
  }
  return out;
}

const Pattern& CachedPattern(const std::string& pattern, bool ignore_case) {
  thread_local std::unordered_map<std::string, Pattern> cache[2];
  auto& map = cache[ignore_case ? 1 : 0];
  auto it = map.find(pattern);
  if (it != map.end()) return it->second;
  std::string why;
  std::optional<Pattern> compiled = Pattern::Compile(pattern, ignore_case, &why);
  if (!compiled) throw Error(ErrorCode::kInternal, "invalid pattern", pattern + ": " + why);
  return map.emplace(pattern, std::move(*compiled)).first->second;
}

}  // namespace scanline
