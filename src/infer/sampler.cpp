#include "infer/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_set>

#include "core/error.h"

namespace haip::infer {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

[[noreturn]] void Bad(const std::string& what) {
  throw Error(ErrorCode::kBadRequest, "sampling: " + what);
}

bool Finite(float v) { return std::isfinite(v); }

}  // namespace

void SamplingParams::Validate(int32_t vocab_size) const {
  if (!(temperature >= 0.0f) || !std::isfinite(temperature)) Bad("temperature must be 0 or more");
  if (top_k < 0) Bad("top_k must be 0 (off) or more");
  if (!(top_p > 0.0f && top_p <= 1.0f)) Bad("top_p must be in (0, 1]");
  if (!(min_p >= 0.0f && min_p < 1.0f)) Bad("min_p must be in [0, 1)");
  if (!(repetition_penalty > 0.0f) || !std::isfinite(repetition_penalty))
    Bad("repetition_penalty must be above 0");
  if (repeat_last_n < -1) Bad("repeat_last_n must be -1 (all), 0 (off) or more");
  if (!(presence_penalty >= -2.0f && presence_penalty <= 2.0f))
    Bad("presence_penalty must be in [-2, 2]");
  if (!(frequency_penalty >= -2.0f && frequency_penalty <= 2.0f))
    Bad("frequency_penalty must be in [-2, 2]");
  if (top_logprobs < 0 || top_logprobs > 20) Bad("top_logprobs must be in [0, 20]");
  for (const auto& [token, bias] : logit_bias) {
    if (token < 0 || token >= vocab_size) {
      Bad("logit_bias token " + std::to_string(token) + " outside the vocabulary of " +
          std::to_string(vocab_size));
    }
    if (std::isnan(bias) || bias == std::numeric_limits<float>::infinity()) {
      Bad("logit_bias for token " + std::to_string(token) + " must be a number or -inf");
    }
  }
}

