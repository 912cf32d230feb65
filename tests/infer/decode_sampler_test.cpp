// Sampler: greedy, temperature, truncation (top-k, top-p, min-p), penalties,
// logit bias, masks, seeds and logprobs.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <vector>

#include "core/error.h"
#include "infer/sampler.h"

namespace haip::infer {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

std::vector<float> LogitsOf(const std::vector<double>& probs) {
  std::vector<float> l;
  for (double p : probs) l.push_back(p > 0 ? static_cast<float>(std::log(p)) : kNegInf);
  return l;
}

// Frequencies of each token over n draws.
std::vector<double> Frequencies(Sampler& s, const std::vector<float>& logits, int n,
                                const TokenMask* mask = nullptr) {
  std::vector<double> f(logits.size(), 0.0);
  for (int i = 0; i < n; ++i) f[static_cast<size_t>(s.Sample(logits, mask).token)] += 1.0 / n;
  return f;
}

SamplingParams Seeded(uint64_t seed = 7) {
  SamplingParams p;
  p.seed = seed;
  return p;
}

TEST(Sampler, GreedyTakesTheLargestLogitAndTheLowestIdOnTies) {
  SamplingParams p = Seeded();
  p.temperature = 0;
  Sampler s(p, 5);
  EXPECT_EQ(s.Sample(std::vector<float>{0.1f, 3.0f, 2.0f, 3.0f, -1.0f}).token, 1);
  EXPECT_EQ(s.Sample(std::vector<float>{kNegInf, kNegInf, -5.0f, kNegInf, -6.0f}).token, 2);
}

TEST(Sampler, TemperatureOneFollowsTheSoftmax) {
  Sampler s(Seeded(), 3);
  auto f = Frequencies(s, LogitsOf({0.5, 0.3, 0.2}), 40000);
  EXPECT_NEAR(f[0], 0.5, 0.015);
  EXPECT_NEAR(f[1], 0.3, 0.015);
  EXPECT_NEAR(f[2], 0.2, 0.015);
}

TEST(Sampler, TemperatureSharpensAndFlattens) {
  // p_i^(1/T) renormalised: T = 0.5 squares the probabilities.
  SamplingParams p = Seeded();
  p.temperature = 0.5f;
  Sampler cold(p, 2);
  auto f = Frequencies(cold, LogitsOf({0.75, 0.25}), 40000);
  EXPECT_NEAR(f[0], 0.9, 0.01);  // 0.5625 / (0.5625 + 0.0625)
  p.temperature = 100.0f;
  Sampler hot(p, 2);
  f = Frequencies(hot, LogitsOf({0.75, 0.25}), 40000);
  EXPECT_NEAR(f[0], 0.5, 0.015);
}

TEST(Sampler, TopKKeepsTheKMostLikely) {
  SamplingParams p = Seeded();
  p.top_k = 2;
  Sampler s(p, 4);
  auto f = Frequencies(s, LogitsOf({0.1, 0.4, 0.2, 0.3}), 30000);
  EXPECT_EQ(f[0], 0.0);
  EXPECT_EQ(f[2], 0.0);
  EXPECT_NEAR(f[1], 0.4 / 0.7, 0.015);
  EXPECT_NEAR(f[3], 0.3 / 0.7, 0.015);
}

TEST(Sampler, TopPKeepsTheSmallestSetReachingP) {
  SamplingParams p = Seeded();
  p.top_p = 0.7f;  // 0.5 < 0.7 <= 0.5 + 0.3
  Sampler s(p, 3);
  auto f = Frequencies(s, LogitsOf({0.5, 0.3, 0.2}), 30000);
  EXPECT_EQ(f[2], 0.0);
  EXPECT_NEAR(f[0], 0.625, 0.015);
  p.top_p = 0.5f;  // the first token alone reaches it
  Sampler one(p, 3);
  f = Frequencies(one, LogitsOf({0.5, 0.3, 0.2}), 1000);
  EXPECT_NEAR(f[0], 1.0, 1e-9);
}

TEST(Sampler, MinPDropsTokensFarBelowTheBest) {
  SamplingParams p = Seeded();
  p.min_p = 0.5f;  // keep p >= 0.25
  Sampler s(p, 3);
  auto f = Frequencies(s, LogitsOf({0.5, 0.3, 0.2}), 30000);
  EXPECT_EQ(f[2], 0.0);
  EXPECT_NEAR(f[0], 0.625, 0.015);
}

TEST(Sampler, TopPOnALargeVocabularyMatchesAFullSort) {
  // 152k tokens: the growing partial sort must keep exactly the prefix a full
  // sort would.
  const int32_t n = 152064;
  std::mt19937_64 r(3);
  std::normal_distribution<float> d(0.0f, 2.0f);
  std::vector<float> logits(n);
  for (auto& x : logits) x = d(r);
  SamplingParams p = Seeded();
  p.top_p = 0.9f;
  Sampler s(p, n);
  std::vector<int32_t> order(n);
  for (int32_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)] ||
           (logits[static_cast<size_t>(a)] == logits[static_cast<size_t>(b)] && a < b);
  });
  double total = 0;
  float max = logits[static_cast<size_t>(order[0])];
  for (float x : logits) total += std::exp(static_cast<double>(x - max));
  std::vector<bool> kept(n, false);
  double cum = 0;
  for (int32_t t : order) {
    kept[static_cast<size_t>(t)] = true;
    cum += std::exp(static_cast<double>(logits[static_cast<size_t>(t)] - max));
    if (cum >= 0.9 * total) break;
  }
  for (int i = 0; i < 300; ++i) {
    int32_t t = s.Sample(logits).token;
    ASSERT_TRUE(kept[static_cast<size_t>(t)]) << "token " << t << " outside the top-p set";
  }
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
  SamplingParams p = Seeded();
  p.repetition_penalty = 2.0f;
  p.repeat_last_n = 2;
  Sampler s(p, 4);
  s.Accept(0);
  s.Accept(1);
  s.Accept(1);  // counted once
  std::vector<float> out;
  s.ProcessLogits(std::vector<float>{2.0f, -2.0f, 1.0f, 3.0f}, nullptr, &out);
  EXPECT_FLOAT_EQ(out[0], 2.0f);  // token 0 left the window of 2
  EXPECT_FLOAT_EQ(out[1], -4.0f);
  EXPECT_FLOAT_EQ(out[2], 1.0f);
  EXPECT_FLOAT_EQ(out[3], 3.0f);
  s.Accept(0);
  s.ProcessLogits(std::vector<float>{2.0f, -2.0f, 1.0f, 3.0f}, nullptr, &out);
  EXPECT_FLOAT_EQ(out[0], 1.0f);
  EXPECT_FLOAT_EQ(out[1], -4.0f);
}

