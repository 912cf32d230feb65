// Pre-tokenizers of byte-level BPE vocabularies: the regexes that cut text into
// words before BPE merges run inside each word (tokenizer.ggml.pre names the
// regex set). Each regex is implemented by hand over Unicode categories (see
// unicode.h), with the semantics llama.cpp gives them: a list of regexes is
// applied one after another, each one splitting every piece the previous one
// produced into its matches and the text between matches.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace haip::infer {

enum class PreTokenizer {
  kDefault,      // "default" and a missing name: punctuation runs, the GPT-2 regex, digit runs, 3
                 // digits
  kGpt2,         // "gpt-2" and relatives: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
                 // ?[^\s\p{L}\p{N}]+|\s+(?!\S)
  kLlama3,       // "llama-bpe" / "llama3": case-insensitive contractions, \p{N}{1,3}, newline runs
  kQwen2,        // "qwen2" / "deepseek-r1-qwen": as Llama 3 but one digit per word
  kDeepseekLlm,  // "deepseek-llm": newlines, cased-letter runs, ASCII/CJK punctuation, CJK runs,
                 // digits
};

// What a tokenizer.ggml.pre name means for the tokenizer.
struct PreTokenizerInfo {
  PreTokenizer kind;
  bool ignore_merges;  // a word that is itself a token is emitted whole (Llama 3)
  bool add_bos;        // BOS is added by default (an add_bos_token key overrides)
  bool clean_spaces;   // detokenizing removes spaces before punctuation
};

// nullopt for names this build does not know.
std::optional<PreTokenizerInfo> LookupPreTokenizer(std::string_view name);
// The names LookupPreTokenizer accepts, comma-separated (for error messages).
std::string KnownPreTokenizers();
std::string_view PreTokenizerName(PreTokenizer kind);

// Splits `text` into words: views into `text` that, concatenated, give `text`
// back. Any bytes are accepted; an invalid UTF-8 byte is kept as it is and
// treated like U+FFFD (a symbol) for the regexes.
void PreTokenize(PreTokenizer kind, std::string_view text, std::vector<std::string_view>& words);

}  // namespace haip::infer