Sampler::Sampler(SamplingParams params, int32_t vocab_size)
    : params_(std::move(params)), vocab_size_(vocab_size) {
  if (vocab_size <= 0) Bad("vocabulary size must be positive");
  params_.Validate(vocab_size);
  seed_ = params_.seed
              ? *params_.seed
              : (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  rng_.seed(seed_);
}

void Sampler::Accept(int32_t token) {
  ++counts_[token];
  if (params_.repeat_last_n > 0) {
    recent_.push_back(token);
    while (recent_.size() > static_cast<size_t>(params_.repeat_last_n)) recent_.pop_front();
  }
}

void Sampler::Reset() {
  recent_.clear();
  counts_.clear();
  rng_.seed(seed_);
}

double Sampler::Uniform() {
  // 53 random bits -> [0, 1); std::mt19937_64's output is fixed by the C++
  // standard, so a seed gives the same draws on every platform.
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

void Sampler::ProcessLogits(std::span<const float> logits, const TokenMask* allowed,
                            std::vector<float>* out) const {
  if (logits.size() != static_cast<size_t>(vocab_size_)) {
    Bad("got " + std::to_string(logits.size()) + " logits for a vocabulary of " +
        std::to_string(vocab_size_));
  }
  if (allowed && allowed->size() != vocab_size_) {
    Bad("token mask of " + std::to_string(allowed->size()) + " for a vocabulary of " +
        std::to_string(vocab_size_));
  }
  out->assign(logits.begin(), logits.end());
  float* w = out->data();
  for (size_t i = 0; i < out->size(); ++i) {
    if (std::isnan(w[i])) w[i] = kNegInf;
  }
  for (const auto& [token, bias] : params_.logit_bias) w[token] += bias;
  if (allowed) {
    const auto& words = allowed->words();
    for (size_t wi = 0; wi < words.size(); ++wi) {
      uint64_t banned = ~words[wi];
      if (banned == 0) continue;
      size_t base = wi * 64;
      size_t end = std::min(base + 64, out->size());
      if (banned == ~uint64_t{0}) {
        std::fill(w + base, w + end, kNegInf);
        continue;
      }
      for (size_t i = base; i < end; ++i) {
        if ((banned >> (i - base)) & 1) w[i] = kNegInf;
      }
    }
  }
  if (params_.repetition_penalty != 1.0f && params_.repeat_last_n != 0) {
    auto penalise = [&](int32_t t) {
      if (t < 0 || t >= vocab_size_) return;
      float& v = w[t];
      v = v > 0 ? v / params_.repetition_penalty : v * params_.repetition_penalty;
    };
    if (params_.repeat_last_n < 0) {
      for (const auto& [t, n] : counts_) penalise(t);
    } else {
      std::unordered_set<int32_t> seen;
      for (int32_t t : recent_) {
        if (seen.insert(t).second) penalise(t);
      }
    }
  }
  if (params_.presence_penalty != 0.0f || params_.frequency_penalty != 0.0f) {
    for (const auto& [t, n] : counts_) {
      if (t < 0 || t >= vocab_size_) continue;
      w[t] -= params_.presence_penalty + params_.frequency_penalty * static_cast<float>(n);
    }
  }
}

SampledToken Sampler::Sample(std::span<const float> logits, const TokenMask* allowed) {
  ProcessLogits(logits, allowed, &work_);
  const float* w = work_.data();
  const float t = params_.temperature;
  const float inv_t = t > 0 ? 1.0f / t : 1.0f;

  SampledToken result;
  if (t == 0.0f) {
    int32_t best = -1;
    for (int32_t i = 0; i < vocab_size_; ++i) {
      if (Finite(w[i]) && (best < 0 || w[i] > w[best])) best = i;
    }
    if (best < 0) throw Error(ErrorCode::kUnprocessable, "sampling: no token is allowed");
    result.token = best;
  } else {
    candidates_.clear();
    for (int32_t i = 0; i < vocab_size_; ++i) {
      if (Finite(w[i])) candidates_.push_back({i, w[i] * inv_t, 0.0f});
    }
    if (candidates_.empty())
      throw Error(ErrorCode::kUnprocessable, "sampling: no token is allowed");
    auto desc = [](const Candidate& a, const Candidate& b) {
      return a.logit > b.logit || (a.logit == b.logit && a.token < b.token);
    };
    if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < candidates_.size()) {
      std::nth_element(candidates_.begin(), candidates_.begin() + params_.top_k, candidates_.end(),
                       desc);
      candidates_.resize(static_cast<size_t>(params_.top_k));
    }
    float max = kNegInf;
    for (const auto& c : candidates_) max = std::max(max, c.logit);
    if (params_.min_p > 0.0f) {
      // p >= min_p * p_max  <=>  logit >= max + log(min_p)
      float floor = max + std::log(params_.min_p);
      std::erase_if(candidates_, [&](const Candidate& c) { return c.logit < floor; });
    }
    for (auto& c : candidates_) c.weight = std::exp(c.logit - max);
    if (params_.top_p < 1.0f && candidates_.size() > 1) {
      // The smallest set of most likely tokens whose mass reaches top_p,
      // without sorting the vocabulary: bucket the candidates by distance
      // from the best logit (buckets are ordered like the logits), find the
      // bucket where the running mass crosses top_p, and sort that bucket
      // alone. Two passes, O(n).
      constexpr int kBuckets = 4096;
      constexpr float kSpan = 40.0f;  // logits further below the best share the last bucket
      const float scale = kBuckets / kSpan;
      auto bucket_of = [&](const Candidate& c) {
        float d = (max - c.logit) * scale;
        return d >= kBuckets - 1 ? kBuckets - 1 : static_cast<int>(d);
      };
      bucket_mass_.assign(kBuckets, 0.0);
      double total = 0;
      for (const auto& c : candidates_) {
        bucket_mass_[static_cast<size_t>(bucket_of(c))] += c.weight;
        total += c.weight;
      }
      double target = params_.top_p * total;
      double before = 0;  // mass of the buckets wholly kept
      int cut = kBuckets - 1;
      for (int b = 0; b < kBuckets; ++b) {
        if (before + bucket_mass_[static_cast<size_t>(b)] >= target) {
          cut = b;
          break;
        }
        before += bucket_mass_[static_cast<size_t>(b)];
      }
      // Kept buckets first, then the cut bucket, sorted.
      auto mid = std::partition(candidates_.begin(), candidates_.end(),
                                [&](const Candidate& c) { return bucket_of(c) < cut; });
      auto end = std::partition(mid, candidates_.end(), [&](const Candidate& c) { return bucket_of(c) == cut; });
      std::sort(mid, end, desc);
      auto keep = end;
      for (auto it = mid; it != end; ++it) {
        before += it->weight;
        if (before >= target) {
          keep = it + 1;
          break;
        }
      }
      candidates_.erase(keep, candidates_.end());
    }
    double sum = 0;
    for (const auto& c : candidates_) sum += c.weight;
    double u = Uniform() * sum;
    double cum = 0;
    result.token = candidates_.back().token;
    for (const auto& c : candidates_) {
      cum += c.weight;
      if (u < cum) {
        result.token = c.token;
        break;
      }
    }
  }

  if (params_.logprobs || params_.top_logprobs > 0) {
    float max = kNegInf;
    for (int32_t i = 0; i < vocab_size_; ++i) {
      if (Finite(w[i])) max = std::max(max, w[i] * inv_t);
    }
    double sum = 0;
    for (int32_t i = 0; i < vocab_size_; ++i) {
      if (Finite(w[i])) sum += std::exp(static_cast<double>(w[i] * inv_t - max));
    }
    double log_z = max + std::log(sum);
    auto logprob = [&](int32_t i) {
      return Finite(w[i]) ? static_cast<float>(w[i] * inv_t - log_z) : kNegInf;
    };
    result.logprob = logprob(result.token);
    if (params_.top_logprobs > 0) {
      // A min-heap of the best k seen so far.
      auto worse = [&](int32_t a, int32_t b) { return w[a] > w[b] || (w[a] == w[b] && a < b); };
      std::vector<int32_t> heap;
      size_t k = static_cast<size_t>(params_.top_logprobs);
      for (int32_t i = 0; i < vocab_size_; ++i) {
        if (!Finite(w[i])) continue;
        if (heap.size() < k) {
          heap.push_back(i);
          std::push_heap(heap.begin(), heap.end(), worse);
        } else if (worse(i, heap.front())) {
          std::pop_heap(heap.begin(), heap.end(), worse);
          heap.back() = i;
          std::push_heap(heap.begin(), heap.end(), worse);
        }
      }
      std::sort(heap.begin(), heap.end(), worse);
      for (int32_t i : heap) result.top_logprobs.push_back({i, logprob(i)});
    }
  }
  return result;
}

}  // namespace haip::infer
