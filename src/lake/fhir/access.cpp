#include "lake/fhir/access.h"

#include "lake/fhir/search_params.h"

namespace haip::lake {

namespace {
// Patients with an Encounter at an Organization named like the department.
constexpr const char* kDepartmentPatients =
    "SELECT enc.patient FROM fhir_resource enc "
    "JOIN fhir_index sp ON sp.type = 'Encounter' AND sp.id = enc.id AND sp.param = 'service-provider' "
    "JOIN fhir_index org ON org.type = 'Organization' AND org.id = sp.val AND org.param = 'name' "
    "WHERE enc.type = 'Encounter' AND enc.deleted = 0 AND org.val = ?";
}  // namespace

PatientAccess AccessFor(const security::Principal& p, const std::string& break_glass_reason) {
  using security::Role;
  PatientAccess a;
  if (p.Has(Role::kAdmin) || p.Has(Role::kService)) {
    a.all = true;
    return a;
  }
  if (!p.Has(Role::kClinician)) {
    throw Error(ErrorCode::kForbidden,
                "identified patient data is for clinicians; researchers use de-identified exports and cohorts");
  }
  if (!break_glass_reason.empty()) {
    a.all = true;
    a.break_glass = true;
    return a;
  }
  if (!p.department || p.department->empty()) {
    throw Error(ErrorCode::kForbidden, "your account has no department, so no patients are assigned to you; "
                                       "use break-glass (X-HAIP-Break-Glass: reason) in an emergency");
  }
  a.filter.sql = std::string("r.patient = '' OR r.patient IN (") + kDepartmentPatients + ")";
  a.filter.params = {NormalizeString(*p.department)};
  return a;
}

bool CanSeePatient(storage::Database& db, const PatientAccess& access, const std::string& patient_id) {
  if (access.all || patient_id.empty()) return true;
  auto res = db.Query(std::string("SELECT 1 FROM (") + kDepartmentPatients + ") x WHERE x.patient = ? LIMIT 1",
                      {access.filter.params.at(0), patient_id});
  return !res.empty();
}

}  // namespace haip::lake