TEST(Sampler, PresenceAndFrequencyPenaltiesCountEveryAcceptedToken) {
  SamplingParams p = Seeded();
  p.presence_penalty = 0.5f;
  p.frequency_penalty = 0.25f;
  Sampler s(p, 3);
  for (int i = 0; i < 3; ++i) s.Accept(0);
  s.Accept(2);
  std::vector<float> out;
  s.ProcessLogits(std::vector<float>{1.0f, 1.0f, 1.0f}, nullptr, &out);
  EXPECT_FLOAT_EQ(out[0], 1.0f - 0.5f - 0.75f);
  EXPECT_FLOAT_EQ(out[1], 1.0f);
  EXPECT_FLOAT_EQ(out[2], 1.0f - 0.5f - 0.25f);
  s.Reset();
  s.ProcessLogits(std::vector<float>{1.0f, 1.0f, 1.0f}, nullptr, &out);
  EXPECT_FLOAT_EQ(out[0], 1.0f);
}

TEST(Sampler, LogitBiasAndMaskRemoveTokens) {
  SamplingParams p = Seeded();
  p.logit_bias = {{0, kNegInf}, {2, 5.0f}};
  Sampler s(p, 4);
  TokenMask mask(4, true);
  mask.Clear(1);
  std::vector<float> out;
  s.ProcessLogits(std::vector<float>{9.0f, 9.0f, 0.0f, 1.0f}, &mask, &out);
  EXPECT_EQ(out[0], kNegInf);
  EXPECT_EQ(out[1], kNegInf);
  EXPECT_FLOAT_EQ(out[2], 5.0f);
  auto f = Frequencies(s, {9.0f, 9.0f, 0.0f, 1.0f}, 2000, &mask);
  EXPECT_EQ(f[0] + f[1], 0.0);
  EXPECT_GT(f[2], 0.9);

  TokenMask none(4, false);
  EXPECT_THROW(s.Sample(std::vector<float>{1, 1, 1, 1}, &none), Error);
}

