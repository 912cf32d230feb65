// The Unicode facts the tokenizer needs: each code point's general-category
// class and White_Space property (what \p{L}, \p{N}, \s mean in the
// pre-tokenizer regexes), simple lowercase, the first code point of the
// canonical decomposition (WordPiece strips accents that way), and UTF-8
// decoding that never fails. The tables are generated from the Unicode
// Character Database by scripts/gen_unicode_tables.py (see docs/tokenizer.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace haip::infer::unicode {

// Category class bits; exactly one of the first seven is set for every code
// point (unassigned ones are kOther, like \p{C}); kWhitespace is added for the
// White_Space property.
enum CodepointFlags : uint8_t {
  kLetter = 0x01,       // \p{L}
  kNumber = 0x02,       // \p{N}
  kMark = 0x04,         // \p{M}
  kPunctuation = 0x08,  // \p{P}
  kSymbol = 0x10,       // \p{S}
  kSeparator = 0x20,    // \p{Z}
  kOther = 0x40,        // \p{C}: controls, format, private use, surrogates, unassigned
  kWhitespace = 0x80,   // \s (White_Space)
};

// Flags of a code point; values past U+10FFFF are kOther.
uint8_t Flags(uint32_t cp);
inline bool IsLetter(uint32_t cp) { return Flags(cp) & kLetter; }
inline bool IsNumber(uint32_t cp) { return Flags(cp) & kNumber; }
inline bool IsWhitespace(uint32_t cp) { return Flags(cp) & kWhitespace; }

// Simple lowercase mapping (the code point itself when it has none).
uint32_t ToLower(uint32_t cp);
// First code point of the full canonical decomposition (NFD), Hangul
// syllables included; the code point itself when it does not decompose.
uint32_t NfdFirst(uint32_t cp);
// The UCD version the tables were generated from ("15.0.0").
const char* Version();

inline constexpr uint32_t kReplacement = 0xFFFD;

// One decoded UTF-8 sequence. An invalid or truncated sequence decodes as
// U+FFFD with length 1 (the next byte is tried as a new sequence) and
// valid = false, so decoding always makes progress.
struct Utf8Char {
  uint32_t cp;
  uint32_t length;
  bool valid;
};
// REQUIRES: pos < s.size().
Utf8Char DecodeUtf8(std::string_view s, size_t pos);
// Bytes in the sequence a lead byte announces (1 for continuation and
// invalid bytes), as llama.cpp counts them when it splits text into symbols.
size_t Utf8SequenceLength(uint8_t lead);
// Appends the UTF-8 encoding of cp (U+FFFD for values that are not scalar).
void AppendUtf8(std::string& out, uint32_t cp);
// Length of the longest prefix of s that does not end inside an incomplete
// UTF-8 sequence (for streaming text out token by token); invalid bytes count
// as complete.
size_t CompleteUtf8Prefix(std::string_view s);
// s with every ill-formed sequence replaced by U+FFFD, one per maximal
// subpart (the Unicode-recommended practice; Python's errors="replace"), so
// token bytes can go into JSON.
std::string ToValidUtf8(std::string_view s);

}  // namespace haip::infer::unicode
