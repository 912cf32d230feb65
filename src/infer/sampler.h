// Choosing the next token from a model's logits.
//
// Order of operations, for each step (docs/infer-decoding.md explains each):
//   1. logit_bias added; tokens outside the grammar mask (if any) removed.
//   2. repetition_penalty (llama.cpp): for each distinct token among the last
//      repeat_last_n accepted tokens, a positive logit is divided by the
//      penalty and a negative one multiplied by it.
//   3. presence_penalty and frequency_penalty (OpenAI): logit -= presence *
//      (count > 0) + frequency * count, counts over every accepted token.
//   4. temperature 0: the largest logit wins (lowest id on ties). Otherwise
//      logits are divided by the temperature, then top_k, min_p (relative to
//      the most likely token) and top_p (smallest set of most likely tokens
//      whose probability reaches top_p) keep a subset, and one token is drawn
//      from the renormalised distribution with a seeded std::mt19937_64.
// Logprobs are log-softmax over the logits after steps 1-3 and the
// temperature (1 when greedy), before top_k / min_p / top_p: the model's
// distribution as the request shaped it. Tokens removed by the grammar or a
// -inf bias have logprob -inf and are never listed in top_logprobs.
//
// Work per step is O(vocab), with no full sort: top_k uses nth_element, and
// top_p finds its cut from a histogram of the logits and sorts only the
// tokens in the bucket where the cut falls.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <unordered_map>
#include <vector>

#include "infer/grammar_constraint.h"

namespace haip::infer {

struct SamplingParams {
  float temperature = 1.0f;         // 0: greedy; otherwise > 0
  int32_t top_k = 0;                // 0: off
  float top_p = 1.0f;               // (0, 1]; 1: off
  float min_p = 0.0f;               // [0, 1); 0: off
  float repetition_penalty = 1.0f;  // > 0; 1: off
  int32_t repeat_last_n = 64;  // window of the repetition penalty; -1: every accepted token, 0: off
  float presence_penalty = 0.0f;        // OpenAI range [-2, 2]
  float frequency_penalty = 0.0f;       // OpenAI range [-2, 2]
  std::optional<uint64_t> seed;         // unset: seeded from std::random_device
  std::map<int32_t, float> logit_bias;  // token -> added to its logit (-inf bans it)
  int32_t top_logprobs = 0;             // 0..20 alternatives reported per token
  bool logprobs = false;                // report the chosen token's logprob

  // Throws haip::Error (kBadRequest) naming the first parameter out of range
  // (a logit_bias token outside [0, vocab_size) included).
  void Validate(int32_t vocab_size) const;
};

struct TokenLogprob {
  int32_t token = -1;
  float logprob = 0.0f;
};

struct SampledToken {
  int32_t token = -1;
  float logprob = 0.0f;                    // when params.logprobs or top_logprobs > 0
  std::vector<TokenLogprob> top_logprobs;  // most likely first
};

class Sampler {
 public:
  // Validates the parameters (see SamplingParams::Validate).
  Sampler(SamplingParams params, int32_t vocab_size);

  // Chooses a token. `logits` has one value per token (vocab_size); `allowed`
  // (optional) removes the tokens it does not set. Throws haip::Error
  // (kBadRequest) for logits of the wrong size, (kUnprocessable) when no token
  // is left. Does not record the token: call Accept.
  SampledToken Sample(std::span<const float> logits, const TokenMask* allowed = nullptr);

  // Records a token for the penalties (generated tokens; prompt tokens too
  // when they should count).
  void Accept(int32_t token);
  // Forgets accepted tokens and reseeds (the same seed starts the same run).
  void Reset();

  // Steps 1-3 of the pipeline into `out` (vocab_size values, -inf for removed
  // tokens); what Sample works from.
  void ProcessLogits(std::span<const float> logits, const TokenMask* allowed,
                     std::vector<float>* out) const;

  const SamplingParams& params() const { return params_; }

 private:
  struct Candidate {
    int32_t token;
    float logit;
    float weight;  // exp(logit - max), once truncation by top_k / min_p is done
  };
  double Uniform();

  SamplingParams params_;
  int32_t vocab_size_;
  std::mt19937_64 rng_;
  uint64_t seed_;
  std::deque<int32_t> recent_;                   // last repeat_last_n tokens
  std::unordered_map<int32_t, int32_t> counts_;  // every accepted token
  std::vector<float> work_;
  std::vector<Candidate> candidates_;
  std::vector<double> bucket_mass_;
};

}  // namespace haip::infer
