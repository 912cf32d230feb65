#include <algorithm>
#include <numeric>

#include "synth/dates.h"
#include "synth/generator.h"
#include "synth/model.h"
#include "synth/names.h"
#include "synth/rng.h"

namespace haip::synth {

namespace {

constexpr int kSequences = 996;  // 001..996; divisible by kMaxWeight
constexpr int kMaxWeight = 4;
constexpr int kMinAge = 16;
constexpr int kMaxAge = 95;
// Stream tags so that derived random streams never coincide with patients'.
constexpr uint64_t kStreamReferenceDate = 0x5EED'DA7E'0000'0001ULL;
constexpr uint64_t kStreamHospital = 0x5EED'0405'0000'0002ULL;
constexpr uint64_t kStreamIdentity = 0x5EED'1D1D'0000'0003ULL;

int AgeWeight(int age) {
  if (age < 30) return 1;
  if (age < 45) return 2;
  if (age < 60) return 3;
  if (age < 80) return 4;
  return 2;
}

}  // namespace

char IdCardCheckChar(std::string_view first17) {
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kCheck[] = "10X98765432";
  if (first17.size() != 17) return '\0';
  int sum = 0;
  for (int i = 0; i < 17; ++i) {
    char c = first17[static_cast<size_t>(i)];
    if (c < '0' || c > '9') return '\0';
    sum += (c - '0') * kWeights[i];
  }
  return kCheck[sum % 11];
}

bool IsValidIdCard(std::string_view id) {
  if (id.size() != 18) return false;
  char check = IdCardCheckChar(id.substr(0, 17));
  return check != '\0' && check == id[17];
}

IdentitySpace::IdentitySpace(uint64_t seed, int64_t ref_day) : seed_(seed) {
  per_day_ = Regions().size() * kSequences;
  block_ = per_day_ / kMaxWeight;
  CivilDate ref = CivilFromDays(ref_day);
  first_day_ = DaysFromCivil(ref.year - kMaxAge - 1, ref.month, ref.day) + 1;
  int64_t last_day = DaysFromCivil(ref.year - kMinAge, ref.month, ref.day);
  cumulative_.reserve(static_cast<size_t>(last_day - first_day_ + 1));
  uint64_t total = 0;
  for (int64_t d = first_day_; d <= last_day; ++d) {
    cumulative_.push_back(total);
    total += static_cast<uint64_t>(AgeWeight(AgeYears(d, ref_day))) * block_;
  }
  capacity_ = total;
  int bits = 2;
  while (bits < 64 && (uint64_t{1} << bits) < capacity_) bits += 2;
  half_bits_ = bits / 2;
  for (size_t i = 0; i < keys_.size(); ++i) keys_[i] = Mix(seed ^ kStreamIdentity, i);
  // An odd multiplier near the golden ratio, coprime with per_day_, scatters
  // the used prefix of each day's slots over all regions and both sexes.
  multiplier_ = (per_day_ * 618 / 1000) | 1;
  while (std::gcd(multiplier_, per_day_) != 1) multiplier_ += 2;
}

uint64_t IdentitySpace::Permute(uint64_t x) const {
  const uint64_t mask = (uint64_t{1} << half_bits_) - 1;
  // Balanced Feistel network over 2^(2*half_bits) values, cycle-walked into
  // [0, capacity): a keyed bijection, so distinct indices get distinct slots.
  do {
    uint64_t left = x >> half_bits_;
    uint64_t right = x & mask;
    for (uint64_t key : keys_) {
      uint64_t next = left ^ (Mix(key, right) & mask);
      left = right;
      right = next;
    }
    x = (left << half_bits_) | right;
  } while (x >= capacity_);
  return x;
}

IdentitySpace::Identity IdentitySpace::Assign(uint64_t index) const {
  uint64_t slot = Permute(index);
  auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), slot);
  size_t day_index = static_cast<size_t>(it - cumulative_.begin()) - 1;
  uint64_t within = slot - cumulative_[day_index];
  int64_t day = first_day_ + static_cast<int64_t>(day_index);
  uint64_t offset = Mix(seed_ ^ kStreamIdentity, static_cast<uint64_t>(day)) % per_day_;
  uint64_t e = static_cast<uint64_t>(
      (static_cast<unsigned __int128>(within) * multiplier_ + offset) % per_day_);
  return {day, static_cast<size_t>(e / kSequences), static_cast<int>(e % kSequences) + 1};
}

uint64_t MaxPatients(uint64_t seed) { return Context(seed).identities.capacity(); }

namespace {

int64_t ReferenceDay(uint64_t seed) {
  // Three years of possible "today"s keeps data recent without a wall clock.
  return DaysFromCivil(2023, 1, 1) + static_cast<int64_t>(Mix(seed, kStreamReferenceDate) % 1096);
}

}  // namespace

Context::Context(uint64_t s)
    : seed(s), seed_text(std::to_string(s)), ref_day(ReferenceDay(s)), identities(s, ref_day) {
  Rng rng(Mix(seed, kStreamHospital));
  auto regions = Regions();
  hospital_region = static_cast<size_t>(rng.Below(regions.size()));
  const Region& region = regions[hospital_region];
  auto prefixes = HospitalNamePrefixes();
  hospital_name = std::string(region.city) + prefixes[rng.Below(prefixes.size())] + "医院";
  hospital_code = std::string("H") + region.code + std::to_string(rng.Int(100, 999));
  auto streets = Streets();
  hospital_address_line =
      std::string(streets[rng.Below(streets.size())]) + std::to_string(rng.Int(1, 399)) + "号";
  auto titles = DoctorTitles();
  for (auto& dept : doctors) {
    for (size_t i = 0; i < dept.size(); ++i) {
      Person& doc = dept[i];
      doc.sex = rng.Chance(0.5) ? Sex::kMale : Sex::kFemale;
      RandomName(rng, doc.sex, doc.family, doc.given);
      // One chief, one associate chief, then attendings and residents.
      doc.title = titles[std::min<size_t>(i, titles.size() - 1)];
      doc.license = std::to_string(rng.Int(1, 5)) + std::string(region.code);
      for (int k = 0; k < 8; ++k) doc.license += static_cast<char>('0' + rng.Below(10));
    }
  }
}

char Interpret(const MeasureDef& def, Sex sex, double value) {
  double low = sex == Sex::kMale ? def.low_m : def.low_f;
  double high = sex == Sex::kMale ? def.high_m : def.high_f;
  if (def.has_low && value < low) return 'L';
  if (def.has_high && value > high) return 'H';
  return 'N';
}

}  // namespace haip::synth
