// `haip synth`: a deterministic generator of synthetic FHIR R4 data for a
// Chinese general hospital. Output is NDJSON, one file per resource type
// (Patient.ndjson, Encounter.ndjson, ...). The same seed and patient count
// always give byte-identical files, whatever the thread count or platform.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace haip::synth {

struct SynthOptions {
  uint64_t patients = 0;
  uint64_t seed = 1;
  std::filesystem::path out_dir;
  int threads = 2;  // generator threads; output does not depend on it
};

struct SynthStats {
  uint64_t patients = 0;
  std::map<std::string, uint64_t> resources_by_type;  // "Patient" -> count
  uint64_t total_resources = 0;
  uint64_t bytes = 0;  // total size of the files written
  double seconds = 0;
};

// Writes <out_dir>/<ResourceType>.ndjson for every generated type, replacing
// existing files. Patients are generated in chunks and written as they
// complete, in index order, so memory use does not grow with `patients`.
// `progress` (optional) is called from one thread at a time with the number
// of patients written so far. Throws haip::Error: kBadRequest for invalid
// options or an output directory that cannot be created or written to,
// kInternal for write failures (e.g. disk full).
SynthStats Generate(const SynthOptions& options,
                    const std::function<void(uint64_t patients_done)>& progress = {});

// The resource types written, in file-writing order.
inline constexpr std::string_view kResourceTypes[] = {
    "Organization", "Location",    "Practitioner",      "Patient",   "Encounter",
    "Condition",    "Observation", "MedicationRequest", "Procedure", "DocumentReference",
};

// Largest supported patient count: resident ID numbers are unique per run,
// and the space of (region, birth date, sequence) combinations is finite.
uint64_t MaxPatients(uint64_t seed);

// GB 11643-1999 check character (ISO 7064 MOD 11-2) for the first 17 digits
// of a resident ID number: one of "0123456789X". Returns '\0' if `first17` is
// not 17 ASCII digits.
char IdCardCheckChar(std::string_view first17);
// 18 characters, 17 digits plus a matching check character.
bool IsValidIdCard(std::string_view id);

// Identifier systems. There is no HL7-registered URI for the Chinese resident
// ID card or for this demo hospital's numbers, so HAIP defines its own under
// a reserved example domain (RFC 2606).
inline constexpr std::string_view kIdCardSystem =
    "https://haip.example.org/fhir/sid/cn-resident-id";
inline constexpr std::string_view kMrnSystem = "https://haip.example.org/fhir/sid/mrn";
inline constexpr std::string_view kPhysicianLicenseSystem =
    "https://haip.example.org/fhir/sid/cn-physician-license";
inline constexpr std::string_view kOrganizationSystem =
    "https://haip.example.org/fhir/sid/organization";

}  // namespace haip::synth
