// The free-text scrubber behind Deidentifier::ScrubText (private to deid).
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>

#include "lake/deid/deid.h"

namespace haip::lake::deid {

// Transparent hashing so a string_view slice of the text can be looked up
// without building a std::string.
struct NameHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using NameSet = std::unordered_set<std::string, NameHash, std::equal_to<>>;

struct ScrubInput {
  const PatientContext* ctx = nullptr;  // patient strings removed verbatim
  int shift_days = 0;                   // 0: dates in the text are left as written
  int age_cap_years = 89;
  bool unlabelled_names = true;
  const NameSet* global_names = nullptr;  // names removed from every text
};

std::string ScrubFreeText(std::string_view text, const ScrubInput& in);

// Length in code points of a UTF-8 string.
size_t CodePoints(std::string_view s);

}  // namespace haip::lake::deid