TEST(Sampler, TheSameSeedGivesTheSameTokens) {
  std::vector<float> logits(1000);
  std::mt19937_64 r(1);
  for (auto& x : logits) x = std::uniform_real_distribution<float>(0, 3)(r);
  auto run = [&](uint64_t seed) {
    SamplingParams p = Seeded(seed);
    p.top_k = 50;
    p.top_p = 0.9f;
    Sampler s(p, 1000);
    std::vector<int32_t> out;
    for (int i = 0; i < 50; ++i) {
      out.push_back(s.Sample(logits).token);
      s.Accept(out.back());
    }
    return out;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
  // Reset rewinds to the seed.
  SamplingParams p = Seeded(42);
  Sampler s(p, 1000);
  int32_t first = s.Sample(logits).token;
  s.Sample(logits);
  s.Reset();
  EXPECT_EQ(s.Sample(logits).token, first);
}

TEST(Sampler, LogprobsAreLogSoftmaxOfTheProcessedLogits) {
  SamplingParams p = Seeded();
  p.temperature = 0;
  p.logprobs = true;
  p.top_logprobs = 3;
  p.logit_bias = {{3, kNegInf}};
  Sampler s(p, 5);
  std::vector<float> logits{1.0f, 3.0f, 2.0f, 10.0f, 0.5f};
  SampledToken t = s.Sample(logits);
  double z = std::exp(1.0) + std::exp(3.0) + std::exp(2.0) + std::exp(0.5);
  EXPECT_EQ(t.token, 1);
  EXPECT_NEAR(t.logprob, 3.0 - std::log(z), 1e-5);
  ASSERT_EQ(t.top_logprobs.size(), 3u);
  EXPECT_EQ(t.top_logprobs[0].token, 1);
  EXPECT_EQ(t.top_logprobs[1].token, 2);
  EXPECT_EQ(t.top_logprobs[2].token, 0);
  EXPECT_NEAR(t.top_logprobs[2].logprob, 1.0 - std::log(z), 1e-5);

  // With a temperature the distribution is the scaled one.
  p.temperature = 2.0f;
  p.top_k = 1;  // truncation does not change the reported logprobs
  Sampler warm(p, 5);
  t = warm.Sample(logits);
  double z2 = std::exp(0.5) + std::exp(1.5) + std::exp(1.0) + std::exp(0.25);
  EXPECT_EQ(t.token, 1);
  EXPECT_NEAR(t.logprob, 1.5 - std::log(z2), 1e-5);
}

TEST(Sampler, RejectsBadParameters) {
  auto bad = [](auto change) {
    SamplingParams p;
    change(p);
    EXPECT_THROW(Sampler(p, 10), Error);
  };
  bad([](SamplingParams& p) { p.temperature = -1; });
  bad([](SamplingParams& p) { p.top_p = 0; });
  bad([](SamplingParams& p) { p.top_p = 1.5f; });
  bad([](SamplingParams& p) { p.min_p = 1; });
  bad([](SamplingParams& p) { p.top_k = -1; });
  bad([](SamplingParams& p) { p.repetition_penalty = 0; });
  bad([](SamplingParams& p) { p.presence_penalty = 3; });
  bad([](SamplingParams& p) { p.top_logprobs = 21; });
  bad([](SamplingParams& p) { p.logit_bias = {{10, 1.0f}}; });
  Sampler ok(SamplingParams{}, 10);
  EXPECT_THROW(ok.Sample(std::vector<float>(9, 0.0f)), Error);
}

}  // namespace
}  // namespace haip::infer
