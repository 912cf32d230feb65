// Serializes the hospital and generated patients as FHIR R4 JSON, one
// resource per line, into per-type buffers.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "synth/model.h"

namespace haip::synth {

enum ResourceType : uint8_t {
  kOrganization,
  kLocation,
  kPractitioner,
  kPatient,
  kEncounter,
  kCondition,
  kObservation,
  kMedicationRequest,
  kProcedure,
  kDocumentReference,
  kResourceTypeCount
};

struct ResourceBuffers {
  std::array<std::string, kResourceTypeCount> data;
  std::array<uint64_t, kResourceTypeCount> counts{};

  void Clear() {
    for (auto& d : data) d.clear();
    counts.fill(0);
  }
};

// Organizations (hospital and departments), Locations (clinics and wards)
// and Practitioners (doctors of each department).
void WriteHospital(const Context& ctx, ResourceBuffers& out);
// The patient and everything in their record.
void WritePatient(const Context& ctx, const PatientRecord& p, ResourceBuffers& out);

}  // namespace haip::synth
