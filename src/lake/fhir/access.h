// Who may see which patient's identified data. Administrators and service
// accounts (interface engines) see every patient; a clinician sees the
// patients of their department — those with an Encounter whose service
// provider is that department — and, with a stated reason, any patient
// ("break-glass"), which the audit log flags. Researchers never see
// identified data here: they work on de-identified exports and cohorts.
#pragma once

#include <string>

#include "lake/fhir/store.h"
#include "security/principal.h"

namespace haip::lake {

struct PatientAccess {
  bool all = false;          // no restriction
  bool break_glass = false;  // unrestricted because the caller invoked break-glass
  PatientFilter filter;      // when !all: the SQL restriction on r.patient
};

// Throws Error(kForbidden) when the principal may see no identified data.
// `break_glass_reason` is the caller's stated reason, empty when none.
PatientAccess AccessFor(const security::Principal& principal, const std::string& break_glass_reason);

// Whether `access` covers the patient (always true for resources without one).
bool CanSeePatient(storage::Database& db, const PatientAccess& access, const std::string& patient_id);

}  // namespace haip::lake
