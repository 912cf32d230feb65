#include "synth/names.h"

namespace haip::synth {

void RandomName(Rng& rng, Sex sex, std::string& family, std::string& given) {
  // Compound surnames are rarer in reality (well under 1%); 3% makes them
  // reliably present in small demo data sets.
  if (rng.Chance(0.03)) {
    auto compound = CompoundSurnames();
    family = compound[rng.Below(compound.size())];
  } else {
    auto single = SingleSurnames();
    // Squaring a uniform draw favours the common surnames at the front.
    double u = rng.Unit();
    family = single[static_cast<size_t>(u * u * static_cast<double>(single.size()))];
  }
  auto chars = sex == Sex::kMale ? MaleGivenChars() : FemaleGivenChars();
  size_t first = rng.Below(chars.size());
  given = chars[first];
  if (rng.Chance(0.7)) {
    // Reduplicated given names (婷婷) exist but are rare for adults; skip the
    // first character by drawing from the remaining ones.
    size_t second = rng.Below(chars.size() - 1);
    given += chars[second >= first ? second + 1 : second];
  }
}

}  // namespace haip::synth
