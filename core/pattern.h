// Regular expressions for template patterns and the rule engine, matched in bounded time.
//
// Template patterns come from operators and are matched against text read from client images,
// so a pattern that backtracks badly ("(a+)+$", or a money pattern over a line of 10 000
// digits) must neither hold a worker for seconds nor overflow its stack. Patterns are compiled
// with PCRE2 (JIT when the platform has it), whose syntax covers what templates use:
// classes, groups, alternation, counted repeats, lookahead and lookbehind, \b \d \s \w. Every
// match runs under PCRE2's match and depth limits: a match that would exceed them counts as no
// match (and the value is then reported as not matching its pattern), it never throws.
// Trying a pattern at every offset of a text still costs up to the square of its length, so
// a text longer than kMaxText bytes (far more than a line or a field value) never matches.
// Matching is byte-wise: a multi-byte character in a class stands for its bytes.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scanline {

class Pattern {
 public:
  // Compiles `pattern`. Returns nothing, with the reason and offset in `why`, when the
  // expression is not valid.
  static std::optional<Pattern> Compile(std::string_view pattern, bool ignore_case,
                                        std::string* why = nullptr);

  Pattern(Pattern&&) noexcept;
  Pattern& operator=(Pattern&&) noexcept;
  ~Pattern();

  // Whether the whole of `text` matches (false when it is longer than kMaxText).
  bool FullMatch(std::string_view text) const;
  // Whether some part of `text` matches (false when it is longer than kMaxText).
  bool Search(std::string_view text) const;

  struct Span {
    size_t begin = 0;  // byte offsets in the text searched
    size_t end = 0;
  };
  // The leftmost match, if any (none when `text` is longer than kMaxText).
  std::optional<Span> Find(std::string_view text) const;
  // Every non-overlapping, non-empty match, left to right. `text` is the whole subject:
  // ^, \b and lookbehind see nothing before its first byte. None when `text` is longer
  // than kMaxText.
  std::vector<Span> FindAll(std::string_view text) const;

  // PCRE2 match limit (steps) per match call, and depth limit (backtracking frames, heap).
  static constexpr unsigned kMatchLimit = 200000;
  static constexpr unsigned kDepthLimit = 2000;
  // Longest text matched at all.
  static constexpr size_t kMaxText = 4096;

  struct Impl;

 private:
  explicit Pattern(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The compiled form of `pattern`, cached per thread. Throws Error(kInternal) when `pattern`
// does not compile (templates are validated when loaded, so that is a bug).
const Pattern& CachedPattern(const std::string& pattern, bool ignore_case);

}  // namespace scanline
