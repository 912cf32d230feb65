// Regular expressions (the subset of ECMAScript syntax that JSON Schema
// `pattern` uses in practice) turned into grammar text for the *inside* of a
// JSON string: the expression matches the encoded characters between the
// quotes whose decoded value the pattern matches. Characters that JSON must
// escape (", \ and U+0000..U+001F) are written as escapes (\" \\ \n \t ...,
// \u00XX); every other character is written raw.
//
// Supported: literals; escapes \d \D \w \W \s \S \t \n \r \f \v \0 \xHH
// \uHHHH and escaped punctuation; `.` (any character but line terminators);
// classes [...] and [^...] with ranges and class escapes; groups (...),
// (?:...) and (?<name>...); alternation |; quantifiers * + ? {n} {n,} {n,m}
// (a trailing lazy `?` is accepted and means the same set of strings); `^` at
// the start and `$` at the end of a top-level alternative. A pattern is a
// search, as in JSON Schema: an alternative without `^` may have anything
// before it, one without `$` anything after.
// Not supported (haip::Error kUnprocessable): backreferences, lookaround,
// word boundaries, anchors elsewhere, flags, and a repeated group that can
// match the empty string with no upper bound.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "infer/grammar.h"

namespace haip::infer {

// Adds a rule with the given body (a name is derived from `hint`) and
// returns its name; identical bodies may share one rule.
using AddGrammarRule = std::function<std::string(std::string_view hint, const std::string& body)>;

// `any_char_rule` names a rule matching one encoded JSON string character
// (used for the unanchored ends).
std::string RegexToJsonContentGbnf(std::string_view pattern, const std::string& any_char_rule,
                                   const AddGrammarRule& add_rule);

// A grammar expression matching one character of `chars` (code points) as it
// is written inside a JSON string.
std::string JsonEncodedCharsGbnf(const std::vector<Grammar::CodeRange>& chars);

// A grammar character class `[...]` for `chars`; ASCII-only text.
std::string GbnfCharClass(const std::vector<Grammar::CodeRange>& chars);

// A grammar string literal for `bytes` (UTF-8), with escapes as needed.
std::string GbnfLiteral(std::string_view bytes);

}  // namespace haip::infer
