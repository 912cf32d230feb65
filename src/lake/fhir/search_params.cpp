#include "lake/fhir/search_params.h"

#include <map>
#include <set>

#include "core/clock.h"

namespace haip::lake {

namespace {
using P = ParamType;

// Parameters shared by clinical types that belong to a patient.
#define HAIP_PATIENT_PARAMS(subject_path)                                    \
  {"patient", P::kReference, subject_path}, {"subject", P::kReference, subject_path}

const std::map<std::string_view, std::vector<SearchParam>>& Registry() {
  static const std::map<std::string_view, std::vector<SearchParam>> r = {
      {"Patient",
       {{"identifier", P::kToken, "identifier"},
        {"name", P::kString, "name.family|name.given|name.text"},
        {"family", P::kString, "name.family"},
        {"given", P::kString, "name.given"},
        {"gender", P::kToken, "gender"},
        {"birthdate", P::kDate, "birthDate"},
        {"telecom", P::kToken, "telecom"},
        {"phone", P::kToken, "telecom"},
        {"address", P::kString, "address.text|address.line|address.city|address.district|address.state"},
        {"active", P::kToken, "active"},
        {"link", P::kReference, "link.other"}}},
      {"Practitioner",
       {{"identifier", P::kToken, "identifier"},
        {"name", P::kString, "name.family|name.given|name.text"},
        {"gender", P::kToken, "gender"},
        {"active", P::kToken, "active"}}},
      {"Organization",
       {{"identifier", P::kToken, "identifier"},
        {"name", P::kString, "name|alias"},
        {"type", P::kToken, "type"},
        {"partof", P::kReference, "partOf"},
        {"active", P::kToken, "active"}}},
      {"Location",
       {{"identifier", P::kToken, "identifier"},
        {"name", P::kString, "name|alias"},
        {"type", P::kToken, "type"},
        {"organization", P::kReference, "managingOrganization"},
        {"status", P::kToken, "status"}}},
      {"Encounter",
       {{"identifier", P::kToken, "identifier"},
        HAIP_PATIENT_PARAMS("subject"),
        {"status", P::kToken, "status"},
        {"class", P::kToken, "class"},
        {"type", P::kToken, "type"},
        {"date", P::kDate, "period"},
        {"participant", P::kReference, "participant.individual"},
        {"practitioner", P::kReference, "participant.individual"},
        {"location", P::kReference, "location.location"},
        {"service-provider", P::kReference, "serviceProvider"},
        {"reason-code", P::kToken, "reasonCode"},
        {"diagnosis", P::kReference, "diagnosis.condition"}}},
      {"Condition",
       {{"identifier", P::kToken, "identifier"},
        HAIP_PATIENT_PARAMS("subject"),
        {"code", P::kToken, "code"},
        {"category", P::kToken, "category"},
        {"clinical-status", P::kToken, "clinicalStatus"},
        {"verification-status", P::kToken, "verificationStatus"},
        {"encounter", P::kReference, "encounter"},
        {"onset-date", P::kDate, "onsetDateTime|onsetPeriod"},
        {"recorded-date", P::kDate, "recordedDate"}}},
      {"Observation",
       {{"identifier", P::kToken, "identifier"},
        HAIP_PATIENT_PARAMS("subject"),
        {"code", P::kToken, "code"},
        {"category", P::kToken, "category"},
        {"status", P::kToken, "status"},
        {"date", P::kDate, "effectiveDateTime|effectivePeriod|effectiveInstant"},
        {"value-quantity", P::kQuantity, "valueQuantity"},
        {"value-concept", P::kToken, "valueCodeableConcept"},
        {"component-code", P::kToken, "component.code"},
        {"encounter", P::kReference, "encounter"},
        {"performer", P::kReference, "performer"},
        {"based-on", P::kReference, "basedOn"}}},
      {"MedicationRequest",
       {{"identifier", P::kToken, "identifier"},
        HAIP_PATIENT_PARAMS("subject"),
        {"code", P::kToken, "medicationCodeableConcept"},
        {"medication", P::kReference, "medicationReference"},
        {"status", P::kToken, "status"},
        {"intent", P::kToken, "intent"},
        {"authoredon", P::kDate, "authoredOn"},
        {"encounter", P::kReference, "encounter"},
        {"requester", P::kReference, "requester"}}},
      {"MedicationAdministration",
       {{"identifier", P::kToken, "identifier"},
        HAIP_PATIENT_PARAMS("subject"),
        {"code", P::kToken, "medicationCodeableConcept"},
        {"status", P::kToken, "status"},
        {"effective-time", P::kDate, "effectiveDateTime|effectivePeriod"},
        {"context", P::kReference, "context"},
        {"encounter", P::kReference, "context"},
        {"request", P::kReference, "request"}}},
      {"Procedure",
       {{"identifier", P::kToken, "identifier"},
        HAIP_PATIENT_PARAMS("subject"),
        {"code", P::kToken, "code"},
        {"category", P::kToken, "category"},
        {"status", P::kToken, "status"},
        {"date", P::kDate, "performedDateTime|performedPeriod"},
        {"encounter", P::kReference, "encounter"},
        {"performer", P::kReference, "performer.actor"}}},
      {"DiagnosticReport",
       {{"identifier", P::kToken, "identifier"},
        HAIP_PATIENT_PARAMS("subject"),
        {"code", P::kToken, "code"},
        {"category", P::kToken, "category"},
        {"status", P::kToken, "status"},
        {"date", P::kDate, "effectiveDateTime|effectivePeriod"},
        {"issued", P::kDate, "issued"},
        {"encounter", P::kReference, "encounter"},
        {"result", P::kReference, "result"},
        {"based-on", P::kReference, "basedOn"}}},
      {"ServiceRequest",
       {{"identifier", P::kToken, "identifier"},
        HAIP_PATIENT_PARAMS("subject"),
        {"code", P::kToken, "code"},
        {"category", P::kToken, "category"},
        {"status", P::kToken, "status"},
        {"intent", P::kToken, "intent"},
        {"authored", P::kDate, "authoredOn"},
        {"encounter", P::kReference, "encounter"},
        {"requester", P::kReference, "requester"}}},
      {"AllergyIntolerance",
       {{"identifier", P::kToken, "identifier"},
        {"patient", P::kReference, "patient"},
        {"code", P::kToken, "code"},
        {"clinical-status", P::kToken, "clinicalStatus"},
        {"category", P::kToken, "category"},
        {"criticality", P::kToken, "criticality"},
        {"date", P::kDate, "recordedDate"}}},
      {"Immunization",
       {{"identifier", P::kToken, "identifier"},
        {"patient", P::kReference, "patient"},
        {"vaccine-code", P::kToken, "vaccineCode"},
        {"status", P::kToken, "status"},
        {"date", P::kDate, "occurrenceDateTime"},
        {"encounter", P::kReference, "encounter"}}},
      {"DocumentReference",
       {{"identifier", P::kToken, "identifier|masterIdentifier"},
        HAIP_PATIENT_PARAMS("subject"),
        {"type", P::kToken, "type"},
        {"category", P::kToken, "category"},
        {"status", P::kToken, "status"},
        {"date", P::kDate, "date"},
        {"encounter", P::kReference, "context.encounter"},
        {"author", P::kReference, "author"}}},
      {"ImagingStudy",
       {{"identifier", P::kToken, "identifier"},
        HAIP_PATIENT_PARAMS("subject"),
        {"status", P::kToken, "status"},
        {"started", P::kDate, "started"},
        {"modality", P::kToken, "series.modality"},
        {"encounter", P::kReference, "encounter"},
        {"instance", P::kToken, "series.instance.uid"}}},
      {"CarePlan",
       {{"identifier", P::kToken, "identifier"},
        HAIP_PATIENT_PARAMS("subject"),
        {"category", P::kToken, "category"},
        {"status", P::kToken, "status"},
        {"intent", P::kToken, "intent"},
        {"date", P::kDate, "period"},
        {"encounter", P::kReference, "encounter"}}},
      {"Claim",
       {{"identifier", P::kToken, "identifier"},
        {"patient", P::kReference, "patient"},
        {"status", P::kToken, "status"},
        {"use", P::kToken, "use"},
        {"created", P::kDate, "created"},
        {"encounter", P::kReference, "item.encounter"},
        {"provider", P::kReference, "provider"}}},
      {"ExplanationOfBenefit",
       {{"identifier", P::kToken, "identifier"},
        {"patient", P::kReference, "patient"},
        {"status", P::kToken, "status"},
        {"created", P::kDate, "created"},
        {"claim", P::kReference, "claim"},
        {"encounter", P::kReference, "item.encounter"},
        {"provider", P::kReference, "provider"}}},
  };
  return r;
}
#undef HAIP_PATIENT_PARAMS

void AddToken(const Json& v, const std::string& param, IndexRows& rows) {
  auto str = [](const Json& j, const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (v.is_string()) {
    rows.tokens.push_back({param, "", v.get<std::string>()});
  } else if (v.is_boolean()) {
    rows.tokens.push_back({param, "", v.get<bool>() ? "true" : "false"});
  } else if (v.is_object()) {
    if (auto c = v.find("coding"); c != v.end() && c->is_array()) {  // CodeableConcept
      for (const auto& coding : *c) {
        if (coding.is_object()) rows.tokens.push_back({param, str(coding, "system"), str(coding, "code")});
      }
      if (auto t = v.find("text"); t != v.end() && t->is_string()) {
        rows.strings.push_back({param + ":text", NormalizeString(t->get<std::string>())});
      }
    } else if (v.contains("value") && !v.contains("code")) {  // Identifier or ContactPoint
      if (v["value"].is_string()) rows.tokens.push_back({param, str(v, "system"), v["value"].get<std::string>()});
    } else if (v.contains("code")) {  // Coding
      rows.tokens.push_back({param, str(v, "system"), str(v, "code")});
    }
  }
}

void AddReference(const Json& v, const std::string& param, IndexRows& rows) {
  if (!v.is_object()) return;
  auto it = v.find("reference");
  if (it == v.end() || !it->is_string()) return;
  if (auto split = SplitReference(it->get<std::string>())) {
    rows.references.push_back({param, split->first, split->second});
  }
}

void AddDate(const Json& v, const std::string& param, IndexRows& rows) {
  if (v.is_string()) {
    if (auto r = DateRange(v.get<std::string>())) rows.dates.push_back({param, r->first, r->second});
  } else if (v.is_object()) {  // Period
    int64_t lo = INT64_MIN, hi = INT64_MAX;
    bool any = false;
    if (auto s = v.find("start"); s != v.end() && s->is_string()) {
      if (auto r = DateRange(s->get<std::string>())) lo = r->first, any = true;
    }
    if (auto e = v.find("end"); e != v.end() && e->is_string()) {
      if (auto r = DateRange(e->get<std::string>())) hi = r->second, any = true;
    }
    if (any) rows.dates.push_back({param, lo, hi});
  }
}

void AddQuantity(const Json& v, const std::string& param, IndexRows& rows) {
  if (!v.is_object()) return;
  auto val = v.find("value");
  if (val == v.end() || !val->is_number()) return;
  std::string system = v.value("system", std::string());
  std::string code = v.contains("code") && v["code"].is_string() ? v["code"].get<std::string>()
                                                                   : v.value("unit", std::string());
  rows.quantities.push_back({param, val->get<double>(), system, code});
}

void AddString(const Json& v, const std::string& param, IndexRows& rows) {
  if (v.is_string()) rows.strings.push_back({param, NormalizeString(v.get<std::string>())});
}
}  // namespace

const std::vector<std::string_view>& SupportedResourceTypes() {
  static const std::vector<std::string_view> types = [] {
    std::vector<std::string_view> t;
    for (const auto& [k, _] : Registry()) t.push_back(k);
    return t;
  }();
  return types;
}

bool IsSupportedType(std::string_view type) { return Registry().count(type) > 0; }

bool IsR4ResourceType(std::string_view type) {
  static const std::set<std::string_view> types = {
      "Account", "ActivityDefinition", "AdverseEvent", "AllergyIntolerance", "Appointment", "AppointmentResponse",
      "AuditEvent", "Basic", "Binary", "BiologicallyDerivedProduct", "BodyStructure", "Bundle",
      "CapabilityStatement", "CarePlan", "CareTeam", "CatalogEntry", "ChargeItem", "ChargeItemDefinition",
      "Claim", "ClaimResponse", "ClinicalImpression", "CodeSystem", "Communication", "CommunicationRequest",
      "CompartmentDefinition", "Composition", "ConceptMap", "Condition", "Consent", "Contract",
      "Coverage", "CoverageEligibilityRequest", "CoverageEligibilityResponse", "DetectedIssue", "Device", "DeviceDefinition",
      "DeviceMetric", "DeviceRequest", "DeviceUseStatement", "DiagnosticReport", "DocumentManifest", "DocumentReference",
      "EffectEvidenceSynthesis", "Encounter", "Endpoint", "EnrollmentRequest", "EnrollmentResponse", "EpisodeOfCare",
      "EventDefinition", "Evidence", "EvidenceVariable", "ExampleScenario", "ExplanationOfBenefit", "FamilyMemberHistory",
      "Flag", "Goal", "GraphDefinition", "Group", "GuidanceResponse", "HealthcareService",
      "ImagingStudy", "Immunization", "ImmunizationEvaluation", "ImmunizationRecommendation", "ImplementationGuide", "InsurancePlan",
      "Invoice", "Library", "Linkage", "List", "Location", "Measure",
      "MeasureReport", "Media", "Medication", "MedicationAdministration", "MedicationDispense", "MedicationKnowledge",
      "MedicationRequest", "MedicationStatement", "MedicinalProduct", "MedicinalProductAuthorization", "MedicinalProductContraindication", "MedicinalProductIndication",
      "MedicinalProductIngredient", "MedicinalProductInteraction", "MedicinalProductManufactured", "MedicinalProductPackaged", "MedicinalProductPharmaceutical", "MedicinalProductUndesirableEffect",
      "MessageDefinition", "MessageHeader", "MolecularSequence", "NamingSystem", "NutritionOrder", "Observation",
      "ObservationDefinition", "OperationDefinition", "OperationOutcome", "Organization", "OrganizationAffiliation", "Parameters",
      "Patient", "PaymentNotice", "PaymentReconciliation", "Person", "PlanDefinition", "Practitioner",
      "PractitionerRole", "Procedure", "Provenance", "Questionnaire", "QuestionnaireResponse", "RelatedPerson",
      "RequestGroup", "ResearchDefinition", "ResearchElementDefinition", "ResearchStudy", "ResearchSubject", "RiskAssessment",
      "RiskEvidenceSynthesis", "Schedule", "SearchParameter", "ServiceRequest", "Slot", "Specimen",
      "SpecimenDefinition", "StructureDefinition", "StructureMap", "Subscription", "Substance", "SubstanceNucleicAcid",
      "SubstancePolymer", "SubstanceProtein", "SubstanceReferenceInformation", "SubstanceSourceMaterial", "SubstanceSpecification", "SupplyDelivery",
      "SupplyRequest", "Task", "TerminologyCapabilities", "TestReport", "TestScript", "ValueSet",
      "VerificationResult", "VisionPrescription"};
  return types.count(type) > 0;
}

bool IsValidTypeName(std::string_view type) {
  if (type.empty() || type.size() > 64 || type[0] < 'A' || type[0] > 'Z') return false;
  for (char c : type) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

const std::vector<SearchParam>& ParamsFor(std::string_view type) {
  static const std::vector<SearchParam> none;
  auto it = Registry().find(type);
  return it == Registry().end() ? none : it->second;
}

const SearchParam* FindParam(std::string_view type, std::string_view name) {
  for (const auto& p : ParamsFor(type)) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

void CollectPath(const Json& node, std::string_view path, std::vector<const Json*>& out) {
  if (node.is_array()) {
    for (const auto& item : node) CollectPath(item, path, out);
    return;
  }
  if (path.empty()) {
    out.push_back(&node);
    return;
  }
  if (!node.is_object()) return;
  size_t dot = path.find('.');
  std::string key(path.substr(0, dot));
  auto it = node.find(key);
  if (it == node.end()) return;
  CollectPath(*it, dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1), out);
}

IndexRows ExtractIndex(const Json& resource) {
  IndexRows rows;
  std::string type = resource.value("resourceType", std::string());
  for (const auto& p : ParamsFor(type)) {
    std::string name(p.name);
    std::string_view paths = p.paths;
    while (!paths.empty()) {
      size_t bar = paths.find('|');
      std::vector<const Json*> values;
      CollectPath(resource, paths.substr(0, bar), values);
      for (const Json* v : values) {
        switch (p.type) {
          case P::kToken: AddToken(*v, name, rows); break;
          case P::kReference: AddReference(*v, name, rows); break;
          case P::kDate: AddDate(*v, name, rows); break;
          case P::kQuantity: AddQuantity(*v, name, rows); break;
          case P::kString: AddString(*v, name, rows); break;
        }
      }
      if (bar == std::string_view::npos) break;
      paths.remove_prefix(bar + 1);
    }
  }
  rows.patient = PatientIdOf(resource);
  return rows;
}

std::string PatientIdOf(const Json& resource) {
  if (resource.value("resourceType", std::string()) == "Patient") return resource.value("id", std::string());
  for (const char* key : {"subject", "patient"}) {
    auto it = resource.find(key);
    if (it == resource.end() || !it->is_object() || !it->contains("reference") || !(*it)["reference"].is_string()) continue;
    auto split = SplitReference((*it)["reference"].get<std::string>());
    if (split && split->first == "Patient") return split->second;
  }
  return "";
}

std::optional<std::pair<int64_t, int64_t>> DateRange(std::string_view s) {
  auto digits = [&](size_t pos, size_t n) -> int {
    if (pos + n > s.size()) return -1;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  int year = digits(0, 4);
  if (year < 0) return std::nullopt;
  auto ms = [](int y, int m, int d) {
    struct tm tm {};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    return static_cast<int64_t>(timegm(&tm)) * 1000;
  };
  if (s.size() == 4) return std::pair{ms(year, 1, 1), ms(year + 1, 1, 1)};
  if (s.size() < 7 || s[4] != '-') return std::nullopt;
  int month = digits(5, 2);
  if (month < 1 || month > 12) return std::nullopt;
  if (s.size() == 7) return std::pair{ms(year, month, 1), month == 12 ? ms(year + 1, 1, 1) : ms(year, month + 1, 1)};
  if (s.size() < 10 || s[7] != '-') return std::nullopt;
  int day = digits(8, 2);
  if (day < 1 || day > 31) return std::nullopt;
  if (s.size() == 10) return std::pair{ms(year, month, day), ms(year, month, day) + 86'400'000};
  std::string text(s);
  if (text.size() >= 16 && text.size() < 19 && text[13] == ':') text.insert(16, ":00");  // hh:mm without seconds
  try {
    int64_t t = clock::ParseIso8601(text);
    // A time is precise to the second (or the fraction given); index as one second.
    return std::pair{t, t + 1000};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string NormalizeString(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  std::string out(s.substr(b, e - b));
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<std::pair<std::string, std::string>> SplitReference(std::string_view ref) {
  // Absolute references to this server's base are not resolved here; the
  // store rewrites bundle-internal urn:uuid references before indexing.
  size_t slash = ref.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= ref.size()) return std::nullopt;
  std::string_view type = ref.substr(0, slash);
  std::string_view id = ref.substr(slash + 1);
  if (!IsValidTypeName(type) || id.find('/') != std::string_view::npos) return std::nullopt;
  return std::pair{std::string(type), std::string(id)};
}

}  // namespace haip::lake
