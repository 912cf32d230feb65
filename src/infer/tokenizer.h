// The tokenizer of a GGUF model, built from its tokenizer.ggml.* metadata, and
// producing exactly the token ids llama.cpp produces for the same vocabulary.
//
// Vocabulary kinds (tokenizer.ggml.model):
//   "gpt2"  byte-level BPE: text is cut into words by the pre-tokenizer that
//           tokenizer.ggml.pre names (pre_tokenizer.h), each word's bytes are
//           mapped to GPT-2's printable byte alphabet and merged by the ranks
//           in tokenizer.ggml.merges. Qwen2/2.5/3, Llama 3, DeepSeek, GPT-2.
//   "llama" SentencePiece BPE: spaces become U+2581, pieces merge by score
//           (tokenizer.ggml.scores), characters without a token fall back to
//           <0xNN> byte tokens. Llama 1/2, Mistral.
//   "bert"  WordPiece: lowercased, accents stripped, split at whitespace and
//           punctuation, longest-match-first within each word. BERT/BGE
//           embedding models.
//
// Special tokens: control tokens (type 3: <|im_start|>, <|eot_id|>, ...) are
// recognised in text only when Encode is asked to parse them; user-defined
// tokens (type 4) are always recognised, as in llama.cpp and Hugging Face.
//
// A Tokenizer is immutable after construction and safe to use from many
// threads at once (the word cache inside is locked).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "infer/gguf.h"
#include "infer/pre_tokenizer.h"

namespace haip::infer {

using TokenId = int32_t;
inline constexpr TokenId kNoToken = -1;

// Token types as GGUF stores them (tokenizer.ggml.token_type).
enum class TokenType : uint8_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

enum class VocabKind { kBpe, kSpm, kWordPiece };

// A byte range of a text.
struct TextSpan {
  size_t begin = 0;
  size_t length = 0;
};

class Tokenizer {
 public:
  // Reads tokenizer.ggml.model, .tokens, .token_type, .scores, .merges,
  // .pre, the special token ids (bos/eos/eot/eom/unknown/seperator/padding/
  // mask), add_bos_token, add_eos_token, add_space_prefix, and
  // tokenizer.chat_template. Throws haip::Error (kBadRequest) naming the file
  // and the problem: a missing key, an unknown model or pre-tokenizer, arrays
  // of different lengths.
  static Tokenizer FromGguf(const GgufFile& file);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Token ids for `text` (any bytes; invalid UTF-8 never fails).
  // add_special: add BOS/EOS as the vocabulary asks (add_bos_token /
  // add_eos_token; WordPiece adds [CLS] ... [SEP]).
  // parse_special: control-token text in `text` ("<|im_start|>") becomes that
  // token; otherwise it is tokenized as plain text.
  std::vector<TokenId> Encode(std::string_view text, bool add_special = true,
                              bool parse_special = false) const;
  // As above with parse_special, except inside the `literal` spans (sorted,
  // not overlapping): control-token text there stays text. A chat prompt
  // passes its message contents here, so a user cannot forge turn markers.
  std::vector<TokenId> Encode(std::string_view text, bool add_special,
                              std::span<const TextSpan> literal) const;

  // The bytes a token stands for in output text (byte-level BPE strings mapped
  // back to bytes, U+2581 back to a space, <0xNN> to its byte). Control and
  // unknown tokens give "" unless `special`, then their text. Throws
  // haip::Error (kBadRequest) for an id out of range.
  const std::string& Piece(TokenId id, bool special = false) const;
  // The pieces concatenated: what a client streaming tokens sees.
  std::string Decode(std::span<const TokenId> ids, bool special = false) const;
  // llama_detokenize: Decode, plus dropping a leading BOS / trailing EOS the
  // vocabulary adds (remove_special), the leading space SentencePiece adds,
  // and, for vocabularies that ask for it, Hugging Face's
  // clean_up_tokenization_spaces (" ." -> ".", " 's" -> "'s", ...).
  std::string Detokenize(std::span<const TokenId> ids, bool remove_special,
                         bool unparse_special) const;

  int32_t size() const;
  VocabKind kind() const;
  // Meaningful for kBpe only.
  PreTokenizer pre_tokenizer() const;
  // The token's string as stored in the vocabulary.
  const std::string& text(TokenId id) const;
  TokenType type(TokenId id) const;
  float score(TokenId id) const;
  // The token whose stored string is exactly `text`, or kNoToken.
  TokenId Find(std::string_view text) const;

  // kNoToken when the vocabulary has none.
  TokenId bos() const;
  TokenId eos() const;
  TokenId eot() const;  // end of turn: <|eot_id|>, <|im_end|>, ...
  TokenId eom() const;  // end of message: <|eom_id|>
  TokenId unk() const;
  TokenId sep() const;
  TokenId pad() const;
  TokenId mask() const;
  bool add_bos() const;
  bool add_eos() const;
  // Tokens that end generation (EOS, EOT, EOM and the end-of-text/turn tokens
  // llama.cpp recognises by text), ascending.
  const std::vector<TokenId>& eog_ids() const;
  bool IsEog(TokenId id) const;
  // Control, unknown or unused: not text a model writes for a reader.
  bool IsSpecial(TokenId id) const;

  // tokenizer.chat_template, or "" when the file has none.
  const std::string& chat_template() const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace haip::infer
