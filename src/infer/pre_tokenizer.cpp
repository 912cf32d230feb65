#include "infer/pre_tokenizer.h"

#include <algorithm>
#include <cstdint>

#include "infer/unicode.h"

namespace haip::infer {
namespace {

using unicode::kLetter;
using unicode::kNumber;
using unicode::kPunctuation;
using unicode::kWhitespace;

// The text as code points, each with its flags and byte offset (offset has
// one extra entry: the text's size).
struct CodepointText {
  std::vector<uint32_t> cp;
  std::vector<uint8_t> fl;
  std::vector<uint32_t> off;

  void Assign(std::string_view text) {
    cp.clear();
    fl.clear();
    off.clear();
    size_t pos = 0;
    while (pos < text.size()) {
      unicode::Utf8Char c = unicode::DecodeUtf8(text, pos);
      cp.push_back(c.cp);
      fl.push_back(unicode::Flags(c.cp));
      off.push_back(static_cast<uint32_t>(pos));
      pos += c.length;
    }
    off.push_back(static_cast<uint32_t>(text.size()));
  }
  size_t size() const { return cp.size(); }
};

constexpr uint8_t kWsLetterNumber = kWhitespace | kLetter | kNumber;

bool IsCrLf(uint32_t c) { return c == '\r' || c == '\n'; }
uint32_t AsciiLower(uint32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

// Length of an English contraction ('s 't 'm 'd 're 've 'll) at pos, or 0.
size_t Contraction(const CodepointText& t, size_t pos, size_t end, bool any_case) {
  if (t.cp[pos] != '\'' || pos + 1 >= end) return 0;
  auto lower = [&](size_t i) { return any_case ? AsciiLower(t.cp[i]) : t.cp[i]; };
  const uint32_t a = lower(pos + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (pos + 2 >= end) return 0;
  const uint32_t b = lower(pos + 2);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// Whitespace: \s+(?!\S) then \s+ (a run followed by a non-space gives up its
// last character, which then leads the next word).
size_t WhitespaceRun(const CodepointText& t, size_t pos, size_t end) {
  size_t n = 0;
  while (pos + n < end && (t.fl[pos + n] & kWhitespace)) ++n;
  if (n > 1 && pos + n < end) return n - 1;
  return std::max<size_t>(n, 1);
}

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
size_t MatchGpt2(const CodepointText& t, size_t pos, size_t end) {
  if (size_t n = Contraction(t, pos, end, false)) return n;
  const size_t q = t.cp[pos] == ' ' && pos + 1 < end ? pos + 1 : pos;
  const uint8_t f = t.fl[q];
  size_t i = q;
  if (f & kLetter) {
    while (i < end && (t.fl[i] & kLetter)) ++i;
    return i - pos;
  }
  if (f & kNumber) {
    while (i < end && (t.fl[i] & kNumber)) ++i;
    return i - pos;
  }
  if (!(f & kWsLetterNumber)) {
    while (i < end && !(t.fl[i] & kWsLetterNumber)) ++i;
    return i - pos;
  }
  return WhitespaceRun(t, pos, end);
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max_digits}|
//  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
size_t MatchLlama3(const CodepointText& t, size_t pos, size_t end, size_t max_digits) {
  if (size_t n = Contraction(t, pos, end, true)) return n;
  const uint32_t c = t.cp[pos];
  const uint8_t f = t.fl[pos];
  if (!IsCrLf(c) && !(f & kNumber) &&
      ((f & kLetter) || (pos + 1 < end && (t.fl[pos + 1] & kLetter)))) {
    size_t i = pos + 1;
    while (i < end && (t.fl[i] & kLetter)) ++i;
    return i - pos;
  }
  if (f & kNumber) {
    size_t i = pos;
    while (i < end && (t.fl[i] & kNumber) && i - pos < max_digits) ++i;
    return i - pos;
  }
  const size_t q = c == ' ' && pos + 1 < end ? pos + 1 : pos;
  if (!(t.fl[q] & kWsLetterNumber)) {
    size_t i = q;
    while (i < end && !(t.fl[i] & kWsLetterNumber)) ++i;
    while (i < end && IsCrLf(t.cp[i])) ++i;
    return i - pos;
  }
  // \s*[\r\n]+ ends after the last newline of the whitespace run.
  size_t n = 0;
  size_t through_newline = 0;
  while (pos + n < end && (t.fl[pos + n] & kWhitespace)) {
    if (IsCrLf(t.cp[pos + n])) through_newline = n + 1;
    ++n;
  }
  if (through_newline > 0) return through_newline;
  return WhitespaceRun(t, pos, end);
}

struct Range {
  uint32_t first;
  uint32_t last;
};

template <size_t N>
bool InRanges(const Range (&ranges)[N], uint32_t c) {
  for (const Range& r : ranges) {
    if (c >= r.first && c <= r.last) return true;
  }
  return false;
}

// DeepSeek LLM's cased-letter class (Lu, Ll, Lt of an older Unicode).
constexpr Range kDeepseekLetters[] = {
    {0x41, 0x5A},       {0x61, 0x7A},       {0xB5, 0xB5},       {0xC0, 0xD6},
    {0xD8, 0xF6},       {0xF8, 0x1BA},      {0x1BC, 0x1BF},     {0x1C4, 0x293},
    {0x295, 0x2AF},     {0x370, 0x373},     {0x376, 0x377},     {0x37B, 0x37D},
    {0x37F, 0x37F},     {0x386, 0x386},     {0x388, 0x38A},     {0x38C, 0x38C},
    {0x38E, 0x3A1},     {0x3A3, 0x3F5},     {0x3F7, 0x481},     {0x48A, 0x52F},
    {0x531, 0x556},     {0x10A0, 0x10C5},   {0x13A0, 0x13F5},   {0x13F8, 0x13FD},
    {0x1C90, 0x1CBA},   {0x1CBD, 0x1CBF},   {0x1D00, 0x1D2B},   {0x1D6B, 0x1D77},
    {0x1D79, 0x1D9A},   {0x1E00, 0x1F15},   {0x1F18, 0x1F1D},   {0x1F20, 0x1F45},
    {0x1F48, 0x1F4D},   {0x1F50, 0x1F57},   {0x1F59, 0x1F59},   {0x1F5B, 0x1F5B},
    {0x1F5D, 0x1F5D},   {0x1F5F, 0x1F7D},   {0x1F80, 0x1FB4},   {0x1FB6, 0x1FBC},
    {0x1FBE, 0x1FBE},   {0x1FC2, 0x1FC4},   {0x1FC6, 0x1FCC},   {0x1FD0, 0x1FD3},
    {0x1FD6, 0x1FDB},   {0x1FE0, 0x1FEC},   {0x1FF2, 0x1FF4},   {0x1FF6, 0x1FFC},
    {0x2102, 0x2102},   {0x2107, 0x2107},   {0x210A, 0x2113},   {0x2115, 0x2115},
    {0x2119, 0x211D},   {0x2124, 0x2124},   {0x2126, 0x2126},   {0x2128, 0x2128},
    {0x212A, 0x212D},   {0x212F, 0x2134},   {0x2139, 0x2139},   {0x213C, 0x213F},
    {0x2145, 0x2149},   {0x214E, 0x214E},   {0x2183, 0x2184},   {0x2C00, 0x2C7B},
    {0x2C7E, 0x2CE4},   {0x2CEB, 0x2CEE},   {0x2CF2, 0x2CF3},   {0xA640, 0xA66D},
    {0xA680, 0xA69B},   {0xA722, 0xA76F},   {0xA771, 0xA787},   {0xA78B, 0xA78E},
    {0xAB70, 0xABBF},   {0xFB00, 0xFB06},   {0xFB13, 0xFB17},   {0xFF21, 0xFF3A},
    {0xFF41, 0xFF5A},   {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
    {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};
// [!-/:-~！-／：-～‘-‟　-。]; U+3000 is whitespace and never matches here.
constexpr Range kDeepseekPunctuation[] = {{0x21, 0x2F},     {0x3A, 0x7E},     {0xFF01, 0xFF0F},
                                          {0xFF1A, 0xFF5E}, {0x2018, 0x201F}, {0x3001, 0x3002}};
// [一-龥ࠀ-一가-퟿]
constexpr Range kDeepseekCjk[] = {{0x800, 0x9FA5}, {0xAC00, 0xD7FF}};

// \s?[class]+
template <size_t N>
size_t MatchSpaceThenRun(const CodepointText& t, size_t pos, size_t end, const Range (&cls)[N]) {
  size_t i = pos;
  if ((t.fl[i] & kWhitespace) && i + 1 < end && InRanges(cls, t.cp[i + 1])) ++i;
  const size_t start = i;
  while (i < end && InRanges(cls, t.cp[i])) ++i;
  return i == start ? 0 : i - pos;
}

template <typename Pred>
size_t Run(size_t pos, size_t end, size_t max, Pred pred) {
  size_t i = pos;
  while (i < end && i - pos < max && pred(i)) ++i;
  return i - pos;
}

constexpr size_t kUnbounded = SIZE_MAX;

bool IsDefaultPunct(const CodepointText& t, size_t i) {
  const uint32_t c = t.cp[i];
  return (t.fl[i] & kPunctuation) || c == '$' || c == '+' || c == '<' || c == '=' || c == '>' ||
         c == '^' || c == '~' || c == '|';
}

// Cut points (code point indices, ascending, first 0 and last n) refined by one
// regex: every piece is searched left to right for matches; each match and
// each stretch between matches becomes a piece.
template <typename Matcher>
void Refine(std::vector<uint32_t>& cuts, std::vector<uint32_t>& scratch, Matcher match) {
  scratch.clear();
  scratch.push_back(0);
  for (size_t k = 0; k + 1 < cuts.size(); ++k) {
    const size_t begin = cuts[k];
    const size_t end = cuts[k + 1];
    size_t pos = begin;
    while (pos < end) {
      const size_t len = match(pos, end);
      if (len == 0) {
        ++pos;
        continue;
      }
      if (pos != scratch.back()) scratch.push_back(static_cast<uint32_t>(pos));
      pos += len;
      scratch.push_back(static_cast<uint32_t>(pos));
    }
    if (end != scratch.back()) scratch.push_back(static_cast<uint32_t>(end));
  }
  cuts.swap(scratch);
}

// \s+$ : the trailing whitespace of each piece becomes its own piece.
void RefineTrailingSpace(const CodepointText& t, std::vector<uint32_t>& cuts,
                         std::vector<uint32_t>& scratch) {
  scratch.clear();
  scratch.push_back(0);
  for (size_t k = 0; k + 1 < cuts.size(); ++k) {
    const size_t begin = cuts[k];
    const size_t end = cuts[k + 1];
    size_t s = end;
    while (s > begin && (t.fl[s - 1] & kWhitespace)) --s;
    if (s != begin && s != end) scratch.push_back(static_cast<uint32_t>(s));
    scratch.push_back(static_cast<uint32_t>(end));
  }
  cuts.swap(scratch);
}

struct NamedPreTokenizer {
  std::string_view name;
  PreTokenizerInfo info;
};

constexpr NamedPreTokenizer kNames[] = {
    {"default", {PreTokenizer::kDefault, false, false, true}},
    {"gpt-2", {PreTokenizer::kGpt2, false, false, true}},
    {"phi-2", {PreTokenizer::kGpt2, false, false, true}},
    {"roberta-bpe", {PreTokenizer::kGpt2, false, false, true}},
    {"jina-es", {PreTokenizer::kGpt2, false, false, true}},
    {"jina-de", {PreTokenizer::kGpt2, false, false, true}},
    {"jina-v1-en", {PreTokenizer::kGpt2, false, false, true}},
    {"jina-v2-es", {PreTokenizer::kGpt2, false, false, true}},
    {"jina-v2-de", {PreTokenizer::kGpt2, false, false, true}},
    {"jina-v2-code", {PreTokenizer::kGpt2, false, false, true}},
    {"gigachat", {PreTokenizer::kGpt2, false, false, true}},
    {"mpt", {PreTokenizer::kGpt2, false, false, true}},
    {"olmo", {PreTokenizer::kGpt2, false, false, true}},
    {"jais", {PreTokenizer::kGpt2, false, false, true}},
    {"llama3", {PreTokenizer::kLlama3, true, true, true}},
    {"llama-v3", {PreTokenizer::kLlama3, true, true, true}},
    {"llama-bpe", {PreTokenizer::kLlama3, true, true, true}},
    {"falcon3", {PreTokenizer::kLlama3, true, true, true}},
    {"dbrx", {PreTokenizer::kLlama3, false, false, true}},
    {"smaug-bpe", {PreTokenizer::kLlama3, false, false, true}},
    {"qwen2", {PreTokenizer::kQwen2, false, false, false}},
    {"deepseek-r1-qwen", {PreTokenizer::kQwen2, false, false, false}},
    {"stablelm2", {PreTokenizer::kQwen2, false, false, true}},
    {"megrez", {PreTokenizer::kQwen2, false, false, true}},
    {"deepseek-llm", {PreTokenizer::kDeepseekLlm, false, false, false}},
};

}  // namespace

std::optional<PreTokenizerInfo> LookupPreTokenizer(std::string_view name) {
  if (name.empty()) return kNames[0].info;
  for (const NamedPreTokenizer& n : kNames) {
    if (n.name == name) return n.info;
  }
  return std::nullopt;
}

std::string KnownPreTokenizers() {
  std::string out;
  for (const NamedPreTokenizer& n : kNames) {
    if (!out.empty()) out += ", ";
    out += n.name;
  }
  return out;
}

std::string_view PreTokenizerName(PreTokenizer kind) {
  switch (kind) {
    case PreTokenizer::kDefault:
      return "default";
    case PreTokenizer::kGpt2:
      return "gpt-2";
    case PreTokenizer::kLlama3:
      return "llama3";
    case PreTokenizer::kQwen2:
      return "qwen2";
    case PreTokenizer::kDeepseekLlm:
      return "deepseek-llm";
  }
  return "unknown";
}

void PreTokenize(PreTokenizer kind, std::string_view text, std::vector<std::string_view>& words) {
  words.clear();
  if (text.empty()) return;
  thread_local CodepointText t;
  thread_local std::vector<uint32_t> cuts;
  thread_local std::vector<uint32_t> scratch;
  t.Assign(text);
  const size_t n = t.size();
  cuts.assign({0, static_cast<uint32_t>(n)});

  switch (kind) {
    case PreTokenizer::kGpt2:
      Refine(cuts, scratch, [&](size_t p, size_t e) { return MatchGpt2(t, p, e); });
      break;
    case PreTokenizer::kLlama3:
      Refine(cuts, scratch, [&](size_t p, size_t e) { return MatchLlama3(t, p, e, 3); });
      break;
    case PreTokenizer::kQwen2:
      Refine(cuts, scratch, [&](size_t p, size_t e) { return MatchLlama3(t, p, e, 1); });
      break;
    case PreTokenizer::kDefault:
      Refine(cuts, scratch, [&](size_t p, size_t e) {
        return Run(p, e, kUnbounded, [&](size_t i) { return IsDefaultPunct(t, i); });
      });
      Refine(cuts, scratch, [&](size_t p, size_t e) { return MatchGpt2(t, p, e); });
      Refine(cuts, scratch, [&](size_t p, size_t e) {
        return Run(p, e, kUnbounded, [&](size_t i) { return (t.fl[i] & kNumber) != 0; });
      });
      Refine(cuts, scratch, [&](size_t p, size_t e) {
        size_t len = Run(p, e, 3, [&](size_t i) { return t.cp[i] >= '0' && t.cp[i] <= '9'; });
        return len == 3 ? len : 0;
      });
      break;
    case PreTokenizer::kDeepseekLlm:
      Refine(cuts, scratch, [&](size_t p, size_t) { return IsCrLf(t.cp[p]) ? 1 : 0; });
      Refine(cuts, scratch,
             [&](size_t p, size_t e) { return MatchSpaceThenRun(t, p, e, kDeepseekLetters); });
      Refine(cuts, scratch,
             [&](size_t p, size_t e) { return MatchSpaceThenRun(t, p, e, kDeepseekPunctuation); });
      RefineTrailingSpace(t, cuts, scratch);
      Refine(cuts, scratch, [&](size_t p, size_t e) {
        return Run(p, e, kUnbounded, [&](size_t i) { return InRanges(kDeepseekCjk, t.cp[i]); });
      });
      Refine(cuts, scratch, [&](size_t p, size_t e) {
        return Run(p, e, kUnbounded, [&](size_t i) { return (t.fl[i] & kNumber) != 0; });
      });
      break;
  }

  words.reserve(cuts.size() - 1);
  for (size_t k = 0; k + 1 < cuts.size(); ++k) {
    const uint32_t b = t.off[cuts[k]];
    const uint32_t e = t.off[cuts[k + 1]];
    words.push_back(text.substr(b, e - b));
  }
}

}  // namespace haip::infer
