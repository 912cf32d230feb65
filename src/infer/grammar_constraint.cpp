#include "infer/grammar_constraint.h"

#include <algorithm>
#include <bit>

#include "core/error.h"

namespace haip::infer {

DecodeVocab::DecodeVocab(std::vector<std::string> token_bytes, std::vector<bool> special,
                         std::vector<int32_t> eos_ids)
    : bytes_(std::move(token_bytes)), special_(std::move(special)), eos_ids_(std::move(eos_ids)) {
  if (special_.empty()) special_.assign(bytes_.size(), false);
  if (special_.size() != bytes_.size()) {
    throw Error(ErrorCode::kBadRequest, "decode vocabulary: " + std::to_string(special_.size()) +
                                            " special flags for " + std::to_string(bytes_.size()) +
                                            " tokens");
  }
  eos_.assign(bytes_.size(), false);
  for (int32_t id : eos_ids_) {
    if (id < 0 || static_cast<size_t>(id) >= bytes_.size()) {
      throw Error(ErrorCode::kBadRequest, "decode vocabulary: eos token " + std::to_string(id) +
                                              " outside a vocabulary of " +
                                              std::to_string(bytes_.size()));
    }
    eos_[static_cast<size_t>(id)] = true;
  }
  for (size_t i = 0; i < bytes_.size(); ++i) {
    if (!special_[i] && !eos_[i] && !bytes_[i].empty()) sorted_.push_back(static_cast<int32_t>(i));
    max_len_ = std::max(max_len_, bytes_[i].size());
  }
  std::sort(sorted_.begin(), sorted_.end(), [this](int32_t a, int32_t b) {
    const auto& x = bytes_[static_cast<size_t>(a)];
    const auto& y = bytes_[static_cast<size_t>(b)];
    return x < y || (x == y && a < b);
  });
  lcp_.assign(sorted_.size(), 0);
  for (size_t i = 1; i < sorted_.size(); ++i) {
    const auto& x = bytes_[static_cast<size_t>(sorted_[i - 1])];
    const auto& y = bytes_[static_cast<size_t>(sorted_[i])];
    size_t n = std::min(x.size(), y.size());
    size_t k = 0;
    while (k < n && x[k] == y[k]) ++k;
    lcp_[i] = static_cast<uint32_t>(k);
  }
}

void TokenMask::Reset(int32_t size, bool value) {
  size_ = size;
  words_.assign((static_cast<size_t>(size) + 63) / 64, value ? ~uint64_t{0} : 0);
  if (value && (size & 63) != 0) words_.back() = (uint64_t{1} << (size & 63)) - 1;
}

int32_t TokenMask::Count() const {
  int32_t n = 0;
  for (uint64_t w : words_) n += std::popcount(w);
  return n;
}

bool TokenMask::Any() const {
  return std::any_of(words_.begin(), words_.end(), [](uint64_t w) { return w != 0; });
}

GrammarConstraint::GrammarConstraint(std::shared_ptr<const Grammar> grammar,
                                     std::shared_ptr<const DecodeVocab> vocab)
    : GrammarConstraint(std::move(grammar), std::move(vocab), Options{}) {}

GrammarConstraint::GrammarConstraint(std::shared_ptr<const Grammar> grammar,
                                     std::shared_ptr<const DecodeVocab> vocab, Options options)
    : vocab_(std::move(vocab)),
      options_(options),
      matcher_(std::move(grammar), options.max_states) {
  walk_states_.assign(vocab_->max_token_bytes() + 1, GrammarMatcher::kDead);
}

template <typename Keep>
void GrammarConstraint::Walk(int32_t state, TokenMask* mask, Keep keep) {
  const auto& sorted = vocab_->sorted_tokens();
  const auto& lcp = vocab_->common_prefix();
  // walk_states_[d]: the state after the first d bytes of the last token
  // walked, valid for d <= valid. A dead prefix of dead_len bytes rules out
  // every following token that shares it.
  walk_states_[0] = state;
  size_t valid = 0;
  size_t dead_len = SIZE_MAX;
  for (size_t i = 0; i < sorted.size(); ++i) {
    size_t common = lcp[i];
    if (common >= dead_len) continue;
    dead_len = SIZE_MAX;
    int32_t token = sorted[i];
    const std::string& b = vocab_->bytes(token);
    size_t d = std::min(common, valid);
    int32_t s = walk_states_[d];
    for (; d < b.size(); ++d) {
      s = matcher_.Next(s, static_cast<uint8_t>(b[d]));
      if (s == GrammarMatcher::kDead) break;
      walk_states_[d + 1] = s;
    }
    if (s == GrammarMatcher::kDead) {
      dead_len = d + 1;
      valid = d;
      continue;
    }
    valid = b.size();
    if (keep(s)) mask->Set(token);
  }
}

void GrammarConstraint::AddEos(TokenMask* mask) const {
  if (matcher_.IsAccepting()) {
    for (int32_t id : vocab_->eos_ids()) mask->Set(id);
  }
}

void GrammarConstraint::FillMask(TokenMask* mask) {
  mask->Reset(vocab_->size());
  if (eos_accepted_) return;
  int32_t state = matcher_.state();
  auto it = cache_.find(state);
  if (it != cache_.end()) {
    ++hits_;
    lru_.splice(lru_.begin(), lru_, it->second.pos);
    mask->words() = it->second.words;
    return;
  }
  ++misses_;
  Walk(state, mask, [](int32_t) { return true; });
  AddEos(mask);
  if (options_.mask_cache_entries == 0) return;
  if (cache_.size() >= options_.mask_cache_entries) {
    cache_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(state);
  cache_.emplace(state, CacheEntry{mask->words(), lru_.begin()});
}

void GrammarConstraint::FillFinishingMask(TokenMask* mask) {
  mask->Reset(vocab_->size());
  if (eos_accepted_) return;
  int32_t state = matcher_.state();
  uint32_t now = matcher_.MinBytesToAccept(state);
  if (now > 0) {
    Walk(state, mask, [&](int32_t s) { return matcher_.MinBytesToAccept(s) < now; });
  }
  AddEos(mask);
}

bool GrammarConstraint::Allows(int32_t token) {
  if (token < 0 || token >= vocab_->size() || eos_accepted_) return false;
  if (vocab_->is_eos(token)) return matcher_.IsAccepting();
  if (vocab_->is_special(token)) return false;
  const std::string& b = vocab_->bytes(token);
  if (b.empty()) return false;
  int32_t s = matcher_.state();
  for (char c : b) {
    s = matcher_.Next(s, static_cast<uint8_t>(c));
    if (s == GrammarMatcher::kDead) return false;
  }
  return true;
}

void GrammarConstraint::Accept(int32_t token) {
  if (!Allows(token)) {
    throw Error(ErrorCode::kBadRequest,
                "token " + std::to_string(token) + " is not allowed by the grammar here");
  }
  if (vocab_->is_eos(token)) {
    eos_accepted_ = true;
    return;
  }
  matcher_.Advance(vocab_->bytes(token));
}

void GrammarConstraint::Reset() {
  matcher_.Restart();
  eos_accepted_ = false;
}

bool GrammarConstraint::IsAccepting() const { return !eos_accepted_ && matcher_.IsAccepting(); }

bool GrammarConstraint::IsFinished() const {
  return eos_accepted_ || (matcher_.IsAccepting() && !matcher_.CanContinue());
}

}  // namespace haip::infer
