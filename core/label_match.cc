// Fuzzy label matching over OCR lines (see core/label_match.h).
#include "core/label_match.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace scanline {
namespace {

bool IsTrimmed(unsigned char c) {
  // ASCII punctuation at a token's ends is noise for matching ("DATE:", "(RM)", "NO.");
  // '%', '#', '@', '$' and '&' carry meaning and stay.
  return c < 0x80 && (std::isspace(c) || (std::ispunct(c) && c != '%' && c != '#' && c != '@' &&
                                          c != '$' && c != '&'));
}

std::string NormToken(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && IsTrimmed(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && IsTrimmed(static_cast<unsigned char>(s[e - 1]))) --e;
  std::string out;
  out.reserve(e - b);
  for (size_t i = b; i < e; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    out.push_back(c < 0x80 ? static_cast<char>(std::toupper(c)) : static_cast<char>(c));
  }
  return out;
}

// Adds the tokens of one word (split after each ':' with text behind it) at `offset` in the
// line text.
void AddWordTokens(std::string_view word, size_t offset, const PixelBox& box, float confidence,
                   std::vector<LineToken>& out) {
  size_t start = 0;
  while (start < word.size()) {
    // Split after a ':' and before a '(' inside the word: "DATE:25/12", "SALES(INCL".
    size_t colon = word.find(':', start);
    size_t end =
        colon == std::string_view::npos || colon + 1 >= word.size() ? word.size() : colon + 1;
    size_t paren = word.find('(', start + 1);
    if (paren != std::string_view::npos && paren < end) end = paren;
    LineToken t;
    t.norm = NormToken(word.substr(start, end - start));
    t.begin = offset + start;
    t.end = offset + end;
    // A split word's parts share its box, narrowed by their share of its characters.
    t.box = box;
    t.confidence = confidence;
    if (word.size() > 0 && (start > 0 || end < word.size())) {
      t.box.x = box.x + static_cast<int>(box.w * start / word.size());
      t.box.w = std::max(1, static_cast<int>(box.w * (end - start) / word.size()));
    }
    out.push_back(std::move(t));
    start = end;
  }
}

std::string Squash(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != ' ' && c != '_' && c != '-') out.push_back(c);
  }
  return out;
}

}  // namespace

PixelBox UnionBox(const PixelBox& a, const PixelBox& b) {
  if (a.w <= 0 && a.h <= 0) return b;
  if (b.w <= 0 && b.h <= 0) return a;
  int x0 = std::min(a.x, b.x), y0 = std::min(a.y, b.y);
  int x1 = std::max(a.x + a.w, b.x + b.w), y1 = std::max(a.y + a.h, b.y + b.h);
  return {x0, y0, x1 - x0, y1 - y0};
}

bool BoxesOverlap(const PixelBox& a, const PixelBox& b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

std::string NormaliseLabel(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t j = i;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    if (j > i) {
      std::string t = NormToken(text.substr(i, j - i));
      if (!t.empty()) out += (out.empty() ? "" : " ") + t;
    }
    i = j;
  }
  return out;
}

int EditDistance(std::string_view a, std::string_view b, int limit) {
  const int n = static_cast<int>(a.size()), m = static_cast<int>(b.size());
  if (std::abs(n - m) > limit) return limit + 1;
  if (a == b) return 0;
  if (limit <= 0) return limit + 1;
  // Only cells within `limit` of the diagonal can stay within the limit: a band of
  // 2 * limit + 1 cells a row. Called for every label against every window of every line,
  // so the rows are reused.
  const int out = limit + 1;
  thread_local std::vector<int> prev, cur;
  prev.assign(m + 1, out);
  cur.assign(m + 1, out);
  for (int j = 0; j <= std::min(m, limit); ++j) prev[j] = j;
  for (int i = 1; i <= n; ++i) {
    const int lo = std::max(1, i - limit), hi = std::min(m, i + limit);
    cur[lo - 1] = lo == 1 && i <= limit ? i : out;
    int row_min = cur[lo - 1];
    for (int j = lo; j <= hi; ++j) {
      cur[j] = std::min(
          {prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1] ? 1 : 0), out});
      row_min = std::min(row_min, cur[j]);
    }
    if (hi + 1 <= m) cur[hi + 1] = out;
    if (row_min > limit) return out;
    std::swap(prev, cur);
  }
  return std::min(prev[m], out);
}

int AllowedEdits(size_t length) {
  if (length <= 3) return 0;
  if (length <= 7) return 1;
  return 2;
}

TextLine PrepareLine(std::string_view text, const PixelBox& box) {
  TextLine line;
  line.text = std::string(text);
  line.box = box;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t j = i;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    if (j > i) AddWordTokens(text.substr(i, j - i), i, box, 100, line.tokens);
    i = j;
  }
  return line;
}

