#include "infer/unicode.h"

#include <algorithm>
#include <array>
#include <memory>

namespace haip::infer::unicode {
namespace {

struct CategoryRange {
  uint32_t first;
  uint8_t flags;
};
struct CodepointPair {
  uint32_t from;
  uint32_t to;
};

#include "infer/unicode_tables.inc"

constexpr uint32_t kMaxCodepoint = 0x110000;

// One byte of flags per code point, expanded from the ranges once (1.1 MB):
// the pre-tokenizers ask for every character of every prompt.
const uint8_t* FlagTable() {
  static const std::unique_ptr<uint8_t[]> table = [] {
    auto t = std::make_unique<uint8_t[]>(kMaxCodepoint);
    constexpr size_t n = sizeof(kCategoryRanges) / sizeof(kCategoryRanges[0]);
    for (size_t i = 0; i < n; ++i) {
      uint32_t end = i + 1 < n ? kCategoryRanges[i + 1].first : kMaxCodepoint;
      std::fill(t.get() + kCategoryRanges[i].first, t.get() + end, kCategoryRanges[i].flags);
    }
    return t;
  }();
  return table.get();
}

template <size_t N>
uint32_t LookupPair(const CodepointPair (&table)[N], uint32_t cp) {
  const CodepointPair* it = std::lower_bound(
      table, table + N, cp, [](const CodepointPair& p, uint32_t v) { return p.from < v; });
  return it != table + N && it->from == cp ? it->to : cp;
}

}  // namespace

uint8_t Flags(uint32_t cp) {
  return cp < kMaxCodepoint ? FlagTable()[cp] : static_cast<uint8_t>(kOther);
}

uint32_t ToLower(uint32_t cp) {
  if (cp < 0x80) return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
  return LookupPair(kLowercase, cp);
}

uint32_t NfdFirst(uint32_t cp) {
  // Hangul syllables decompose algorithmically: the leading consonant first.
  constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kNCount = 588, kSCount = 11172;
  if (cp >= kSBase && cp < kSBase + kSCount) return kLBase + (cp - kSBase) / kNCount;
  if (cp < 0xC0) return cp;
  return LookupPair(kNfdFirst, cp);
}

const char* Version() { return kUnicodeVersion; }

size_t Utf8SequenceLength(uint8_t lead) {
  static constexpr std::array<uint8_t, 16> kLength = {1, 1, 1, 1, 1, 1, 1, 1,
                                                      1, 1, 1, 1, 2, 2, 3, 4};
  return kLength[lead >> 4];
}

Utf8Char DecodeUtf8(std::string_view s, size_t pos) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data()) + pos;
  const size_t avail = s.size() - pos;
  const uint8_t b0 = p[0];
  if (b0 < 0x80) return {b0, 1, true};
  size_t len;
  uint32_t cp;
  uint32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return {kReplacement, 1, false};
  }
  if (avail < len) return {kReplacement, 1, false};
  for (size_t i = 1; i < len; ++i) {
    if ((p[i] & 0xC0) != 0x80) return {kReplacement, 1, false};
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if (cp < min || cp >= kMaxCodepoint || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return {kReplacement, 1, false};
  }
  return {cp, static_cast<uint32_t>(len), true};
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp >= kMaxCodepoint || (cp >= 0xD800 && cp <= 0xDFFF)) cp = kReplacement;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

size_t CompleteUtf8Prefix(std::string_view s) {
  const size_t n = s.size();
  // Look back over at most three continuation bytes for the lead byte of the
  // last sequence; cut before it when the sequence is not finished yet.
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    const auto b = static_cast<uint8_t>(s[n - back]);
    if ((b & 0xC0) == 0x80) continue;  // continuation byte
    size_t want = 1;
    if ((b & 0xE0) == 0xC0) {
      want = 2;
    } else if ((b & 0xF0) == 0xE0) {
      want = 3;
    } else if ((b & 0xF8) == 0xF0) {
      want = 4;
    }
    return want > back ? n - back : n;
  }
  return n;
}

std::string ToValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<uint8_t>(s[i]);
    if (b0 < 0x80) {
      out.push_back(static_cast<char>(b0));
      ++i;
      continue;
    }
    // Continuation bytes a lead byte needs, and the range its second byte
    // must fall in (which excludes overlong forms, surrogates, > U+10FFFF).
    size_t need = 0;
    uint8_t lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      need = 1;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      need = 2;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      need = 3;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    }
    size_t j = i + 1;
    size_t k = 0;
    while (k < need && j < s.size()) {
      const auto c = static_cast<uint8_t>(s[j]);
      if (c < (k == 0 ? lo : 0x80) || c > (k == 0 ? hi : 0xBF)) break;
      ++j;
      ++k;
    }
    if (need > 0 && k == need) {
      out.append(s.substr(i, j - i));
    } else {
      AppendUtf8(out, kReplacement);
    }
    i = need > 0 ? j : i + 1;
  }
  return out;
}

}  // namespace haip::infer::unicode
