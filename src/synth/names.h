// Random Chinese personal names, shared by patients and staff.
#pragma once

#include <string>

#include "synth/rng.h"
#include "synth/tables.h"

namespace haip::synth {

// A surname (about 3% compound, e.g. 欧阳) and a one- or two-character given
// name chosen from characters typical for the sex.
void RandomName(Rng& rng, Sex sex, std::string& family, std::string& given);

}  // namespace haip::synth