std::vector<TextLine> PrepareLines(const std::vector<OcrPage>& pages) {
  std::vector<TextLine> out;
  for (size_t p = 0; p < pages.size(); ++p) {
    std::vector<TextLine> page_lines;
    for (const OcrBlock& block : pages[p].blocks) {
      for (const OcrLine& l : block.lines) {
        if (l.text.find_first_not_of(" \t") == std::string::npos) continue;
        TextLine line;
        line.box = l.box;
        line.confidence = l.confidence;
        line.page = static_cast<int>(p);
        if (l.words.empty()) {
          line = PrepareLine(l.text, l.box);
          line.confidence = l.confidence;
          line.page = static_cast<int>(p);
        } else {
          for (const OcrWord& w : l.words) {
            if (w.text.empty()) continue;
            if (!line.text.empty()) line.text.push_back(' ');
            size_t offset = line.text.size();
            line.text += w.text;
            AddWordTokens(w.text, offset, w.box, w.confidence, line.tokens);
          }
        }
        page_lines.push_back(std::move(line));
      }
    }
    // Reading order: by the line's vertical centre, lines on one row left to right.
    std::stable_sort(page_lines.begin(), page_lines.end(),
                     [](const TextLine& a, const TextLine& b) {
                       const int ca = a.box.y + a.box.h / 2, cb = b.box.y + b.box.h / 2;
                       const int tol = std::max(2, std::min(a.box.h, b.box.h) / 2);
                       if (std::abs(ca - cb) > tol) return ca < cb;
                       return a.box.x < b.box.x;
                     });
    for (auto& l : page_lines) out.push_back(std::move(l));
  }
  for (size_t i = 0; i < out.size(); ++i) out[i].index = static_cast<int>(i);
  return out;
}

LabelMatch FindLabel(const TextLine& line, std::string_view label) {
  LabelMatch best;
  // Labels come from templates, a bounded set: each is split and squashed once per thread.
  struct Parsed {
    size_t parts = 0;
    std::string target;  // the parts without spaces
  };
  thread_local std::map<std::string, Parsed, std::less<>> parsed;
  auto it = parsed.find(label);
  if (it == parsed.end()) {
    Parsed p;
    std::string norm = NormaliseLabel(label);
    size_t i = 0;
    while (i <= norm.size()) {
      size_t j = norm.find(' ', i);
      if (j == std::string::npos) j = norm.size();
      if (j > i) {
        ++p.parts;
        p.target += norm.substr(i, j - i);
      }
      i = j + 1;
    }
    if (parsed.size() > 4096) parsed.clear();
    it = parsed.emplace(std::string(label), std::move(p)).first;
  }
  if (it->second.parts == 0) return best;
  const std::string& target = it->second.target;
  const int allowed = AllowedEdits(target.size());
  const size_t k = it->second.parts;
  const size_t n = line.tokens.size();
  for (size_t b = 0; b < n; ++b) {
    if (line.tokens[b].norm.empty()) continue;
    for (size_t len = (k > 1 ? k - 1 : 1); len <= k + 1 && b + len <= n; ++len) {
      if (line.tokens[b + len - 1].norm.empty()) continue;
      // Windows whose length alone puts them out of reach are not compared.
      size_t window_size = 0;
      for (size_t i = b; i < b + len; ++i) window_size += line.tokens[i].norm.size();
      if (window_size > target.size() + allowed) break;
      if (window_size + allowed < target.size()) continue;
      thread_local std::string window;
      window.clear();
      for (size_t i = b; i < b + len; ++i) window += line.tokens[i].norm;
      int d = EditDistance(window, target, allowed);
      if (d > allowed) continue;
      // A single-character label must not match inside a longer token, nor a short token
      // match the first letters of a long label.
      double q = 1.0 - 0.3 * d / std::max(1, allowed) * (allowed > 0 ? 1.0 : 0.0);
      if (d == 0) q = 1.0;
      if (!best.found || q > best.quality + 1e-9) {
        best.found = true;
        best.label = std::string(label);
        best.first_token = b;
        best.end_token = b + len;
        best.text_begin = line.tokens[b].begin;
        best.text_end = line.tokens[b + len - 1].end;
        best.quality = q;
        PixelBox box;
        for (size_t i = b; i < b + len; ++i) box = UnionBox(box, line.tokens[i].box);
        best.box = box;
      }
    }
  }
  return best;
}

LabelMatch FindAnyLabel(const TextLine& line, const std::vector<std::string>& labels) {
  LabelMatch best;
  size_t best_len = 0;
  for (const std::string& label : labels) {
    LabelMatch m = FindLabel(line, label);
    if (!m.found) continue;
    const size_t len = Squash(NormaliseLabel(label)).size();
    // Quality first; a longer label wins among near-equal matches.
    if (!best.found || m.quality > best.quality + 0.05 ||
        (m.quality > best.quality - 0.05 && len > best_len)) {
      best = m;
      best_len = len;
    }
  }
  return best;
}

double PhraseSimilarity(std::string_view a, std::string_view b) {
  std::string x = Squash(NormaliseLabel(a)), y = Squash(NormaliseLabel(b));
  if (x.empty() || y.empty()) return 0;
  const int longer = static_cast<int>(std::max(x.size(), y.size()));
  int d = EditDistance(x, y, longer);
  return 1.0 - static_cast<double>(d) / longer;
}

}  // namespace scanline
