// Deterministic pseudo-random numbers for the synthetic data generator.
// std:: distributions are implementation-defined, so identical seeds could give
// different output with another standard library; everything here uses only
// integer arithmetic and IEEE +,-,*,/ so results are bit-identical everywhere.
#pragma once

#include <cstddef>
#include <cstdint>

namespace haip::synth {

constexpr uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Combines two words into one well-mixed word; used to derive independent
// streams from (seed, patient index) and (seed, purpose) pairs.
constexpr uint64_t Mix(uint64_t a, uint64_t b) {
  return SplitMix64(SplitMix64(a) ^ (b * 0xD1B54A32D192ED03ULL + 0x8CB92BA72F3D8DD7ULL));
}

// xoshiro256** (Blackman & Vigna): fast, small state, good statistical quality.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t x = seed;
    for (auto& s : s_) {
      x += 0x9E3779B97F4A7C15ULL;
      s = SplitMix64(x);
    }
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n) by multiply-shift (Lemire); the tiny bias is irrelevant here
  // and avoiding rejection keeps the number of draws per call fixed.
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  int Int(int lo, int hi) {  // inclusive
    return lo + static_cast<int>(Below(static_cast<uint64_t>(hi - lo + 1)));
  }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Range(double lo, double hi) { return lo + (hi - lo) * Unit(); }
  bool Chance(double p) { return Unit() < p; }
  // Approximately normal (Irwin-Hall sum of four uniforms, rescaled to unit
  // variance): no transcendental functions, whose last bits differ across libms.
  double Normal(double mean, double sd) {
    double s = Unit() + Unit() + Unit() + Unit() - 2.0;
    return mean + sd * s * 1.7320508075688772;
  }
  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Below(N)];
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace haip::synth
