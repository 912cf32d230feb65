// Token masks from a grammar: which tokens of a vocabulary may come next so
// that the output stays a prefix of a sentence of the grammar.
//
// The vocabulary is given as plain data (each token's bytes, which tokens are
// special, which end generation), so this works with any tokenizer. Masks are
// computed by walking the tokens in byte order (a trie walked as a sorted list
// with common-prefix lengths) through the grammar automaton from the current
// state; a dead prefix prunes every token that shares it. Masks are cached per
// automaton state, so a state seen again (the inside of a JSON string, the
// same spot in the next array element) costs one copy.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "infer/grammar.h"

namespace haip::infer {

// A tokenizer's vocabulary as decoding needs it. Immutable; share one between
// all generations of a model.
class DecodeVocab {
 public:
  // token_bytes[i]: the bytes token i stands for in output text (byte-level
  // BPE strings already mapped back to bytes). special[i] (empty = none):
  // control tokens, which a grammar never produces. eos_ids: the tokens that
  // end generation. Throws haip::Error (kBadRequest) when special has a size
  // other than 0 or token_bytes.size(), or an eos id is out of range.
  DecodeVocab(std::vector<std::string> token_bytes, std::vector<bool> special,
              std::vector<int32_t> eos_ids);

  int32_t size() const { return static_cast<int32_t>(bytes_.size()); }
  const std::string& bytes(int32_t token) const { return bytes_[static_cast<size_t>(token)]; }
  bool is_special(int32_t token) const { return special_[static_cast<size_t>(token)]; }
  bool is_eos(int32_t token) const { return eos_[static_cast<size_t>(token)]; }
  const std::vector<int32_t>& eos_ids() const { return eos_ids_; }

  // Tokens a grammar can produce (not special, not EOS, at least one byte),
  // sorted by bytes, and each
  // one's common prefix length with the one before (0 for the first).
  const std::vector<int32_t>& sorted_tokens() const { return sorted_; }
  const std::vector<uint32_t>& common_prefix() const { return lcp_; }
  size_t max_token_bytes() const { return max_len_; }

 private:
  std::vector<std::string> bytes_;
  std::vector<bool> special_;
  std::vector<bool> eos_;
  std::vector<int32_t> eos_ids_;
  std::vector<int32_t> sorted_;
  std::vector<uint32_t> lcp_;
  size_t max_len_ = 0;
};

// One bit per token.
class TokenMask {
 public:
  TokenMask() = default;
  explicit TokenMask(int32_t size, bool value = false) { Reset(size, value); }
  void Reset(int32_t size, bool value = false);
  int32_t size() const { return size_; }
  bool Test(int32_t token) const {
    return (words_[static_cast<size_t>(token) >> 6] >> (static_cast<uint32_t>(token) & 63)) & 1;
  }
  void Set(int32_t token) {
    words_[static_cast<size_t>(token) >> 6] |= uint64_t{1} << (static_cast<uint32_t>(token) & 63);
  }
  void Clear(int32_t token) {
    words_[static_cast<size_t>(token) >> 6] &=
        ~(uint64_t{1} << (static_cast<uint32_t>(token) & 63));
  }
  int32_t Count() const;
  bool Any() const;
  const std::vector<uint64_t>& words() const { return words_; }
  std::vector<uint64_t>& words() { return words_; }

 private:
  int32_t size_ = 0;
  std::vector<uint64_t> words_;
};

// The grammar state of one generation. Not thread-safe; one per sequence.
class GrammarConstraint {
 public:
  struct Options {
    size_t mask_cache_entries = 256;  // masks kept, least recently used dropped
    size_t max_states = 1 << 16;      // see GrammarMatcher
  };

  GrammarConstraint(std::shared_ptr<const Grammar> grammar,
                    std::shared_ptr<const DecodeVocab> vocab);
  GrammarConstraint(std::shared_ptr<const Grammar> grammar,
                    std::shared_ptr<const DecodeVocab> vocab, Options options);

  // The tokens allowed next: those whose bytes keep the output a prefix of a
  // sentence, and the EOS tokens when the output so far is a sentence.
  // Nothing once EOS was accepted.
  void FillMask(TokenMask* mask);
  // A subset of FillMask for when the token budget runs short: the tokens
  // after which fewer bytes are needed to finish than now (and EOS when the
  // output is a sentence). Each step taken from it brings the end at least
  // one byte closer, so MinBytesToFinish() further tokens always finish.
  void FillFinishingMask(TokenMask* mask);

  bool Allows(int32_t token);
  // Records a sampled token. Throws haip::Error (kBadRequest) naming the
  // token when the grammar does not allow it here.
  void Accept(int32_t token);
  // Restarts at the beginning of the grammar.
  void Reset();

  // The output so far is a sentence (EOS would be allowed).
  bool IsAccepting() const;
  // EOS was accepted, or the output is a sentence that nothing can extend.
  bool IsFinished() const;
  uint32_t MinBytesToFinish() const { return matcher_.MinBytesToAccept(); }

  const DecodeVocab& vocab() const { return *vocab_; }
  size_t cache_hits() const { return hits_; }
  size_t cache_misses() const { return misses_; }
  size_t automaton_states() const { return matcher_.state_count(); }

 private:
  // Walks all tokens from `state`; keeps a token when keep(end state) holds.
  template <typename Keep>
  void Walk(int32_t state, TokenMask* mask, Keep keep);
  void AddEos(TokenMask* mask) const;

  std::shared_ptr<const DecodeVocab> vocab_;
  Options options_;
  GrammarMatcher matcher_;
  bool eos_accepted_ = false;
  std::vector<int32_t> walk_states_;
  // LRU cache: automaton state -> mask words (EOS bits included).
  std::list<int32_t> lru_;
  struct CacheEntry {
    std::vector<uint64_t> words;
    std::list<int32_t>::iterator pos;
  };
  std::unordered_map<int32_t, CacheEntry> cache_;
  size_t hits_ = 0, misses_ = 0;
};

}  // namespace haip::infer
